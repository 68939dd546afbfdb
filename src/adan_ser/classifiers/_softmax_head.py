"""Minimal stand-in for ``adan_ser.classifiers.heads`` (the margin-heads module), softmax only.

Same call names and signatures as that module's contract, so ``classifiers/spectro.py`` does not
change when the real module is present (it is imported first; this one is the fallback).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from adan_ser.errors import AdanError

HEADS = {"softmax": ("linear", "ce")}


def parse_head_name(name: str) -> tuple[str, str]:
    """Head name in params → (head, loss); only ``softmax`` = (linear, ce) here."""
    if name not in HEADS:
        raise AdanError(f"unknown head {name!r}; known: {', '.join(HEADS)} (margin heads need classifiers/heads.py)")
    return HEADS[name]


class _Linear(nn.Linear):
    def forward(self, emb: torch.Tensor, target: Optional[torch.Tensor] = None) -> torch.Tensor:
        return super().forward(emb)


class _CrossEntropy(nn.Module):
    def __init__(self, weight: Optional[torch.Tensor]):
        super().__init__()
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target, weight=self.weight)


def make_head(head: str, n_emb: int, n_classes: int, class_counts, **params) -> nn.Module:
    """(batch, n_emb) → (batch, n_classes) logits; ``forward(emb, target=None)``."""
    if head != "linear" or params:
        raise AdanError(f"head {head!r} with params {sorted(params)} needs classifiers/heads.py")
    return _Linear(n_emb, n_classes)


def make_loss(loss: str, n_emb: int, n_classes: int, class_counts, class_weight=None, **params) -> nn.Module:
    """Scalar loss module; ``forward(logits, target, emb)``. class_weight: (n_classes,) or None."""
    if loss != "ce" or params:
        raise AdanError(f"loss {loss!r} with params {sorted(params)} needs classifiers/heads.py")
    w = None if class_weight is None else torch.as_tensor(np.asarray(class_weight), dtype=torch.float32)
    return _CrossEntropy(w)
