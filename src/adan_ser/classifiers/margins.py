"""Margin-softmax maths on cosine similarities: pure tensor functions, no modules, no state.

Every function takes ``cos``, the (batch, n_classes) cosine between each L2-normalised embedding
and each L2-normalised class weight, and ``target``, the (batch,) int64 class index of each row.
Angles are in radians. The functions return (batch, n_classes) logits in which only the target
column carries the margin; the heads in :mod:`adan_ser.classifiers.heads` call them.

References: SphereFace (Liu et al. 2017, A-softmax), CosFace / AM-softmax (Wang et al. 2018),
ArcFace (Deng et al. 2019), focal loss (Lin et al. 2017).
"""

from __future__ import annotations

import functools
import math
from typing import Optional

import torch
from torch.nn import functional as F

from adan_ser.core.torch_maths import sqrt_positive

#: Cosines are kept this far inside [-1, 1]: acos and sqrt(1 - cos²) have infinite slopes at ±1.
COS_EPS = 1e-7


def clamp_cos(cos: torch.Tensor) -> torch.Tensor:
    """``cos`` clamped to [-1 + COS_EPS, 1 - COS_EPS] (rounding can push a cosine past ±1)."""
    return cos.clamp(-1.0 + COS_EPS, 1.0 - COS_EPS)


def chebyshev_cos_multiple(cos: torch.Tensor, m: torch.Tensor | int) -> torch.Tensor:
    """cos(m·θ) from cos θ as the Chebyshev polynomial T_m(cos θ); same shape as ``cos``.

    ``m``: a non-negative integer, or an integer tensor broadcastable to ``cos`` (per-row margins).
    A polynomial in cos θ has a finite gradient everywhere, unlike cos(m·acos(cos θ)) at θ = 0, π.
    The loop runs over the degree (≤ max m, a handful), not over samples.
    """
    m_t = torch.as_tensor(m, device=cos.device)
    top = int(m_t.max()) if m_t.numel() else 0
    prev, cur = torch.ones_like(cos), cos  # T_0, T_1
    out = torch.where(m_t == 0, prev, cos)
    for degree in range(2, top + 1):
        prev, cur = cur, 2.0 * cos * cur - prev
        out = torch.where(m_t == degree, cur, out)
    return out


def _interval(cos: torch.Tensor, m_t: torch.Tensor) -> torch.Tensor:
    """k = ⌊m·θ/π⌋ clipped to m − 1, counted as the thresholds cos(jπ/m), 1 ≤ j < m, that cos θ
    lies at or below; same shape as ``cos``, integer.

    No ``acos``: torch hands it to MKL's vector maths, whose last bits differ between CPU vendors
    (docs/reproducibility.md); the thresholds are constants and the comparisons exact.
    """
    top = int(m_t.max()) if m_t.numel() else 1
    return (cos.unsqueeze(-1) <= _thresholds(top, cos.dtype, cos.device)[m_t.long()]).sum(-1)


