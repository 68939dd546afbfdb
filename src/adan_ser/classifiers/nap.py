"""Nuisance attribute projection (NAP): remove the directions in which training speakers differ.

A control for speaker normalisation that needs no audio of the test speaker: the nuisance subspace
is spanned by the top ``n_components`` principal directions of the training speakers' offsets
(:func:`~adan_ser.core.speaker_offsets.speaker_offsets`: each speaker's mean over its emotion
cells minus the class means, in z-units of the training rows), and every row, training or test, is
projected onto its orthogonal complement. Fitted on training rows only; the test speaker's rows are
only transformed. With S training speakers the offsets span at most S − 1 directions, so
``n_components`` is capped there (EmoDB leave-one-speaker-out: 8).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from adan_ser.core.speaker_offsets import speaker_offsets
from adan_ser.classifiers.torch_base import uar
from adan_ser.core.scaling import ZScaler

__all__ = ["NuisanceProjection", "ValidatedNuisanceProjection"]


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


class ValidatedNuisanceProjection(TransformerMixin, BaseEstimator):
    """:class:`NuisanceProjection` whose ``n_components`` is chosen on held-out training speakers.

    ``fit(X, y, groups)`` holds out the fold's inner-validation speakers
    (:func:`~adan_ser.contracts.folds.inner_validation_groups` of ``random_state`` and ``fold``, the speakers
    the DNN validates on), and for every candidate k fits the projection and a clone of
    ``estimator`` on the other training speakers and scores UAR on the held-out ones; the best k
    (the smallest on a tie) is then refitted on every training row. Only training rows are seen.

    Parameters
    ----------
    candidates : tuple of int, default=(0, 1, 2, 4, 8)
        The k tried; 0 (no projection) lets validation decline NAP.
    n_val_speakers : int, default=2
        Training speakers held out to choose k.
    estimator : estimator or None, default=None
        Classifier that scores each k (its ``fit(X, y)``/``predict``); None: a linear SVM, C = 0.001.
    random_state : int, default=0
        The run seed of the inner-validation draw.
    fold : str or None, default=None
        The fold's name (its test speaker), as the DNN passes it to the draw.

    Attributes
    ----------
    n_components_ : int
        The k chosen. ``validation_uar_`` : dict k → validation UAR (%), ``validation_speakers_`` :
        ndarray of the held-out speakers (empty when none could be held out: then k is the largest
        candidate that the offsets' rank allows, and ``validation_uar_`` is empty).
    projection_ : NuisanceProjection
        Fitted on every training row with ``n_components_``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat(np.arange(6), 20); y = np.tile([0, 1], 60)
    >>> X = rng.normal(size=(120, 5)) + np.outer(speakers - 2.5, [3, 0, 0, 0, 0])
    >>> X[:, 1] += 2 * y
    >>> nap = ValidatedNuisanceProjection(candidates=(0, 1), n_val_speakers=2).fit(X, y, groups=speakers)
    >>> nap.transform(X).shape, sorted(nap.validation_uar_)
    ((120, 5), [0, 1])
    """

    _parameter_constraints = {
        "candidates": ["array-like"],
        "n_val_speakers": [Interval(Integral, 1, None, closed="left")],
        "estimator": [None, HasMethods(["fit", "predict"])],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "fold": [None, str],
    }

    def __init__(self, candidates=(0, 1, 2, 4, 8), n_val_speakers: int = 2, estimator=None, random_state: int = 0,
                 fold=None):
        self.candidates = candidates
        self.n_val_speakers = n_val_speakers
        self.estimator = estimator
        self.random_state = random_state
        self.fold = fold

    def _scorer(self):
        from sklearn.base import clone

        if self.estimator is not None:
            return clone(self.estimator)
        from adan_ser.classifiers.svm import SVMClassifier

        return SVMClassifier(kernel="linear", C=0.001, random_state=self.random_state)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups):
        """Choose k on held-out training speakers, then fit on all of X (n, d) feature units."""
        from adan_ser.contracts.folds import inner_validation_groups

        X, y = validate_data(self, X, y, dtype=np.float64)
        groups = np.asarray(groups).astype(str)
        candidates = sorted({int(k) for k in self.candidates})
        if not candidates or candidates[0] < 0:
            raise ValueError(f"ValidatedNuisanceProjection: candidates must be integers ≥ 0, got {self.candidates!r}")
        held = inner_validation_groups(groups, self.n_val_speakers, self.random_state, self.fold)
        self.validation_speakers_ = np.asarray([] if held is None else held, dtype=str)
        self.validation_uar_ = {}
        classes, y_idx = np.unique(y, return_inverse=True)
        if held is not None:
            val = np.isin(groups, self.validation_speakers_)
            for k in candidates:
                nap = NuisanceProjection(k).fit(X[~val], y[~val], groups=groups[~val])
                model = self._scorer().fit(nap.transform(X[~val]), y[~val])
                pred = np.searchsorted(classes, np.asarray(model.predict(nap.transform(X[val]))))
                self.validation_uar_[k] = 100.0 * uar(y_idx[val], pred, len(classes))
            best = max(self.validation_uar_.values())
            k = min(c for c, v in self.validation_uar_.items() if v == best)
        else:
            k = candidates[-1]
        self.projection_ = NuisanceProjection(k).fit(X, y, groups=groups)
        self.n_components_ = self.projection_.n_components_
        return self

    def transform(self, X):
        """X (n, d) feature units → (n, d) with the chosen nuisance directions removed."""
        check_is_fitted(self, "projection_")
        return self.projection_.transform(X)
