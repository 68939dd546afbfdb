"""Classifier heads (embedding → class logits) and their training losses, for any torch classifier.

A model is ``body`` (inputs → (batch, n_emb) embedding), a head from :func:`make_head`, and a loss
from :func:`make_loss`. Training calls ``logits = head(emb, target)`` (the margin is applied to
each row's target class while the head is in training mode) and ``loss(logits, target, emb)``;
inference calls ``head(emb)``: plain (scaled) cosine logits, the linear layer for ``softmax``.

Names, as in params and in the ``head`` column of results: the head, then ``+loss`` when the loss
is not plain cross-entropy, e.g. ``arcface+focal`` (APFL). :func:`parse_head_name` splits them.

Every head and loss is one :class:`HeadSpec` in :data:`HEAD_SPECS` (its factory and its parameters
with their defaults); :data:`HEADS`, :data:`LOSSES`, :data:`HEAD_PARAMS`, :data:`LOSS_PARAMS` and
:data:`HEAD_NAMES` are views of them, so adding one is a module with its ``nn.Module`` and one
:func:`register` call. The modules live in :mod:`adan_ser.classifiers.head_modules`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from adan_ser.classifiers.head_modules import (  # noqa: F401  (the modules are part of this API)
    AMSoftmaxHead,
    ArcFaceHead,
    ASoftmaxHead,
    BalancedSamplingLoss,
    CenterLoss,
    ClassCenters,
    CosineHead,
    CrossEntropyLoss,
    FocalLoss,
    HeadLoss,
    SoftmaxHead,
    as_integer,
    auto_margins,
    inverse_count_weights,
    resolve_margins,
    sample_weights,
)
from adan_ser.core.errors import AdanError
from adan_ser.core.views import LiveMapping, LiveSequence


@dataclass(frozen=True)
class HeadSpec:
    """A head or a loss by name.

    Parameters
    ----------
    name : str
        As in params (``classify.heads``, ``classify.dnn.head``) and the ``head`` column of results.
    kind : {"head", "loss"}
        A head maps embeddings to logits; a loss follows a head after ``+`` (``arcface+focal``).
    factory : callable
        Head: ``factory(n_emb, n_classes, class_counts, classes, **params)`` → ``nn.Module``.
        Loss: ``factory(weight, n_emb, class_counts, **params)`` → :class:`HeadLoss`, ``weight``
        the (n_classes,) float64 class weights of the cross-entropy term.
    params : mapping
        The parameters it accepts (``classify.head_params.<name>``) with their defaults: the one
        place those defaults live.
    on : tuple of str
        Loss only: the heads the report lists it after (``softmax+focal``, ``arcface+focal``).
    """

    name: str
    kind: Literal["head", "loss"]
    factory: Callable
    params: Mapping = field(default_factory=dict)
    on: tuple = ()


#: Every head and loss by name, in registration order.
HEAD_SPECS: dict[str, HeadSpec] = {}


def register(spec: HeadSpec) -> HeadSpec:
    """Add ``spec`` (a new name) to :data:`HEAD_SPECS`; returns it."""
    if spec.name in HEAD_SPECS:
        raise AdanError(f"head or loss {spec.name!r} is already registered")
    if spec.kind not in ("head", "loss"):
        raise AdanError(f"head {spec.name!r}: kind {spec.kind!r} is not head or loss")
    HEAD_SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove head or loss ``name`` (e.g. a test's own)."""
    del HEAD_SPECS[name]


def _table(kind: str) -> LiveMapping:
    """``{name: defaults}`` of one kind's specs."""
    return LiveMapping(lambda: {s.name: dict(s.params) for s in HEAD_SPECS.values() if s.kind == kind})


def _names(kind: str) -> tuple:
    return tuple(s.name for s in HEAD_SPECS.values() if s.kind == kind)


HEADS = LiveSequence(lambda: _names("head"))
LOSSES = LiveSequence(lambda: _names("loss"))
#: The head names the report knows, in its order: every head, then each loss after its heads.
HEAD_NAMES = LiveSequence(lambda: _names("head") + tuple(
    f"{head}+{s.name}" for s in HEAD_SPECS.values() if s.kind == "loss" for head in s.on))
#: Parameters each head accepts, with their defaults.
HEAD_PARAMS = _table("head")
#: Parameters each loss accepts, with their defaults.
LOSS_PARAMS = _table("loss")


def parse_head_name(name: str) -> tuple[str, str]:
    """``"arcface+focal"`` → ``("arcface", "focal")``; ``"softmax"`` → ``("softmax", "ce")``."""
    text = str(name).strip()
    head, plus, loss = text.partition("+")
    loss = loss if plus else "ce"
    if head not in HEADS or loss not in LOSSES:
        raise AdanError(
            f"unknown head {name!r}; known heads: {', '.join(HEADS)}; losses after '+': "
            f"{', '.join(LOSSES)} (e.g. {', '.join(HEAD_NAMES)})"
        )
    return head, loss


def split_params(head: str, loss: str, params: Optional[Mapping]) -> tuple[dict, dict]:
    """Split one params block (e.g. ``classify.head_params.arcface+focal``) into head and loss kwargs."""
    head_kw, loss_kw = {}, {}
    for key, value in dict(params or {}).items():
        if key in HEAD_PARAMS[head]:
            head_kw[key] = value
        elif key in LOSS_PARAMS[loss]:
            loss_kw[key] = value
        else:
            known = sorted(set(HEAD_PARAMS[head]) | set(LOSS_PARAMS[loss]))
            raise AdanError(
                f"unknown parameter {key!r} for head {head}+{loss}; known: {', '.join(known) or 'none'}"
            )
    return head_kw, loss_kw


