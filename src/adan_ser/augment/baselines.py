"""Augmentation baselines with the same interface as the ADAN samplers.

Every sampler here is an imbalanced-learn sampler (``BaseSampler`` subclass) with

* ``fit_resample(X, y)`` → the real rows followed by the synthetic rows (imblearn convention, so
  it drops into ``imblearn.pipeline.Pipeline``; a DataFrame/Series in gives a DataFrame/Series out);
* ``generate(X, y)`` → the synthetic rows only, as ``(X_syn (m, d), y_syn (m,))`` in the units of X.

``X`` is (n_samples, n_features) in feature units (e.g. openSMILE functionals), ``y`` the labels.
How many synthetic rows: ``round(ratio × count)`` per class (half rounds up), so ``ratio=1.0``
doubles every class and keeps the class balance of the training fold.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Optional

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils._validation import ArraysTransformer
from sklearn.utils.multiclass import check_classification_targets

from adan_ser.core.errors import AdanError

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn, shipped with imblearn >= 0.13
    from sklearn_compat.utils.validation import validate_data

__all__ = [
    "DuplicateSampler",
    "GaussianNoiseSampler",
    "SMOTESampler",
    "BorderlineSMOTESampler",
    "ADASYNSampler",
    "synthetic_counts",
]


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def check_Xy(estimator, X, y, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` (n, d) float and ``y`` (n,) labels; sets ``n_features_in_``/``feature_names_in_``.

    scikit-learn's multi-line ``ValueError`` becomes a one-line :class:`AdanError` naming the estimator.
    """
    name = type(estimator).__name__
    if y is None:
        raise AdanError(f"{name}: y (the emotion labels) is required")
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
        raise AdanError(f"{name}: bad training data: {first}") from None
    return X, y


def synthetic_counts(y: np.ndarray, ratio: float) -> dict:
    """Synthetic rows per class: ``{label: round(ratio × count)}`` in ``np.unique(y)`` order.

    Half rounds up (``floor(x + 0.5)``) rather than to even, so a fractional ratio never loses a
    row to banker's rounding on small classes.
    """
    classes, counts = np.unique(y, return_counts=True)
    return {c: int(np.floor(ratio * n + 0.5)) for c, n in zip(classes.tolist(), counts.tolist())}


def _check_ratio(name: str, ratio, allow_none: bool = False) -> None:
    if ratio is None and allow_none:
        return
    if isinstance(ratio, bool) or not isinstance(ratio, Real) or not np.isfinite(ratio) or ratio < 0:
        raise AdanError(f"{name}: ratio must be a finite number >= 0, got {ratio!r}")


def _check_int(name: str, param: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise AdanError(f"{name}: {param} must be an integer >= {minimum}, got {value!r}")


def _check_seed(name: str, seed) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0):
        raise AdanError(f"{name}: seed must be a non-negative integer or None, got {seed!r}")


