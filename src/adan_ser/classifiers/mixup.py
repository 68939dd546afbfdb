"""Manifold mixup (Verma et al., ICML 2019) for the DNN: train on convex mixes of hidden states.

Each training batch picks one layer k uniformly from the input and the output of every hidden block
(Linear → [BatchNorm] → activation → Dropout), draws λ ~ Beta(α, α), mixes every row's state at k
with that of a random other row of the batch, runs the rest of the network on the mix and weights
the loss of the two rows' labels by λ and 1 − λ. A regulariser that flattens class boundaries in the
hidden space: a control for augmenters, which add rows instead. Draws come from torch's global
generator, which the classifier seeds per fit, so a seed gives the same training.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["hidden_blocks", "manifold_mixup_loss"]


def hidden_blocks(body: nn.Sequential) -> list[nn.Sequential]:
    """The hidden blocks of ``body``: a new block starts at every ``nn.Linear``."""
    blocks: list[list[nn.Module]] = []
    for layer in body:
        if isinstance(layer, nn.Linear) or not blocks:
            blocks.append([])
        blocks[-1].append(layer)
    return [nn.Sequential(*b) for b in blocks]


def manifold_mixup_loss(body: nn.Sequential, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                        xb: torch.Tensor, yb: torch.Tensor, alpha: float) -> torch.Tensor:
    """The mixed loss of one batch: ``xb`` (batch, n_features), ``yb`` (batch,) class indices;
    ``loss(embedding, targets)`` the head's training loss; ``alpha`` > 0 the Beta parameter.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU())
    >>> ce = lambda emb, y: nn.functional.cross_entropy(emb, y)
    >>> manifold_mixup_loss(body, ce, torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]), 0.4).shape
    torch.Size([])
    """
    blocks = hidden_blocks(body)
    k = int(torch.randint(len(blocks) + 1, (1,)))
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(len(xb), device=xb.device)
    h = xb
    for i in range(len(blocks) + 1):
        if i == k:
            h = lam * h + (1.0 - lam) * h[perm]
        if i < len(blocks):
            h = blocks[i](h)
    return lam * loss(h, yb) + (1.0 - lam) * loss(h, yb[perm])
