"""Attention pooling over time: a (B, T, D) sequence → one (B, D) or (B, 2D) vector.

``AttentionPooling``: softmax weights α (B, T) from a one-hidden-layer scorer
(Linear(D, H) → tanh → Linear(H, 1)), pooled = Σ_t α_t h_t (Zhou & Liu's attention layer).
``AttentiveStatsPooling``: the same weights give the weighted mean μ and the weighted standard
deviation σ = sqrt(max(Σ_t α_t h_t² − μ², eps)); pooled = μ ‖ σ (Okabe et al.'s attentive
statistics pooling, the "combined attentive pooling" option). The floor ``eps`` keeps σ and its
gradient finite when a channel is constant over time.
"""

from __future__ import annotations

import torch
from torch import nn

from adan_ser.core.torch_maths import sqrt_positive


class AttentionPooling(nn.Module):
    """(B, T, D) → ((B, D) pooled, (B, T) weights that sum to one over T)."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.out_dim = dim

    def weights(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.score(h).squeeze(-1), dim=1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = self.weights(h)
        return torch.einsum("bt,btd->bd", alpha, h), alpha


class AttentiveStatsPooling(AttentionPooling):
    """(B, T, D) → ((B, 2D) weighted mean ‖ weighted std, (B, T) weights)."""

    def __init__(self, dim: int, hidden: int = 64, eps: float = 1e-5):
        super().__init__(dim, hidden)
        self.eps = eps
        self.out_dim = 2 * dim

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = self.weights(h)
        mean = torch.einsum("bt,btd->bd", alpha, h)
        second = torch.einsum("bt,btd->bd", alpha, h * h)
        std = sqrt_positive(torch.clamp(second - mean * mean, min=self.eps))
        return torch.cat([mean, std], dim=1), alpha