def _checked(kind: str, name: str, table: Mapping, params: Mapping) -> dict:
    unknown = set(params) - set(table[name])
    if unknown:
        raise AdanError(
            f"unknown {kind} parameter {sorted(unknown)[0]!r} for {name}; "
            f"known: {', '.join(table[name]) or 'none'}"
        )
    return {**table[name], **params}


def make_head(head: str, n_emb: int, n_classes: int, class_counts: Sequence[int],
              classes: Optional[Sequence] = None, **params) -> nn.Module:
    """Head module mapping (batch, n_emb) embeddings to (batch, n_classes) logits.

    ``class_counts``: (n_classes,) training-fold rows per class (class-specific margins use them);
    ``classes``: class labels in index order, only needed for margins given by class name;
    ``params``: the head's entries of :data:`HEAD_PARAMS`. ``forward(emb, target=None)``.

    Examples
    --------
    >>> head = make_head("class-specific-a-softmax", 8, 3, class_counts=[40, 20, 10])
    >>> type(head).__name__, head.margins.tolist()  # rarer classes get larger margins
    ('ASoftmaxHead', [3, 4, 5])
    """
    if head not in HEADS:
        raise AdanError(f"unknown head {head!r}; known: {', '.join(HEADS)}")
    p = _checked("head", head, HEAD_PARAMS, params)
    if len(class_counts) != n_classes:
        raise AdanError(f"{head}: {len(class_counts)} class counts for {n_classes} classes")
    return HEAD_SPECS[head].factory(n_emb, n_classes, class_counts, classes, **p)


def make_loss(loss: str, n_emb: int, n_classes: int, class_counts: Sequence[int],
              class_weight: Optional[Sequence[float]] = None, **params) -> HeadLoss:
    """Loss module ``forward(logits, target, emb)`` → scalar.

    ``class_weight``: (n_classes,) weights of the cross-entropy term (None: ones); ``weighted``
    multiplies them by max(count)/count from ``class_counts``; ``params``: :data:`LOSS_PARAMS`.

    Examples
    --------
    >>> head, loss = parse_head_name("softmax+weighted")
    >>> make_loss(loss, 8, 3, class_counts=[40, 20, 10]).weight.tolist()
    [1.0, 2.0, 4.0]
    """
    if loss not in LOSSES:
        raise AdanError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    p = _checked("loss", loss, LOSS_PARAMS, params)
    w = np.ones(n_classes) if class_weight is None else np.asarray(class_weight, dtype=float)
    if w.shape != (n_classes,) or len(class_counts) != n_classes:
        raise AdanError(f"{loss}: class weights and counts must have {n_classes} entries")
    return HEAD_SPECS[loss].factory(w, n_emb, class_counts, **p)


# ------------------------------------------------------------------------------ the built-in ones


def _a_softmax(n_emb, n_classes, class_counts, classes, m, **schedule):
    return ASoftmaxHead(n_emb, n_classes, [as_integer("a-softmax: m", m)] * n_classes, **schedule)


def _class_specific(n_emb, n_classes, class_counts, classes, margins, m0, **schedule):
    margins = resolve_margins(margins, as_integer("class-specific-a-softmax: m0", m0), class_counts, classes)
    return ASoftmaxHead(n_emb, n_classes, margins, **schedule)


def _tensor(w: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(w, dtype=torch.float32)


# SphereFace's λ schedule; CosFace's s, m grid middle; ArcFace's m = 0.5 rad
_LAMBDA = {"lambda_base": 1000.0, "lambda_gamma": 0.12, "lambda_power": 1.0, "lambda_min": 5.0}
for _spec in (
    HeadSpec("softmax", "head", lambda n_emb, n_classes, counts, classes: SoftmaxHead(n_emb, n_classes)),
    HeadSpec("a-softmax", "head", _a_softmax, {"m": 4, **_LAMBDA}),
    HeadSpec("class-specific-a-softmax", "head", _class_specific, {"m0": 4, "margins": "auto", **_LAMBDA}),
    HeadSpec("am-softmax", "head", lambda n_emb, n_classes, counts, classes, **p: AMSoftmaxHead(n_emb, n_classes, **p),
             {"s": 30.0, "m": 0.2}),
    HeadSpec("arcface", "head", lambda n_emb, n_classes, counts, classes, **p: ArcFaceHead(n_emb, n_classes, **p),
             {"s": 30.0, "m": 0.5}),
    HeadSpec("ce", "loss", lambda w, n_emb, counts: CrossEntropyLoss(_tensor(w))),
    HeadSpec("focal", "loss", lambda w, n_emb, counts, **p: FocalLoss(_tensor(w), **p), {"gamma": 2.0, "alpha": 1.0},
             on=("softmax", "arcface")),
    HeadSpec("center", "loss", lambda w, n_emb, counts, **p: CenterLoss(_tensor(w), n_emb, **p),
             {"center_weight": 0.01}, on=("softmax",)),
    HeadSpec("weighted", "loss", lambda w, n_emb, counts: CrossEntropyLoss(_tensor(w * inverse_count_weights(counts))),
             on=("softmax",)),
    HeadSpec("balanced-sampling", "loss", lambda w, n_emb, counts: BalancedSamplingLoss(_tensor(w)), on=("softmax",)),
):
    register(_spec)
del _spec
