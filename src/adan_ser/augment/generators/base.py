"""What every augmenter shares: input validation, parameter validation, the sampler base class.

Every sampler is an imbalanced-learn sampler (``BaseSampler`` template) with

* ``fit_resample(X, y)`` → the real rows followed by the synthetic rows (imblearn's template, so it
  drops into ``imblearn.pipeline.Pipeline``; a DataFrame/Series in gives a DataFrame/Series out);
* ``generate(X, y)`` → the synthetic rows only, as ``(X_syn (m, d), y_syn (m,))`` in the units of X.

``X`` is (n_samples, n_features) in feature units (e.g. openSMILE functionals), ``y`` the labels.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from imblearn.utils._validation import ArraysTransformer
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.multiclass import check_classification_targets

from adan_ser.core.errors import InputError, InputTypeError

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn, shipped with imblearn >= 0.13
    from sklearn_compat.utils.validation import validate_data

__all__ = ["SEED", "RATIO", "SyntheticSampler", "check_Xy", "pick_rows", "synthetic_counts", "validate_params"]

#: Parameter constraints: a seed (a non-negative integer; ``[SEED, None]`` allows fresh entropy)
#: and a ratio of synthetic to real rows per class.
SEED = Interval(Integral, 0, None, closed="left")
RATIO = Interval(Real, 0, None, closed="left")


def validate_params(estimator) -> None:
    """Check ``estimator``'s parameters, and those of estimators among them, against their
    ``_parameter_constraints``; a violation → :class:`~adan_ser.core.errors.InputError` (a
    ``ValueError``) naming the parameter and class, in one line."""
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise InputError(str(exc).strip().splitlines()[0]) from None
    for value in estimator.get_params(deep=False).values():
        if isinstance(value, BaseEstimator):
            validate_params(value)


def check_Xy(estimator, X, y, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` (n, d) float and ``y`` (n,) labels; sets ``n_features_in_``/``feature_names_in_``.

    scikit-learn's multi-line ``ValueError`` becomes a one-line :class:`InputError` naming the estimator.
    """
    name = type(estimator).__name__
    if y is None:
        raise InputError(f"{name} requires y to be passed, but the target y is None (y: the emotion labels)")
    try:
        check_classification_targets(y)
        X, y = validate_data(
            estimator,
            X=X,
            y=y,
            reset=reset,
            accept_sparse=False,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
        )
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        error = InputTypeError if isinstance(exc, TypeError) else InputError
        raise error(f"{name}: bad training data: {first}") from None
    return X, y


def synthetic_counts(y: np.ndarray, ratio: float) -> dict:
    """Synthetic rows per class: ``{label: round(ratio × count)}`` in ``np.unique(y)`` order.

    Half rounds up (``floor(x + 0.5)``) rather than to even, so a fractional ratio never loses a
    row to banker's rounding on small classes.
    """
    classes, counts = np.unique(y, return_counts=True)
    return {c: int(np.floor(ratio * n + 0.5)) for c, n in zip(classes.tolist(), counts.tolist())}


def pick_rows(y: np.ndarray, n_new: dict, rng: np.random.Generator) -> np.ndarray:
    """Row indices to copy, ``n_new[label]`` per class: whole copies of the class, then a random
    subset of it without replacement (sorted), drawn from ``rng``."""
    rows = []
    for label, n in n_new.items():
        idx = np.flatnonzero(y == label)
        reps, rest = divmod(n, len(idx))
        rows.append(np.tile(idx, reps))
        if rest:
            rows.append(np.sort(rng.choice(idx, size=rest, replace=False)))
    return np.concatenate(rows) if rows else np.empty(0, dtype=np.intp)


class SyntheticSampler(BaseSampler):
    """Base for samplers that add synthetic rows: subclasses implement ``_generate(X, y, n_new)``.

    How many rows: ``sampling_strategy_`` = ``{label: n_new}``, by default ``round(ratio × count)``
    per class (:func:`synthetic_counts`), so ``ratio=1.0`` doubles every class and keeps the class
    balance of the training fold. ``ratio`` replaces imblearn's ``sampling_strategy`` because the
    two mean different things: ``sampling_strategy`` names the class sizes to reach (by default
    the majority's, i.e. rebalancing), whereas these methods add a volume proportional to each
    class (paper: 10 synthetic sets of the training fold), the same for every method so they
    compare fairly. ``sampling_strategy`` is therefore not a parameter; imblearn's template still
    reads the attribute, which is fixed at ``"auto"`` and bypassed (``_sampling_type``).

    ``fit`` only validates (imblearn convention); ``fit_resample`` and ``generate`` learn from
    (X, y). Validation: ``_parameter_constraints`` (scikit-learn's); ``fit_resample`` raises
    scikit-learn's errors (``InvalidParameterError``, ``ValueError``) as any imblearn sampler does,
    ``generate`` the one-line :class:`~adan_ser.core.errors.InputError` the pipeline stages report.

    Parameters
    ----------
    ratio : float
        Synthetic rows per real row of each class; every subclass takes it (or overrides ``_counts``).

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last ``generate``/``fit_resample``.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    A subclass gives its parameters, their constraints and ``_generate``:

    >>> import numpy as np
    >>> class Mean(SyntheticSampler):
    ...     _parameter_constraints = {"ratio": [RATIO]}
    ...     def __init__(self, ratio=1.0):
    ...         self.ratio = ratio
    ...     def _generate(self, X, y, n_new):
    ...         rows = [np.repeat(X[y == c].mean(0, keepdims=True), n, 0) for c, n in n_new.items()]
    ...         return np.vstack(rows), np.repeat(list(n_new), list(n_new.values()))
    >>> X, y = np.arange(12.0).reshape(6, 2), np.repeat(["angry", "sad"], 3)
    >>> X_res, y_res = Mean(ratio=1.0).fit_resample(X, y)
    >>> X_res.shape, y_res.tolist().count("sad")
    ((12, 2), 6)
    """

    _sampling_type = "bypass"
    sampling_strategy = "auto"  # read by imblearn's template, not a parameter: see above

    _parameter_constraints: dict = {}

    def _generate(self, X: np.ndarray, y: np.ndarray, n_new: dict) -> tuple[np.ndarray, np.ndarray]:
        """``n_new[label]`` synthetic rows per class from validated ``X`` (n, d), ``y`` (n,)."""
        raise NotImplementedError

    def _counts(self, y: np.ndarray) -> dict:
        return synthetic_counts(y, self.ratio)

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = check_Xy(self, X, y)
        return X, y, binarize_y

    def _synthesize(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_new = self._counts(y)
        self.sampling_strategy_ = n_new
        X_syn, y_syn = self._generate(X, y, n_new)
        # Keep the caller's float precision: float32 features stay float32 after stacking.
        X_syn = np.asarray(X_syn, dtype=X.dtype).reshape(-1, X.shape[1])
        return X_syn, np.asarray(y_syn, dtype=y.dtype)

    def _fit_resample(self, X, y, **params):
        X_syn, y_syn = self._synthesize(X, y)
        return np.vstack([X, X_syn]), np.concatenate([y, y_syn])

    def generate(self, X, y):
        """Synthetic rows only: ``(X_syn (m, d), y_syn (m,))`` in the units (and type) of ``X``."""
        validate_params(self)
        arrays = ArraysTransformer(X, y)
        X, y = check_Xy(self, X, y)
        X_syn, y_syn = self._synthesize(X, y)
        return arrays.transform(X_syn, y_syn)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
