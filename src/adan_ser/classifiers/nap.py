"""Nuisance attribute projection (NAP): remove the directions in which training speakers differ.

A control for speaker normalisation that needs no audio of the test speaker: the nuisance subspace
is spanned by the top ``n_components`` principal directions of the training speakers' offsets
(:func:`~adan_ser.augment.generators.speakers.speaker_offsets`: each speaker's mean over its emotion
cells minus the class means, in z-units of the training rows), and every row, training or test, is
projected onto its orthogonal complement. Fitted on training rows only; the test speaker's rows are
only transformed. With S training speakers the offsets span at most S − 1 directions, so
``n_components`` is capped there (EmoDB leave-one-speaker-out: 8).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from adan_ser.augment.generators.speakers import speaker_offsets
from adan_ser.core.scaling import ZScaler

__all__ = ["NuisanceProjection"]


class NuisanceProjection(TransformerMixin, BaseEstimator):
    """Project out the top speaker-offset directions of the training speakers.

    Parameters
    ----------
    n_components : int, default=4
        Nuisance directions removed (k); capped at the rank of the training offsets (≤ S − 1).
        0 removes nothing (the transform is the identity).

    Attributes
    ----------
    components_ : ndarray of shape (k, n_features)
        Orthonormal nuisance directions in z-units of the training rows.
    scaler_ : ZScaler
        The training rows' per-feature mean and std (feature units).
    n_components_ : int
        Directions actually removed.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat(np.arange(6), 20); y = np.tile([0, 1], 60)
    >>> X = rng.normal(size=(120, 5)) + np.outer(speakers - 2.5, [3, 0, 0, 0, 0])
    >>> nap = NuisanceProjection(n_components=1).fit(X, y, groups=speakers)
    >>> round(float(abs(nap.components_[0, 0])), 1)
    1.0
    >>> nap.transform(X).shape
    (120, 5)
    """

    _parameter_constraints = {"n_components": [Interval(Integral, 0, None, closed="left")]}

    def __init__(self, n_components: int = 4):
        self.n_components = n_components

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups):
        """Learn the nuisance directions from training rows X (n, d) feature units, their labels y
        (n,) and speakers ``groups`` (n,)."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ValueError(f"NuisanceProjection: groups has shape {groups.shape} for {len(X)} rows")
        self.scaler_ = ZScaler().fit(X)
        _, _, _, offsets = speaker_offsets(self.scaler_.transform(X), y, groups)
        # The right singular vectors of the centred offsets (S, d) are the principal directions of
        # their scatter; an S × d SVD costs O(S² d), never a d × d eigenproblem.
        _, sv, vt = np.linalg.svd(offsets, full_matrices=False)
        rank = int(np.sum(sv > sv.max(initial=0.0) * 1e-10))
        self.n_components_ = min(self.n_components, rank)
        self.components_ = vt[: self.n_components_]
        return self

    def transform(self, X):
        """X (n, d) feature units → (n, d) feature units with the nuisance directions removed."""
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = self.scaler_.transform(X)
        Z = Z - (Z @ self.components_.T) @ self.components_
        return self.scaler_.inverse_transform(Z)
