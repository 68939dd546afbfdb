"""Feature preprocessing shared by every classifier, and input checks.

The preprocessor is an sklearn ``Pipeline`` so that it is fitted on the training fold only and
then applied unchanged to the test fold (statistics never see test rows).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from sklearn.feature_selection import VarianceThreshold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from adan_ser.errors import AdanError

#: Group value the evaluation runner gives synthetic rows. Such rows have no speaker, so they
#: are never held out for validation: validating on them would measure the augmenter, not SER.
SYNTHETIC_GROUP = "__synthetic__"


def make_preprocessor() -> Pipeline:
    """Unfitted ``VarianceThreshold(0.0)`` → ``StandardScaler()``.

    Input (n_samples, n_features) in feature units; output (n_samples, n_kept) z-scores, where
    the features constant on the training rows are dropped (they would divide by zero).
    """
    return Pipeline([("drop_constant", VarianceThreshold(0.0)), ("scale", StandardScaler())])


def check_finite(X, names: Optional[Sequence[str]] = None, what: str = "features") -> np.ndarray:
    """Return X as a float (n_samples, n_features) array; AdanError if it holds NaN or ±inf.

    The message names the first (lowest-index) offending column, by ``names[j]`` when given
    (or the DataFrame's column names), else by its index, and the first row where it happens.
    """
    if names is None and hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AdanError(f"{what}: not numeric ({exc})") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise AdanError(f"{what}: expected a 2-D (samples, features) array, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, col])
        label = f"{names[col]!r} (index {col})" if names is not None else f"index {col}"
        raise AdanError(
            f"{what}: column {label} has {len(rows)} NaN/inf value(s), first at row {int(rows[0])}"
        )
    return arr


def holdout_groups(groups: np.ndarray) -> np.ndarray:
    """Sorted distinct groups that may be held out for validation (all but SYNTHETIC_GROUP)."""
    uniq = np.unique(np.asarray(groups).astype(str))
    return uniq[uniq != SYNTHETIC_GROUP]