class _ZScaler:
    """Per-feature z-normalisation fitted on the training rows; zero-variance features pass unchanged.

    A constant feature gets scale 1, so it maps to 0 and back to its constant exactly.
    """

    def __init__(self, X: np.ndarray):
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.varies = std > 0
        self.std = np.where(self.varies, std, 1.0)

    def forward(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.std

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        return Z * self.std + self.mean


def _pick_rows(y: np.ndarray, n_new: dict, rng: np.random.Generator) -> np.ndarray:
    """Row indices to copy: whole copies of a class, then a random subset without replacement."""
    rows = []
    for label, n in n_new.items():
        idx = np.flatnonzero(y == label)
        reps, rest = divmod(n, len(idx))
        rows.append(np.tile(idx, reps))
        if rest:
            rows.append(np.sort(rng.choice(idx, size=rest, replace=False)))
    return np.concatenate(rows) if rows else np.empty(0, dtype=np.intp)


# --------------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------------


class SyntheticSampler(BaseSampler):
    """Base for samplers that add synthetic rows: subclasses implement ``_generate(X, y)``.

    ``fit`` only validates (imblearn convention); ``generate`` learns from (X, y) and returns
    the synthetic rows; ``fit_resample`` returns real rows followed by those synthetic rows.
    """

    _sampling_type = "over-sampling"

    def _check_params(self) -> None:  # overridden where there is something to check
        pass

    def _generate(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, X, y, **params):
        """Validate ``X`` (n, d) and ``y`` (n,); the generator is learnt by ``generate``/``fit_resample``."""
        self._check_params()
        check_Xy(self, X, y)
        return self

    def _generate_checked(self, X, y):
        """Validated ``(X, y, X_syn, y_syn)``."""
        self._check_params()
        X, y = check_Xy(self, X, y)
        X_syn, y_syn = self._generate(X, y)
        # Keep the caller's float precision: float32 features stay float32 after stacking.
        X_syn = np.asarray(X_syn, dtype=X.dtype).reshape(-1, X.shape[1])
        return X, y, X_syn, np.asarray(y_syn, dtype=y.dtype)

    def generate(self, X, y):
        """Synthetic rows only: ``(X_syn (m, d), y_syn (m,))`` in the units (and type) of ``X``."""
        arrays = ArraysTransformer(X, y)
        _, _, X_syn, y_syn = self._generate_checked(X, y)
        return arrays.transform(X_syn, y_syn)

    def fit_resample(self, X, y, **params):
        """Real rows followed by synthetic rows: ``(X_res (n + m, d), y_res (n + m,))``."""
        arrays = ArraysTransformer(X, y)
        X, y, X_syn, y_syn = self._generate_checked(X, y)
        return arrays.transform(np.vstack([X, X_syn]), np.concatenate([y, y_syn]))

    def _fit_resample(self, X, y, **params):  # BaseSampler's abstract hook; fit_resample is overridden
        X_syn, y_syn = self._generate(X, y)
        return np.vstack([X, X_syn]), np.concatenate([y, y_syn])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


# --------------------------------------------------------------------------------------------
# copies and noise
# --------------------------------------------------------------------------------------------


class DuplicateSampler(SyntheticSampler):
    """Copies of training rows: ``round(ratio × count)`` per class.

    Whole multiples of the class are copied in full; the fractional rest is a random selection
    without replacement (seeded by ``seed``).
    """

    def __init__(self, ratio: float = 1.0, seed: Optional[int] = 0):
        self.ratio = ratio
        self.seed = seed

    def _check_params(self) -> None:
        _check_ratio(type(self).__name__, self.ratio)
        _check_seed(type(self).__name__, self.seed)

    def _generate(self, X, y):
        rows = _pick_rows(y, synthetic_counts(y, self.ratio), np.random.default_rng(self.seed))
        return X[rows], y[rows]


class GaussianNoiseSampler(SyntheticSampler):
    """Noisy copies: pick rows as :class:`DuplicateSampler`, add N(0, sigma²) in z-norm units.

    The mean/std are the training rows'; ``sigma`` is therefore in standard deviations of each
    feature (0.1 = a tenth of the feature's spread). Zero-variance features get no noise.
    """

    def __init__(self, ratio: float = 1.0, sigma: float = 0.1, seed: Optional[int] = 0):
        self.ratio = ratio
        self.sigma = sigma
        self.seed = seed

    def _check_params(self) -> None:
        name = type(self).__name__
        _check_ratio(name, self.ratio)
        _check_seed(name, self.seed)
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, Real) or not np.isfinite(self.sigma) or self.sigma < 0:
            raise AdanError(f"{name}: sigma must be a finite number >= 0, got {self.sigma!r}")

    def _generate(self, X, y):
        rng = np.random.default_rng(self.seed)
        rows = _pick_rows(y, synthetic_counts(y, self.ratio), rng)
        scaler = _ZScaler(X)
        Z = scaler.forward(X[rows])
        Z += rng.normal(0.0, self.sigma, size=Z.shape) * scaler.varies
        return scaler.inverse(Z), y[rows]


# --------------------------------------------------------------------------------------------
# SMOTE family
# --------------------------------------------------------------------------------------------


class _NeighbourSampler(SyntheticSampler):
    """imblearn's neighbour-interpolation samplers, asked for ``round(ratio × count)`` new rows per class.

    The neighbour search runs on z-normalised features (training mean/std) and the new rows are
    mapped back: in raw openSMILE units a few large-range features (energies, durations in
    frames) would dominate the Euclidean distance and pick the "nearest" neighbours on their own.
    Interpolation commutes with the affine map, so only the choice of neighbours changes.
    """

    def _check_params(self) -> None:
        name = type(self).__name__
        _check_ratio(name, self.ratio)
        _check_seed(name, self.seed)
        _check_int(name, "k_neighbors", self.k_neighbors, 1)

    def _check_class_sizes(self, y: np.ndarray, n_new: dict) -> None:
        classes, counts = np.unique(y, return_counts=True)
        for label, count in zip(classes.tolist(), counts.tolist()):
            if n_new.get(label, 0) > 0 and count < self.k_neighbors + 1:
                raise AdanError(
                    f"{type(self).__name__}: class {label!r} has {count} training sample(s), "
                    f"needs at least k_neighbors + 1 = {self.k_neighbors + 1}"
                )

    def _imblearn(self, strategy: dict, seed):
        raise NotImplementedError

    def _resample(self, Z: np.ndarray, y: np.ndarray, strategy: dict, seed) -> tuple[np.ndarray, np.ndarray]:
        Zr, yr = self._imblearn(strategy, seed).fit_resample(Z, y)
        # imblearn appends the new rows after the originals.
        return Zr[len(Z):], yr[len(Z):]

    def _generate(self, X, y):
        n_new = synthetic_counts(y, self.ratio)
        self._check_class_sizes(y, n_new)
        counts = dict(zip(*np.unique(y, return_counts=True)))
        strategy = {label: int(counts[label]) + n for label, n in n_new.items() if n > 0}
        if not strategy:
            return np.empty((0, X.shape[1])), y[:0]
        scaler = _ZScaler(X)
        Z_new, y_new = self._resample(scaler.forward(X), y, strategy, self.seed)
        return scaler.inverse(Z_new), y_new


