"""Support-vector classifier with an optional speaker-grouped inner grid search.

Two solvers for the linear kernel, chosen by ``solver`` (``auto`` picks by training-set size):

* ``libsvm``: ``sklearn.svm.SVC(kernel="linear")``; SMO on the kernel matrix, cost growing
  faster than n in the training rows (n^1.33 from 500 to 8000 IS11 rows at C 0.001, n^1.96 at
  larger C; docs/scaling.md). As fast as liblinear below ~1000 rows.
* ``liblinear``: :class:`LinearOvO`, the same problem solved pairwise by liblinear's dual
  coordinate descent (``LinearSVC(loss="hinge", dual=True)``, cost ~n per pass): one-vs-one like
  libsvm, hinge loss like libsvm, the same per-class C weights, so only the bias (liblinear
  regularises it, softened by ``intercept_scaling``) and the stopping rule differ.

Every other kernel always uses libsvm. Preprocessing is not inside: compose it with
:func:`adan_ser.classifiers.factory.make_classifier`.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.svm import SVC, LinearSVC
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from adan_ser.classifiers.inputs import check_features, check_n_classes
from adan_ser.contracts.folds import SYNTHETIC_GROUP, holdout_groups
from adan_ser.core.constraints import check_params
from adan_ser.core.errors import AdanError, InputError

#: More held-out speakers than this → GroupKFold with this many folds instead of LOGO,
#: to bound the inner-search cost (grid size × folds fits per outer fold).
MAX_LOGO_GROUPS = 5

#: ``solver: auto`` uses liblinear for a linear kernel from this many training rows on: the smallest
#: measured size at which it fitted ≥ 1.5 × faster than libsvm on IS11 (CPU s at 500 / 1000 / 2000 /
#: 8000 rows: libsvm 0.56 / 1.79 / 4.76 / 22.7, liblinear 0.62 / 1.29 / 2.74 / 12.5;
#: benchmarks/svm_solver.py, docs/scaling.md). Every EmoDB fold with ratio-1 synthetic rows (≤ 1000
#: rows) stays on libsvm, so its figures are unchanged.
LIBLINEAR_MIN_ROWS = 2000

SOLVERS = ("auto", "libsvm", "liblinear")

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


def resolve_solver(solver: str, kernel: str, n_rows: int) -> str:
    """``libsvm`` or ``liblinear`` for a fit on ``n_rows`` rows (see :data:`LIBLINEAR_MIN_ROWS`).

    ``liblinear`` exists for the linear kernel only: asked for with another kernel it is refused.
    """
    if solver not in SOLVERS:
        raise AdanError(f"svm: solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if solver == "liblinear" and kernel != "linear":
        raise AdanError(f"svm: solver 'liblinear' needs kernel 'linear', got {kernel!r}")
    if solver == "auto":
        return "liblinear" if kernel == "linear" and n_rows >= LIBLINEAR_MIN_ROWS else "libsvm"
    return solver


def ovr_scores(pair_scores: np.ndarray, pairs: np.ndarray, n_classes: int) -> np.ndarray:
    """SVC's one-vs-rest view of one-vs-one decisions: votes plus squashed summed confidences.

    pair_scores: (n_samples, n_pairs), positive for the pair's second class; pairs: (n_pairs, 2)
    class indices (i < j). Returns (n_samples, n_classes), as ``SVC.decision_function`` with
    ``decision_function_shape="ovr"`` builds it (the confidence term lies in (-1/3, 1/3), so it
    only orders classes with equal votes).
    """
    wins_j = (pair_scores > 0).astype(float)
    # one-hot (n_pairs, n_classes) maps of each pair's first and second class
    first = np.eye(n_classes)[pairs[:, 0]]
    second = np.eye(n_classes)[pairs[:, 1]]
    votes = (1.0 - wins_j) @ first + wins_j @ second
    conf = pair_scores @ second - pair_scores @ first
    return votes + conf / (3.0 * (np.abs(conf) + 1.0))


class LinearOvO(ClassifierMixin, BaseEstimator):
    """Linear SVM, one-vs-one, solved by liblinear: the problem ``SVC(kernel="linear")`` solves.

    Each class pair gets ``LinearSVC(loss="hinge", dual=True)`` (libsvm's loss; the dual, since the
    hinge loss has no primal liblinear solver) on that pair's rows, with ``class_weight`` computed
    on the whole training set as libsvm does (per-row weights scale C). Cost per pass over the data:
    O(n_samples x n_features), against libsvm's ~n_samples^2 kernel evaluations. A fit costs at
    most ``max_iter`` x 2 x n_samples x n_features / n_classes per pair; liblinear's convergence
    warning is silenced and ``n_iter_`` records the passes used.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength, as SVC's (> 0).
    class_weight : {"balanced"}, dict or None, default=None
        Per-class multipliers of C, computed on the whole training set; None: all 1.
    intercept_scaling : float, default=10.0
        liblinear penalises the bias as a weight on a constant feature of this value; 10 makes
        that penalty ~1 % of the unit-feature one, close to libsvm's unpenalised bias.
    tol : float, default=0.1
        Stopping tolerance: liblinear's own default for its dual solvers (scikit-learn's 1e-4 is
        meant for the primal ones). With near-duplicate rows (jittered copies, SMOTE
        interpolations) the dual is ill-conditioned and 1e-3 or 1e-4 take hundreds of passes for
        no change in predictions (benchmarks/svm_solver.py).
    max_iter : int, default=1000
        Cap on the passes over the data per class pair.
    random_state : int, default=0
        ``random_state`` of every pair's ``LinearSVC`` (its coordinate order).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted labels seen in :meth:`fit`.
    coef_ : ndarray of shape (n_pairs, n_features)
        One weight vector per class pair, positive towards the pair's second class.
    intercept_ : ndarray of shape (n_pairs,)
        The pairs' biases.
    pairs_ : ndarray of shape (n_pairs, 2)
        Class indices (i, j), i < j, of each pair, in libsvm's order.
    n_iter_ : int
        Passes used, maximum over the pairs.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = np.repeat(["angry", "happy", "sad"], 20)
    >>> ovo = LinearOvO(class_weight="balanced").fit(X, y)
    >>> ovo.coef_.shape, ovo.pairs_.tolist()
    ((3, 5), [[0, 1], [0, 2], [1, 2]])
    >>> ovo.decision_function(X).shape, ovo.predict(X[:4]).shape
    ((60, 3), (4,))
    """

    def __init__(self, C: float = 1.0, class_weight=None, intercept_scaling: float = 10.0,
                 tol: float = 0.1, max_iter: int = 1000, random_state: int = 0):
        self.C = C
        self.class_weight = class_weight
        self.intercept_scaling = intercept_scaling
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y) -> "LinearOvO":
        """X: (n_samples, n_features) floats; y: (n_samples,) labels with ≥ 2 classes."""
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if self.class_weight is None:
            weight = np.ones(k)
        else:
            weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        self.pairs_ = np.array([(i, j) for i in range(k) for j in range(i + 1, k)], dtype=int)
        coef, intercept, iters = [], [], []
        for i, j in self.pairs_:
            rows = np.flatnonzero((codes == i) | (codes == j))
            model = LinearSVC(C=self.C, loss="hinge", dual=True, intercept_scaling=self.intercept_scaling,
                              tol=self.tol, max_iter=self.max_iter, random_state=self.random_state)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=ConvergenceWarning)
                model.fit(X[rows], (codes[rows] == j).astype(int), sample_weight=weight[codes[rows]])
            coef.append(model.coef_[0])
            intercept.append(model.intercept_[0])
            iters.append(int(model.n_iter_))
        self.coef_, self.intercept_ = np.asarray(coef), np.asarray(intercept)
        self.n_iter_ = max(iters)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        """(n_samples, n_classes) as SVC's ``ovr`` shape ((n_samples,) for two classes)."""
        check_is_fitted(self, "coef_")
        pair_scores = np.asarray(X, dtype=float) @ self.coef_.T + self.intercept_
        if len(self.classes_) == 2:
            return pair_scores[:, 0]
        return ovr_scores(pair_scores, self.pairs_, len(self.classes_))

    def predict(self, X) -> np.ndarray:
        """(n_samples,) labels: the class with most pairwise wins (ties: summed confidence)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class SVMClassifier(ClassifierMixin, BaseEstimator):
    """``SVC`` / :class:`LinearOvO` wrapper; inputs are (n_samples, n_features) float arrays, labels any hashable.

    With ``inner_search=True`` and ``groups`` passed to :meth:`fit`, ``GridSearchCV`` tunes
    ``grid`` on speaker-disjoint splits of the training fold (:func:`inner_splits`), scoring
    balanced accuracy (UAR), then refits the best setting on the whole training fold.

    Parameters
    ----------
    kernel : {"linear", "rbf", "poly", "sigmoid"}, default="rbf"
        SVC's kernel.
    C : float, default=1.0
        Inverse regularisation strength (> 0); the fixed value when no search runs.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient, as SVC's (1 / feature units²).
    class_weight : {"balanced"}, dict or None, default=None
        Per-class multipliers of C, as SVC's.
    inner_search : bool, default=False
        Tune ``grid`` on speaker-disjoint inner splits (needs ≥ 2 ``groups`` in :meth:`fit`;
        without them it warns and keeps the fixed C / gamma).
    grid : dict or None, default=None
        ``{parameter: values}`` searched; None: C ∈ {0.1, 1, 10, 100}, plus gamma ∈ {scale, 1e-4,
        1e-3, 1e-2} for rbf.
    solver : {"auto", "libsvm", "liblinear"}, default="auto"
        The linear kernel's solver (:func:`resolve_solver`: ``auto`` takes liblinear from
        :data:`LIBLINEAR_MIN_ROWS` training rows on); every other kernel uses libsvm.
    random_state : int, default=0
        ``random_state`` of the SVC or :class:`LinearOvO`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted labels seen in :meth:`fit`.
    solver_ : str
        The solver used, ``libsvm`` or ``liblinear``.
    estimator_ : SVC or LinearOvO
        The fitted model (the search's refit when one ran).
    best_params_ : dict
        The grid's winner, or the constructor's C / gamma when no search ran.
    cv_results_ : dict or None
        ``GridSearchCV.cv_results_`` of the search, else None.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = np.repeat(["angry", "happy", "sad"], 20)
    >>> speakers = np.tile(["s1", "s2", "s3", "s4"], 15)
    >>> svm = SVMClassifier(kernel="linear", inner_search=True, grid={"C": [0.1, 1]})
    >>> svm = svm.fit(X, y, groups=speakers)
    >>> svm.solver_, sorted(svm.best_params_), svm.classes_.tolist()
    ('libsvm', ['C'], ['angry', 'happy', 'sad'])
    >>> svm.predict(X[:4]).shape, svm.decision_function(X).shape
    ((4,), (60, 3))
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions({"linear", "rbf", "poly", "sigmoid"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "inner_search": ["boolean"],
        "grid": [dict, None],
        "solver": [StrOptions(set(SOLVERS))],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        kernel: str = "rbf",
        C: float = 1.0,
        gamma="scale",
        class_weight=None,
        inner_search: bool = False,
        grid: Optional[dict] = None,
        solver: str = "auto",
        random_state: int = 0,
    ):
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.class_weight = class_weight
        self.inner_search = inner_search
        self.grid = grid
        self.solver = solver
        self.random_state = random_state

    def _svc(self, n_rows: int):
        self.solver_ = resolve_solver(self.solver, self.kernel, n_rows)
        if self.solver_ == "liblinear":
            return LinearOvO(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        return SVC(
            kernel=self.kernel,
            C=self.C,
            gamma=self.gamma,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )

    def _grid(self) -> dict:
        if self.grid is not None:
            return {k: list(v) for k, v in dict(self.grid).items()}
        grid = {"C": list(_DEFAULT_C)}
        if self.kernel == "rbf":
            grid["gamma"] = list(_DEFAULT_GAMMA)
        return grid

    def fit(self, X, y, groups=None) -> "SVMClassifier":
        """X: (n_samples, n_features); y: (n_samples,); groups: (n_samples,) speakers or None.

        A bad parameter → :class:`~adan_ser.core.constraints.ParameterError` (a ``ValueError``) naming it."""
        check_params(self)
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
                    self._svc(len(X)),
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
            self.estimator_ = self._svc(len(X)).fit(X, y)
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