@functools.lru_cache(maxsize=16)
def _thresholds(top: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(top + 1, max(top − 1, 1)): row m holds cos(jπ/m) for 1 ≤ j < m, then −inf (never reached).

    Built once per (top, dtype, device) rather than at every forward pass; read-only.
    """
    table = torch.full((top + 1, max(top - 1, 1)), -math.inf, dtype=dtype)
    for m in range(2, top + 1):
        table[m, : m - 1] = torch.tensor([math.cos(j * math.pi / m) for j in range(1, m)], dtype=dtype)
    return table.to(device)


def sphereface_psi(cos: torch.Tensor, m: torch.Tensor | int) -> torch.Tensor:
    """ψ(θ) = (−1)^k·cos(m·θ) − 2k for θ ∈ [kπ/m, (k+1)π/m], k ∈ {0, …, m−1}; shape of ``cos``.

    ``cos``: cos θ (any shape); ``m``: integer margin ≥ 1, or an integer tensor broadcastable to
    ``cos`` (class-specific margins, one per row). ψ is continuous and decreasing on [0, π] and
    runs from 1 to −(2m − 1); m = 1 gives ψ = cos θ.
    """
    # A normalised dot product can leave [−1, 1] by a rounding step; T_m grows fast outside it.
    cos = cos.clamp(-1.0, 1.0)
    m_t = torch.as_tensor(m, device=cos.device)
    with torch.no_grad():  # k is piecewise constant: no gradient flows through it
        k = _interval(cos, m_t).to(cos.dtype)
    sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
    return sign * chebyshev_cos_multiple(cos, m_t) - 2.0 * k


def sphereface_lambda(
    step: int | float,
    base: float = 1000.0,
    gamma: float = 0.12,
    power: float = 1.0,
    lambda_min: float = 5.0,
) -> float:
    """SphereFace annealing weight λ = max(λ_min, base·(1 + γ·step)^(−power)); step = optimiser steps."""
    return max(float(lambda_min), float(base) * (1.0 + float(gamma) * float(step)) ** (-float(power)))


def _with_target(cos: torch.Tensor, target: torch.Tensor, target_logit: torch.Tensor) -> torch.Tensor:
    """``cos`` with column ``target[i]`` of row i replaced by ``target_logit[i]`` (out of place)."""
    mask = F.one_hot(target, cos.shape[1]).to(torch.bool)
    return torch.where(mask, target_logit.unsqueeze(1), cos)


def sphereface_logits(
    cos: torch.Tensor,
    x_norm: torch.Tensor,
    target: torch.Tensor,
    m: torch.Tensor | int,
    lam: float = 0.0,
) -> torch.Tensor:
    """A-softmax logits (batch, n_classes): ‖x‖·cos θ_j, target column annealed with λ:

        (λ·‖x‖·cos θ_y + ‖x‖·ψ(θ_y)) / (1 + λ)

    ``x_norm``: (batch,) embedding norms; ``m``: int or (batch,) per-row integer margins (the
    margin of each row's target class). λ = 0: the pure margin logit; λ → ∞: normalised-weight
    softmax ‖x‖·cos θ.
    """
    cos = cos.clamp(-1.0, 1.0)  # rounding can push a cosine of unit vectors past ±1
    cos_y = cos.gather(1, target.unsqueeze(1)).squeeze(1)
    target_cos = (lam * cos_y + sphereface_psi(cos_y, m)) / (1.0 + lam)
    return x_norm.unsqueeze(1) * _with_target(cos, target, target_cos)


def cosface_logits(cos: torch.Tensor, target: torch.Tensor, s: float, m: float) -> torch.Tensor:
    """AM-softmax / CosFace logits (batch, n_classes): s·cos θ_j, target column s·(cos θ_y − m)."""
    cos_y = cos.gather(1, target.unsqueeze(1)).squeeze(1)
    return s * _with_target(cos, target, cos_y - m)


def arcface_logits(cos: torch.Tensor, target: torch.Tensor, s: float, m: float) -> torch.Tensor:
    """ArcFace logits (batch, n_classes): s·cos θ_j, target column s·cos(θ_y + m).

    Where θ_y + m > π, cos(θ_y + m) would rise again with θ; the usual fallback
    cos θ_y − m·sin m keeps the target logit decreasing in θ_y. ``m`` in radians, 0 ≤ m < π.
    """
    cos = clamp_cos(cos)
    cos_y = cos.gather(1, target.unsqueeze(1)).squeeze(1)
    sin2 = 1.0 - cos_y * cos_y  # > 0: |cos_y| ≤ 1 − COS_EPS, so a finite slope
    sin_y = sqrt_positive(sin2)
    shifted = cos_y * math.cos(m) - sin_y * math.sin(m)
    target_cos = torch.where(cos_y >= math.cos(math.pi - m), shifted, cos_y - m * math.sin(m))
    return s * _with_target(cos, target, target_cos)


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float,
    alpha: float = 1.0,
    weight: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Mean focal loss α·(1 − p_t)^γ·(−log p_t) over the batch; a scalar.

    ``logits``: (batch, n_classes), already margin-adjusted for APFL (ArcFace + focal);
    ``weight``: optional (n_classes,) class weights, averaged like ``F.cross_entropy`` does
    (Σ w_y·l / Σ w_y), so γ = 0, α = 1 equals cross-entropy exactly.
    """
    logp_t = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    # 1 − p_t via expm1 keeps precision near p_t = 1; the floor keeps (·)^γ differentiable for γ < 1.
    one_minus = (-torch.expm1(logp_t)).clamp(min=1e-12)
    per_row = -float(alpha) * one_minus.pow(float(gamma)) * logp_t
    if weight is None:
        return per_row.mean()
    w = weight[target]
    return (w * per_row).sum() / w.sum()


def center_pull(emb: torch.Tensor, centers: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Centre loss term: mean over the batch of ½‖f_i − c_{y_i}‖².

    emb: (n, d) embeddings; centers: (n_classes, d); target: (n,) class indices. Returns a scalar.
    """
    return 0.5 * (emb - centers[target]).pow(2).sum(dim=1).mean()