class SMOTESampler(_NeighbourSampler):
    """SMOTE (imblearn): interpolation between a row and one of its ``k_neighbors`` same-class neighbours."""

    def __init__(self, ratio: float = 1.0, k_neighbors: int = 5, seed: Optional[int] = 0):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.seed = seed

    def _imblearn(self, strategy, seed):
        from imblearn.over_sampling import SMOTE

        return SMOTE(sampling_strategy=strategy, k_neighbors=self.k_neighbors, random_state=seed)


class BorderlineSMOTESampler(_NeighbourSampler):
    """Borderline-SMOTE (imblearn): SMOTE from the "danger" rows only.

    A class without danger rows (at least half, but not all, of its ``m_neighbors`` from other
    classes) gets no synthetic rows, so the total can fall short of ``ratio × count``.
    """

    def __init__(
        self,
        ratio: float = 1.0,
        k_neighbors: int = 5,
        m_neighbors: int = 10,
        kind: str = "borderline-1",
        seed: Optional[int] = 0,
    ):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind
        self.seed = seed

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        _check_int(name, "m_neighbors", self.m_neighbors, 1)
        if self.kind not in ("borderline-1", "borderline-2"):
            raise AdanError(f"{name}: kind must be 'borderline-1' or 'borderline-2', got {self.kind!r}")

    def _generate(self, X, y):
        if len(X) < self.m_neighbors + 1:
            raise AdanError(
                f"{type(self).__name__}: {len(X)} training samples, needs at least m_neighbors + 1 = "
                f"{self.m_neighbors + 1}"
            )
        return super()._generate(X, y)

    def _imblearn(self, strategy, seed):
        from imblearn.over_sampling import BorderlineSMOTE

        return BorderlineSMOTE(
            sampling_strategy=strategy,
            k_neighbors=self.k_neighbors,
            m_neighbors=self.m_neighbors,
            kind=self.kind,
            random_state=seed,
        )


class ADASYNSampler(_NeighbourSampler):
    """ADASYN (imblearn): SMOTE weighted towards rows whose neighbours belong to other classes.

    imblearn spreads ``ratio × count`` over the rows and rounds per row, so a class may get a few
    rows more or fewer. A class none of whose rows has a neighbour from another class (imblearn
    raises there) gets no synthetic rows and a warning instead.
    """

    def __init__(self, ratio: float = 1.0, k_neighbors: int = 5, seed: Optional[int] = 0):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.seed = seed

    def _imblearn(self, strategy, seed):
        from imblearn.over_sampling import ADASYN

        return ADASYN(sampling_strategy=strategy, n_neighbors=self.k_neighbors, random_state=seed)

    def _resample(self, Z, y, strategy, seed):
        # One class at a time, so one class that ADASYN cannot handle does not sink the others.
        seeds = (
            np.random.SeedSequence(seed).generate_state(len(strategy)).tolist()
            if seed is not None
            else [None] * len(strategy)
        )
        parts_X, parts_y = [], []
        for (label, target), class_seed in zip(strategy.items(), seeds):
            try:
                Zr, yr = self._imblearn({label: target}, class_seed).fit_resample(Z, y)
            except RuntimeError:
                warnings.warn(
                    f"ADASYNSampler: no row of class {label!r} has a neighbour from another class; "
                    "no synthetic rows for it",
                    RuntimeWarning,
                    stacklevel=4,
                )
                continue
            except ValueError as exc:
                if "No samples will be generated" not in str(exc):
                    raise
                continue
            parts_X.append(Zr[len(Z):])
            parts_y.append(yr[len(Z):])
        if not parts_X:
            return np.empty((0, Z.shape[1])), y[:0]
        return np.vstack(parts_X), np.concatenate(parts_y)
