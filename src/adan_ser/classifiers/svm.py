"""Support-vector classifier with an optional speaker-grouped inner grid search.

``sklearn.svm.SVC`` is used for every kernel, ``kernel="linear"`` included. LinearSVC was
measured as the alternative on random standardized 480×4368 data, 7 classes (the eGeMAPS/ComParE
scale of EmoDB): SVC(kernel="linear") fitted in ~0.45 s, LinearSVC in ~1.1 s, so the
liblinear route buys nothing here and would change the loss (squared hinge, one-vs-rest) and
the decision_function shape between kernels.

Preprocessing is not inside: compose it with :func:`adan_ser.classifiers.factory.make_classifier`.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from adan_ser.classifiers.inputs import check_features, check_n_classes
from adan_ser.contracts.folds import SYNTHETIC_GROUP, holdout_groups
from adan_ser.core.errors import AdanError, InputError

#: More held-out speakers than this → GroupKFold with this many folds instead of LOGO,
#: to bound the inner-search cost (grid size × folds fits per outer fold).
MAX_LOGO_GROUPS = 5

_DEFAULT_C = [0.1, 1, 10, 100]
# "scale" is 1 / (n_features · Var(X)); the numeric values bracket it for z-normed
# inputs of ~100 to ~10 000 features.
_DEFAULT_GAMMA = ["scale", 1e-4, 1e-3, 1e-2]


def inner_splits(groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Speaker-disjoint (train_idx, test_idx) splits of one training fold.

    groups: (n_samples,) speaker per row. Leave-one-group-out for ≤ MAX_LOGO_GROUPS speakers,
    else GroupKFold(MAX_LOGO_GROUPS). Rows of SYNTHETIC_GROUP are always on the training side.
    Needs at least 2 distinct groups, one of them real.
    """
    g = np.asarray(groups).astype(str)
    real = holdout_groups(g)
    if len(real) < 1 or len(np.unique(g)) < 2:
        raise AdanError(
            f"inner search needs ≥ 2 groups, one of them a speaker; got {np.unique(g).tolist()}"
        )
    idx = np.arange(len(g))
    synth = idx[g == SYNTHETIC_GROUP]
    real_idx = idx[g != SYNTHETIC_GROUP]
    if len(real) <= MAX_LOGO_GROUPS:
        tests = [real_idx[g[real_idx] == r] for r in real]
    else:
        gkf = GroupKFold(n_splits=MAX_LOGO_GROUPS)
        tests = [real_idx[te] for _, te in gkf.split(real_idx, groups=g[real_idx])]
    splits = []
    for te in tests:
        tr = np.setdiff1d(real_idx, te)
        splits.append((np.sort(np.concatenate([tr, synth])), te))
    return splits


class SVMClassifier(ClassifierMixin, BaseEstimator):
    """``SVC`` wrapper; inputs are (n_samples, n_features) float arrays, labels any hashable.

    Parameters mirror SVC (``kernel``, ``C``, ``gamma``, ``class_weight``). With
    ``inner_search=True`` and ``groups`` passed to :meth:`fit`, ``GridSearchCV`` tunes
    ``grid`` (default: C ∈ {0.1, 1, 10, 100}, plus gamma ∈ {scale, 1e-4, 1e-3, 1e-2} for rbf)
    on speaker-disjoint splits of the training fold (:func:`inner_splits`), scoring balanced
    accuracy (UAR), then refits the best setting on the whole training fold.

    Fitted: ``classes_``, ``estimator_`` (the SVC), ``best_params_`` (the grid's winner, or
    the constructor's C/gamma when no search ran), ``cv_results_`` (search only, else None),
    ``n_features_in_``.
    """

    def __init__(
        self,
        kernel: str = "rbf",
        C: float = 1.0,
        gamma="scale",
        class_weight=None,
        inner_search: bool = False,
        grid: Optional[dict] = None,
        seed: int = 0,
    ):
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.class_weight = class_weight
        self.inner_search = inner_search
        self.grid = grid
        self.seed = seed

    def _svc(self) -> SVC:
        return SVC(
            kernel=self.kernel,
            C=self.C,
            gamma=self.gamma,
            class_weight=self.class_weight,
            random_state=self.seed,
        )

    def _grid(self) -> dict:
        if self.grid is not None:
            return {k: list(v) for k, v in dict(self.grid).items()}
        grid = {"C": list(_DEFAULT_C)}
        if self.kernel == "rbf":
            grid["gamma"] = list(_DEFAULT_GAMMA)
        return grid

    def fit(self, X, y, groups=None) -> "SVMClassifier":
        """X: (n_samples, n_features); y: (n_samples,); groups: (n_samples,) speakers or None."""
        X, y = check_features(self, X, y, reset=True, what="svm")
        check_n_classes(np.unique(y), "svm")
        self.cv_results_ = None
        searched = False
        if self.inner_search:
            if groups is None or len(np.unique(np.asarray(groups).astype(str))) < 2:
                # Without speakers a search would tune on utterances of training speakers,
                # optimistic in exactly the way LOSO is meant to avoid.
                warnings.warn("SVMClassifier: inner_search needs ≥ 2 groups; using fixed C/gamma")
            else:
                groups = np.asarray(groups)
                if len(groups) != len(X):
                    raise InputError(f"svm: groups has {len(groups)} entries for {len(X)} rows")
                search = GridSearchCV(
                    self._svc(),
                    self._grid(),
                    scoring="balanced_accuracy",
                    cv=inner_splits(groups),
                    refit=True,
                    n_jobs=1,
                    error_score="raise",
                )
                with warnings.catch_warnings():
                    # A held-out speaker may lack a class; balanced accuracy then warns per fold.
                    warnings.filterwarnings("ignore", message=".*y_pred contains classes not in")
                    search.fit(X, y)
                self.estimator_ = search.best_estimator_
                self.best_params_ = dict(search.best_params_)
                self.cv_results_ = search.cv_results_
                searched = True
        if not searched:
            self.estimator_ = self._svc().fit(X, y)
            self.best_params_ = {"C": self.C, "gamma": self.gamma}
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X) -> np.ndarray:
        """(n_samples,) labels drawn from ``classes_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(check_features(self, X, reset=False, what="svm"))

    def decision_function(self, X) -> np.ndarray:
        """(n_samples, n_classes) one-vs-rest scores ((n_samples,) for two classes, as SVC)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(check_features(self, X, reset=False, what="svm"))
