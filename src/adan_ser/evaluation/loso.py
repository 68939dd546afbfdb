"""Leave-one-group-out folds: one fold per speaker (EmoDB, RAVDESS) or per session (IEMOCAP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from adan_ser.errors import AdanError

#: cv.scheme in params → manifest column whose values are the held-out groups.
SCHEMES = {
    "leave-one-speaker-out": "speaker",
    "leave-one-session-out": "session",
}


@dataclass(frozen=True)
class Fold:
    """One split: ``train`` and ``test`` are integer row indices into the manifest."""

    name: str
    train: np.ndarray
    test: np.ndarray


def group_column(scheme: str) -> str:
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise AdanError(f"unknown cv.scheme {scheme!r}; known: {', '.join(SCHEMES)}") from None


def make_folds(groups: Sequence[str]) -> list[Fold]:
    """One fold per distinct group, in sorted order; the fold is named after its test group.

    ``groups``: (n_rows,) group label of every row. Needs at least two groups.
    """
    groups = np.asarray(groups).astype(str)
    names = np.unique(groups)
    if len(names) < 2:
        raise AdanError(f"leave-one-group-out needs at least 2 groups, found {len(names)}")
    idx = np.arange(len(groups))
    return [Fold(str(g), idx[groups != g], idx[groups == g]) for g in names]


def folds_for(manifest: pd.DataFrame, scheme: str) -> list[Fold]:
    """Folds of ``manifest`` (its row positions) for a ``cv.scheme`` name."""
    return make_folds(manifest[group_column(scheme)].to_numpy())
