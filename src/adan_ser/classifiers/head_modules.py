"""The head and loss modules (torch) behind the names of :mod:`adan_ser.classifiers.heads`.

Heads map (batch, n_emb) embeddings to (batch, n_classes) logits, ``forward(emb, target=None)``;
losses are ``forward(logits, target, emb=None)`` → scalar batch mean. The margin maths lives in
:mod:`adan_ser.classifiers.margins`.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from adan_ser.classifiers import margins as M
from adan_ser.core.errors import AdanError


def as_integer(name: str, value) -> int:
    """``value`` as an int; A-softmax margins are integers (ψ is defined for integer m only)."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise AdanError(f"{name} must be an integer, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------ margins


def auto_margins(class_counts: Sequence[int], m0: int) -> np.ndarray:
    """(n_classes,) integer A-softmax margins, larger for rarer classes (Li et al.'s scheme).

    m_k = round(m0 + log2(median / count_k)), clipped to [max(1, m0 − 2), m0 + 1]: a class twice
    as frequent as the median class gets m0 − 1, four times m0 − 2 (the paper's majority groups),
    one at most half as frequent m0 + 1 (its minority group). ``median`` is over classes present;
    a class absent from the training fold gets m0 + 1.
    """
    counts = np.asarray(class_counts, dtype=float)
    present = counts > 0
    if not present.any():
        raise AdanError("class-specific-a-softmax: no class has training rows")
    median = float(np.median(counts[present]))
    with np.errstate(divide="ignore"):
        raw = m0 + np.log2(median / counts)
    return np.clip(np.round(raw), max(1, m0 - 2), m0 + 1).astype(np.int64)


def resolve_margins(margins, m0: int, class_counts: Sequence[int], classes: Optional[Sequence]) -> np.ndarray:
    """(n_classes,) integer margins from ``auto``, a per-class list, or a {class or "a,b": m} dict.

    Dict keys name a class, or a group of classes joined by commas; classes left out get ``m0``.
    """
    n = len(class_counts)
    if isinstance(margins, str):
        if margins != "auto":
            raise AdanError(f"class-specific-a-softmax: margins must be 'auto', a list or a dict, got {margins!r}")
        out = auto_margins(class_counts, as_integer("class-specific-a-softmax: m0", m0))
    elif isinstance(margins, Mapping):
        if classes is None:
            raise AdanError("class-specific-a-softmax: margins by class name need the class names")
        index = {str(c): i for i, c in enumerate(classes)}
        out = np.full(n, int(m0), dtype=np.int64)
        for key, m in margins.items():
            for label in str(key).split(","):
                label = label.strip()
                if label not in index:
                    raise AdanError(f"class-specific-a-softmax: margins name unknown class {label!r}")
                out[index[label]] = as_integer(f"class-specific-a-softmax: margin of {label}", m)
    else:
        out = np.asarray([as_integer("class-specific-a-softmax: margins", m) for m in margins], dtype=np.int64)
        if out.shape != (n,):
            raise AdanError(f"class-specific-a-softmax: {len(out)} margins for {n} classes")
    if (out < 1).any():
        raise AdanError(f"class-specific-a-softmax: margins must be integers ≥ 1, got {out.tolist()}")
    return out


# -------------------------------------------------------------------------------------- heads


class SoftmaxHead(nn.Linear):
    """Linear layer with bias: (batch, n_emb) → (batch, n_classes); ``target`` is ignored."""

    def forward(self, emb: torch.Tensor, target: Optional[torch.Tensor] = None) -> torch.Tensor:
        return super().forward(emb)


class CosineHead(nn.Module):
    """Class weights (n_classes, n_emb), L2-normalised, no bias; subclasses add the margin.

    Parameters
    ----------
    n_emb, n_classes : int
        Embedding size and number of classes.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_classes, n_emb)
        Class weight vectors, Xavier-uniform at start.
    """

    def __init__(self, n_emb: int, n_classes: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_classes, n_emb))
        nn.init.xavier_uniform_(self.weight)

    def cosine(self, emb: torch.Tensor) -> torch.Tensor:
        """(batch, n_classes) cos θ between each embedding and each class weight."""
        return F.normalize(emb, dim=1) @ F.normalize(self.weight, dim=1).T

    def margin_on(self, target: Optional[torch.Tensor]) -> bool:
        return target is not None and self.training


