"""Feature preprocessing shared by every classifier, and input checks.

The preprocessor is fitted on the training fold only and then applied unchanged to the test fold
(statistics never see test rows). Which training rows its statistics come from is
``classify.scale_on``: all the rows the classifier trains on (real and synthetic), or the fold's
real training rows alone, so that an augmenter cannot re-weight the features through the scaler.
The z-scores are then clipped to ``±classify.clip_z`` (:data:`~adan_ser.core.scaling.Z_CLIP`), so
rows far outside the fitted rows' range (audio copies, an unusual test speaker) cannot dominate the
linear kernel or stall its solver.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import VarianceThreshold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import Z_CLIP

#: ``classify.scale_on`` values: the training rows the preprocessor's statistics are fitted on.
SCALE_ON = ("real", "all")


class Preprocessor(TransformerMixin, BaseEstimator):
    """``VarianceThreshold(0.0)`` → ``StandardScaler()`` → clip to ``±clip``, fitted on chosen training rows.

    Input (n_samples, n_features) in feature units; output (n_samples, n_kept) z-scores in
    [−clip, clip], where the features constant on the fitted rows are dropped (they would divide by
    zero).
    :meth:`transform` applies the same statistics to every row, real, synthetic or test.

    Parameters
    ----------
    scale_on : {"real", "all"}, default="real"
        The rows the statistics are fitted on. ``"all"``: every row given to :meth:`fit`;
        ``"real"``: the rows marked in ``real_rows`` (the fold's real training rows; the
        evaluation runner passes the mask), and every row when no mask is given or none is
        marked (a classifier trained on synthetic rows alone has no real rows).
    clip : float or None, default=:data:`~adan_ser.core.scaling.Z_CLIP`
        Bound on the absolute z-score of every transformed row (``classify.clip_z``); None: no bound.

    Attributes
    ----------
    pipeline_ : Pipeline
        The fitted ``Pipeline([("drop_constant", ...), ("scale", ...)])``; indexing the
        preprocessor indexes it (``pre["scale"].mean_``, ``pre[0].get_support()``).
    n_fit_rows_ : int
        Rows the statistics were fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.normal(size=(8, 3)), np.ones(8)])  # last feature constant
    >>> real = np.arange(8) < 5                                      # 3 synthetic rows
    >>> pre = Preprocessor(scale_on="real").fit(X, real_rows=real)
    >>> pre.n_fit_rows_, pre.transform(X).shape, pre[0].get_support().tolist()
    (5, (8, 3), [True, True, True, False])
    """

    def __init__(self, scale_on: str = "real", clip: float | None = Z_CLIP):
        self.scale_on = scale_on
        self.clip = clip

    def fit(self, X, y=None, real_rows=None):
        """X: (n, d); real_rows: (n,) bool, True for a real training row, or None (all real)."""
        _check(self.scale_on, self.clip)
        X = np.asarray(X)
        rows = np.ones(len(X), dtype=bool)
        if self.scale_on == "real" and real_rows is not None:
            rows = np.asarray(real_rows, dtype=bool)
            if rows.shape != (len(X),):
                raise AdanError(f"real_rows has shape {rows.shape} for {len(X)} rows")
            if not rows.any():
                rows = np.ones(len(X), dtype=bool)
        n_real = int(rows.sum())
        # The runner puts the real rows first: fit on a view of that prefix, not a masked copy.
        fit_on = X if n_real == len(X) else X[:n_real] if rows[:n_real].all() else X[rows]
        self.pipeline_ = Pipeline([("drop_constant", VarianceThreshold(0.0)), ("scale", StandardScaler())])
        self.pipeline_.fit(fit_on)
        self.n_fit_rows_ = int(len(fit_on))
        return self

    def transform(self, X):
        # One new matrix per call: the scaler works in place on the column selection, which is a
        # copy of X unless no column was dropped (then it is X itself and must be copied).
        Z = self.pipeline_[0].transform(X)
        if np.may_share_memory(Z, X):
            Z = Z.copy()
        Z = self.pipeline_[1].transform(Z, copy=False)
        return Z if self.clip is None else np.clip(Z, -self.clip, self.clip, out=Z)

    def __getitem__(self, key):
        return self.pipeline_[key]


def _check(scale_on, clip) -> None:
    if scale_on not in SCALE_ON:
        raise AdanError(f"classify.scale_on must be one of {', '.join(SCALE_ON)}, got {scale_on!r}")
    if clip is not None and not clip > 0:
        raise AdanError(f"classify.clip_z must be a positive number of standard deviations or null, got {clip!r}")


def make_preprocessor(scale_on: str = "real", clip: float | None = Z_CLIP) -> Preprocessor:
    """Unfitted :class:`Preprocessor` (``VarianceThreshold(0.0)`` → ``StandardScaler()`` → clip).

    ``scale_on``: ``classify.scale_on``, the training rows its statistics come from (``"all"`` or
    ``"real"``); ``clip``: ``classify.clip_z`` (SDs, or None). A bad value → :class:`AdanError` naming the key.
    """
    _check(scale_on, clip)
    return Preprocessor(scale_on=scale_on, clip=clip)
