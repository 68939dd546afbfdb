"""What a latent augmenter makes of its inputs: the feature scaling, its seed streams, and the class
indices of the rows it is asked to generate.

Shapes: ``X`` (n, d) feature units; the networks see the (n, n_kept) scaled non-constant features.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from adan_ser.augment.generators.base import SEED
from adan_ser.augment.generators.persistence import to_builtin
from adan_ser.core.errors import InputError
from adan_ser.core.scaling import ZScaler

__all__ = ["MaxAbsScaler", "fit_scaling", "training_seeds", "extra_seeds", "sampling_seed",
           "class_indices"]


class MaxAbsScaler(ZScaler):
    """``scaling="maxabs"`` (the authors' code): centre 0, scale max|x| per feature, so a tanh
    decoder spans the training range. Fitted on non-constant features only, so no scale is 0."""

    def fit(self, X: np.ndarray) -> "MaxAbsScaler":
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = np.zeros(X.shape[1])
        self.scale_ = np.abs(X).max(axis=0)
        self.varies_ = self.scale_ > 0
        return self


def fit_scaling(X: np.ndarray, scaling: str, name: str) -> tuple[np.ndarray, np.ndarray, ZScaler]:
    """``(keep (d,) bool, constant values (d − n_kept,), scaler)`` fitted on ``X`` (n, d).

    Features constant in ``X`` are dropped (``keep`` False) and their value kept for the output;
    the others are mapped by a :class:`~adan_ser.core.scaling.ZScaler` (``scaling="znorm"``) or a
    :class:`MaxAbsScaler` (``"maxabs"``). Every feature constant → InputError naming ``name``.
    """
    X = np.asarray(X, dtype=np.float64)
    keep = np.ptp(X, axis=0) > 0
    if not keep.any():
        raise InputError(f"{name}: every feature is constant in the training data")
    constants = X[0, ~keep].copy()
    scaler = (ZScaler() if scaling == "znorm" else MaxAbsScaler()).fit(X[:, keep])
    return keep, constants, scaler


def training_seeds(seed) -> tuple[int, int, int]:
    """(weight-init, shuffle, noise) seeds derived from ``seed`` (fresh entropy when None)."""
    states = np.random.SeedSequence(seed).generate_state(3, dtype=np.uint64).tolist()
    return tuple(int(s >> 1) for s in states)


def extra_seeds(seed) -> tuple[int, int]:
    """(auxiliary-noise, probe) seeds: the 4th and 5th words of the same seed sequence.

    A seed sequence's words do not depend on how many are drawn, so the three streams of
    :func:`training_seeds` are untouched; the auxiliary stream feeds the optional regularisers
    (dropout masks, input and instance noise, interpolation weights, a second z), the probe
    stream the fixed z of the per-epoch diagnostics. Neither is drawn from unless used.
    """
    states = np.random.SeedSequence(seed).generate_state(5, dtype=np.uint64).tolist()
    return int(states[3] >> 1), int(states[4] >> 1)


def sampling_seed(seed, where: str) -> int:
    """``seed`` checked (a non-negative integer; InputError naming ``where``), fresh entropy for None."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    if not SEED.is_satisfied_by(seed):
        raise InputError(f"{where}: seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def class_indices(classes: np.ndarray, y, counts, name: str) -> np.ndarray:
    """(m,) int64 indices into ``classes`` of the rows to generate: of labels ``y`` (m,) in their
    order, or of ``counts`` {label: n} in ``classes`` order; exactly one of the two. Errors name
    ``name`` (the estimator)."""
    if (y is None) == (counts is None):
        raise InputError(f"{name}.sample: give exactly one of y (labels) or counts (label → n)")
    if counts is not None:
        if not isinstance(counts, dict):
            raise InputError(f"{name}.sample: counts must be a dict label → n, got {type(counts).__name__}")
        parts = []
        for label, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
                raise InputError(f"{name}.sample: count for {label!r} must be an integer >= 0, got {n!r}")
        known = {c: i for i, c in enumerate(classes.tolist())}
        unknown = [k for k in counts if to_builtin(k) not in known]
        if unknown:
            raise InputError(f"{name}.sample: unknown label {to_builtin(unknown[0])!r}; known: {classes.tolist()}")
        # classes order, not dict order: the same counts always give the same samples.
        resolved = {known[to_builtin(k)]: int(n) for k, n in counts.items()}
        for i in range(len(classes)):
            parts.append(np.full(resolved.get(i, 0), i, dtype=np.int64))
        return np.concatenate(parts)
    y = np.asarray(y).ravel()
    if y.size == 0:
        return np.empty(0, dtype=np.int64)
    missing = ~np.isin(y, classes)
    if missing.any():
        raise InputError(f"{name}.sample: unknown label {to_builtin(y[missing][0])!r}; known: {classes.tolist()}")
    return np.searchsorted(classes, y).astype(np.int64)