class ASoftmaxHead(CosineHead):
    """A-softmax (SphereFace) with one integer margin per class (all equal for plain A-softmax).

    Logits ‖x‖·cos θ_j; in training the target logit is (λ‖x‖cos θ_y + ‖x‖ψ_{m_y}(θ_y)) / (1 + λ)
    with λ annealed per optimiser step (:meth:`advance`) by :func:`margins.sphereface_lambda`.

    Parameters
    ----------
    n_emb, n_classes : int
        Embedding size and number of classes.
    margins : sequence of int, shape (n_classes,)
        Angular margin multiplier m ≥ 1 of each class.
    lambda_base, lambda_gamma, lambda_power, lambda_min : float
        λ = max(lambda_min, lambda_base · (1 + lambda_gamma · step)^(−lambda_power)); base and
        min ≥ 0 (``heads`` defaults: 1000, 0.12, 1, 5, SphereFace's schedule).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_classes, n_emb)
    margins : torch.Tensor of shape (n_classes,)
        int64 buffer of the margins.
    n_steps : int
        Optimiser steps counted by :meth:`advance`.

    Examples
    --------
    >>> import torch
    >>> head = ASoftmaxHead(8, 3, [4, 4, 2], lambda_base=1000.0, lambda_gamma=0.12,
    ...                     lambda_power=1.0, lambda_min=5.0)
    >>> emb, target = torch.randn(5, 8), torch.tensor([0, 1, 2, 0, 1])
    >>> head(emb, target).shape, head.eval()(emb).shape
    (torch.Size([5, 3]), torch.Size([5, 3]))
    >>> head.advance(); head.n_steps
    1
    """

    def __init__(self, n_emb: int, n_classes: int, margins: Sequence[int], lambda_base: float,
                 lambda_gamma: float, lambda_power: float, lambda_min: float):
        super().__init__(n_emb, n_classes)
        m = torch.as_tensor(np.asarray(margins, dtype=np.int64))
        if m.shape != (n_classes,) or (m < 1).any():
            raise AdanError(f"a-softmax: need {n_classes} integer margins ≥ 1, got {m.tolist()}")
        if float(lambda_min) < 0 or float(lambda_base) < 0:
            raise AdanError("a-softmax: lambda_base and lambda_min must be ≥ 0")
        self.register_buffer("margins", m)
        self.schedule = dict(base=float(lambda_base), gamma=float(lambda_gamma),
                             power=float(lambda_power), lambda_min=float(lambda_min))
        self.n_steps = 0  # optimiser steps taken; a Python int so reading it never syncs a GPU

    def lam(self) -> float:
        return M.sphereface_lambda(self.n_steps, **self.schedule)

    def advance(self) -> None:
        """Count one optimiser step (moves λ along its annealing schedule)."""
        self.n_steps += 1

    def forward(self, emb: torch.Tensor, target: Optional[torch.Tensor] = None) -> torch.Tensor:
        cos = self.cosine(emb)
        norm = emb.norm(dim=1)
        if not self.margin_on(target):
            return norm.unsqueeze(1) * cos
        return M.sphereface_logits(cos, norm, target, self.margins[target], self.lam())


class AMSoftmaxHead(CosineHead):
    """AM-softmax (CosFace): s·cos θ_j; in training the target logit is s·(cos θ_y − m).

    Parameters
    ----------
    n_emb, n_classes : int
        Embedding size and number of classes.
    s : float
        Logit scale (> 0; ``heads`` default 30).
    m : float
        Additive cosine margin (≥ 0; ``heads`` default 0.2).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_classes, n_emb)

    Examples
    --------
    >>> import torch
    >>> head = AMSoftmaxHead(8, 3, s=30.0, m=0.2)
    >>> emb, target = torch.randn(5, 8), torch.tensor([0, 1, 2, 0, 1])
    >>> head.train()(emb, target).shape, head.eval()(emb).shape
    (torch.Size([5, 3]), torch.Size([5, 3]))
    """

    def __init__(self, n_emb: int, n_classes: int, s: float, m: float):
        super().__init__(n_emb, n_classes)
        if float(s) <= 0 or float(m) < 0:
            raise AdanError(f"am-softmax: need s > 0 and m ≥ 0, got s={s!r}, m={m!r}")
        self.s, self.m = float(s), float(m)

    def forward(self, emb: torch.Tensor, target: Optional[torch.Tensor] = None) -> torch.Tensor:
        cos = self.cosine(emb)
        if not self.margin_on(target):
            return self.s * cos
        return M.cosface_logits(cos, target, self.s, self.m)


class ArcFaceHead(CosineHead):
    """ArcFace: s·cos θ_j; in training the target logit is s·cos(θ_y + m), m in radians.

    Parameters
    ----------
    n_emb, n_classes : int
        Embedding size and number of classes.
    s : float
        Logit scale (> 0; ``heads`` default 30).
    m : float
        Additive angular margin in radians, 0 ≤ m < π (``heads`` default 0.5).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_classes, n_emb)
    """

    def __init__(self, n_emb: int, n_classes: int, s: float, m: float):
        super().__init__(n_emb, n_classes)
        if float(s) <= 0 or not 0 <= float(m) < np.pi:
            raise AdanError(f"arcface: need s > 0 and 0 ≤ m < π, got s={s!r}, m={m!r}")
        self.s, self.m = float(s), float(m)

    def forward(self, emb: torch.Tensor, target: Optional[torch.Tensor] = None) -> torch.Tensor:
        cos = self.cosine(emb)
        if not self.margin_on(target):
            return self.s * cos
        return M.arcface_logits(cos, target, self.s, self.m)


# ------------------------------------------------------------------------------------- losses


class HeadLoss(nn.Module):
    """Base of the losses: ``forward(logits, target, emb=None)`` → scalar batch mean.

    ``weight``: (n_classes,) class weights in the cross-entropy term. ``needs_emb``: whether
    ``emb`` must be passed; ``balanced_sampling``: whether the training loop should draw batches
    with :func:`sample_weights` instead of shuffling.
    """

    needs_emb = False
    balanced_sampling = False

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.register_buffer("weight", weight)


class CrossEntropyLoss(HeadLoss):
    """Class-weighted cross-entropy (``F.cross_entropy``)."""

    def forward(self, logits, target, emb=None):
        return F.cross_entropy(logits, target, weight=self.weight)


class BalancedSamplingLoss(CrossEntropyLoss):
    """Cross-entropy; the training loop draws rows with replacement ∝ 1 / class count."""

    balanced_sampling = True


class FocalLoss(HeadLoss):
    """α·(1 − p_t)^γ·(−log p_t); on ArcFace logits this is APFL (Wen et al.).

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,)
        Class weights of the cross-entropy term.
    gamma : float
        Focusing exponent γ ≥ 0 (0: weighted cross-entropy; ``heads`` default 2).
    alpha : float
        Scale α > 0 (``heads`` default 1).

    Examples
    --------
    >>> import torch
    >>> loss = FocalLoss(torch.ones(3), gamma=2.0, alpha=1.0)
    >>> loss(torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1])).shape
    torch.Size([])
    """

    def __init__(self, weight: torch.Tensor, gamma: float, alpha: float):
        super().__init__(weight)
        if float(gamma) < 0 or float(alpha) <= 0:
            raise AdanError(f"focal: need gamma ≥ 0 and alpha > 0, got gamma={gamma!r}, alpha={alpha!r}")
        self.gamma, self.alpha = float(gamma), float(alpha)

    def forward(self, logits, target, emb=None):
        return M.focal_loss(logits, target, self.gamma, self.alpha, self.weight)


class ClassCenters(nn.Module):
    """Learnable class centres (n_classes, n_emb), zeros at start; ``forward(emb, target)`` is
    :func:`margins.center_pull`. The spectrogram models' γ3 term uses it beside any head's loss.

    Parameters
    ----------
    n_classes, n_emb : int
        Number of classes and embedding size.

    Attributes
    ----------
    centers : torch.nn.Parameter of shape (n_classes, n_emb)
    """

    def __init__(self, n_classes: int, n_emb: int):
        super().__init__()
        # Zeros: deterministic, and the pull term moves them to the class means from step one.
        self.centers = nn.Parameter(torch.zeros(int(n_classes), int(n_emb)))

    def forward(self, emb: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return M.center_pull(emb, self.centers, target)


class CenterLoss(HeadLoss):
    """Cross-entropy + center_weight · mean ½‖f − c_y‖² with learnable centres (n_classes, n_emb).

    The centres are parameters of this module: the optimiser must be given them with the model's.

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,)
        Class weights of the cross-entropy term.
    n_emb : int
        Embedding size.
    center_weight : float
        Weight of the centre term, ≥ 0 (``heads`` default 0.01).

    Attributes
    ----------
    centers : torch.nn.Parameter of shape (n_classes, n_emb)
        Zeros at start.

    Examples
    --------
    >>> import torch
    >>> loss = CenterLoss(torch.ones(3), n_emb=8, center_weight=0.01)
    >>> target = torch.tensor([0, 1, 2, 0, 1])
    >>> loss(torch.randn(5, 3), target, emb=torch.randn(5, 8)).shape, loss.needs_emb
    (torch.Size([]), True)
    """

    needs_emb = True

    def __init__(self, weight: torch.Tensor, n_emb: int, center_weight: float):
        super().__init__(weight)
        if float(center_weight) < 0:
            raise AdanError(f"center: center_weight must be ≥ 0, got {center_weight!r}")
        self.center_weight = float(center_weight)
        self.centers = nn.Parameter(torch.zeros(len(weight), n_emb))  # zeros, as ClassCenters

    def forward(self, logits, target, emb=None):
        if emb is None:
            raise AdanError("center loss needs the embeddings")
        pull = M.center_pull(emb, self.centers, target)
        return F.cross_entropy(logits, target, weight=self.weight) + self.center_weight * pull


def inverse_count_weights(class_counts: Sequence[int]) -> np.ndarray:
    """(n_classes,) max(count) / count; 0 for a class without rows (it contributes no term)."""
    counts = np.asarray(class_counts, dtype=float)
    return np.divide(counts.max(), counts, out=np.zeros(len(counts)), where=counts > 0)


def sample_weights(y_idx, n_classes: int) -> torch.Tensor:
    """(n_rows,) float64 draw weights 1 / count of each row's class: every class equally likely.

    For ``torch.multinomial(w, n, replacement=True, generator=g)`` in the training loop.
    """
    y = torch.as_tensor(np.asarray(y_idx) if not torch.is_tensor(y_idx) else y_idx, dtype=torch.long)
    counts = torch.bincount(y, minlength=n_classes).to(torch.float64)
    return 1.0 / counts[y]
