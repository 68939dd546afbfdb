"""Augmentation baselines with the same interface as the ADAN samplers (see :mod:`adan_ser.augment.generators.base`).

How many synthetic rows: ``round(ratio × count)`` per class (half rounds up), so ``ratio=1.0``
doubles every class and keeps the class balance of the training fold.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Optional

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.generators.base import RATIO, SEED, SyntheticSampler, pick_rows
from adan_ser.core.errors import InputError
from adan_ser.core.scaling import ZScaler

__all__ = [
    "DuplicateSampler",
    "GaussianNoiseSampler",
    "SMOTESampler",
    "BorderlineSMOTESampler",
    "ADASYNSampler",
]

_RATIO = [RATIO]
_SEED = [SEED, None]
_NEIGHBOURS = [Interval(Integral, 1, None, closed="left")]


# --------------------------------------------------------------------------------------------
# copies and noise
# --------------------------------------------------------------------------------------------


class DuplicateSampler(SyntheticSampler):
    """Copies of training rows: ``round(ratio × count)`` per class.

    Whole multiples of the class are copied in full; the fractional rest is a random selection
    without replacement (seeded by ``random_state``).

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0; half rounds up).
    random_state : int or None, default=0
        Seed of the selection of the fractional rest; None draws fresh entropy.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last ``generate``/``fit_resample``.
    n_features_in_ : int
        Number of features seen during the last ``generate``/``fit_resample``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> X_syn, y_syn = DuplicateSampler(ratio=0.5).generate(X, y)
    >>> X_syn.shape, sorted(set(y_syn.tolist()))
    ((10, 3), ['angry', 'sad'])
    """

    def __init__(self, ratio: float = 1.0, random_state: Optional[int] = 0):
        self.ratio = ratio
        self.random_state = random_state

    _parameter_constraints: dict = {"ratio": _RATIO, "random_state": _SEED}

    def _generate(self, X, y, n_new):
        rows = pick_rows(y, n_new, np.random.default_rng(self.random_state))
        return X[rows], y[rows]


class GaussianNoiseSampler(SyntheticSampler):
    """Noisy copies: pick rows as :class:`DuplicateSampler`, add N(0, sigma²) in z-norm units.

    The mean/std are the training rows'; ``sigma`` is therefore in standard deviations of each
    feature (0.1 = a tenth of the feature's spread). Zero-variance features get no noise.

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0).
    sigma : float, default=0.1
        Noise standard deviation, in standard deviations of each feature (≥ 0).
    random_state : int or None, default=0
        Seed of the row selection and the noise; None draws fresh entropy.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> X_res, y_res = GaussianNoiseSampler(ratio=1.0, sigma=0.1).fit_resample(X, y)
    >>> X_res.shape, y_res.shape
    ((40, 3), (40,))
    """

    _parameter_constraints: dict = {"ratio": _RATIO, "sigma": [Interval(Real, 0, None, closed="left")],
                                    "random_state": _SEED}

    def __init__(self, ratio: float = 1.0, sigma: float = 0.1, random_state: Optional[int] = 0):
        self.ratio = ratio
        self.sigma = sigma
        self.random_state = random_state

    def _generate(self, X, y, n_new):
        rng = np.random.default_rng(self.random_state)
        rows = pick_rows(y, n_new, rng)
        scaler = ZScaler().fit(np.asarray(X, dtype=np.float64))
        Z = scaler.transform(X[rows])
        Z += rng.normal(0.0, self.sigma, size=Z.shape) * scaler.varies_
        return scaler.inverse_transform(Z), y[rows]


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

    _parameter_constraints: dict = {"ratio": _RATIO, "k_neighbors": _NEIGHBOURS, "random_state": _SEED}

    def _require_neighbours(self, y: np.ndarray, n_new: dict) -> None:
        """Every class that gets synthetic rows has ``k_neighbors + 1`` training rows, else InputError."""
        classes, counts = np.unique(y, return_counts=True)
        for label, count in zip(classes.tolist(), counts.tolist()):
            if n_new.get(label, 0) > 0 and count < self.k_neighbors + 1:
                raise InputError(
                    f"{type(self).__name__}: class {label!r} has {count} training rows, "
                    f"k_neighbors={self.k_neighbors} needs {self.k_neighbors + 1}"
                )

    def _imblearn(self, strategy: dict, seed):
        raise NotImplementedError

    def _resample(self, Z: np.ndarray, y: np.ndarray, strategy: dict, seed) -> tuple[np.ndarray, np.ndarray]:
        Zr, yr = self._imblearn(strategy, seed).fit_resample(Z, y)
        # imblearn appends the new rows after the originals.
        return Zr[len(Z):], yr[len(Z):]

    def _generate(self, X, y, n_new):
        present = np.unique(y)
        if len(present) < 2:  # imblearn's own refusal is a bare ValueError
            raise InputError(f"{type(self).__name__}: the training rows hold one class ({present.tolist()[0]!r}); "
                             "SMOTE needs two or more")
        self._require_neighbours(y, n_new)
        counts = dict(zip(*np.unique(y, return_counts=True)))
        strategy = {label: int(counts[label]) + n for label, n in n_new.items() if n > 0}
        if not strategy:
            return np.empty((0, X.shape[1])), y[:0]
        scaler = ZScaler().fit(np.asarray(X, dtype=np.float64))
        Z_new, y_new = self._resample(scaler.transform(X), y, strategy, self.random_state)
        return scaler.inverse_transform(Z_new), y_new


class SMOTESampler(_NeighbourSampler):
    """SMOTE (imblearn): interpolation between a row and one of its ``k_neighbors`` same-class neighbours.

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0).
    k_neighbors : int, default=5
        Same-class neighbours to interpolate towards; each class that gets rows needs
        ``k_neighbors + 1`` of them.
    random_state : int or None, default=0
        imblearn's ``random_state``; None draws fresh entropy.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> X_syn, y_syn = SMOTESampler(ratio=0.5, k_neighbors=3).generate(X, y)
    >>> X_syn.shape, int((y_syn == "sad").sum())
    ((10, 3), 5)
    """

    def __init__(self, ratio: float = 1.0, k_neighbors: int = 5, random_state: Optional[int] = 0):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.random_state = random_state

    def _imblearn(self, strategy, seed):
        from imblearn.over_sampling import SMOTE

        return SMOTE(sampling_strategy=strategy, k_neighbors=self.k_neighbors, random_state=seed)


class BorderlineSMOTESampler(_NeighbourSampler):
    """Borderline-SMOTE (imblearn): SMOTE from the "danger" rows only.

    A class without danger rows (at least half, but not all, of its ``m_neighbors`` from other
    classes) gets no synthetic rows, so the total can fall short of ``ratio × count``.

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0).
    k_neighbors : int, default=5
        Same-class neighbours to interpolate towards.
    m_neighbors : int, default=10
        Neighbours (any class) that decide whether a row is in danger; needs ``m_neighbors + 1`` rows.
    kind : {"borderline-1", "borderline-2"}, default="borderline-1"
        imblearn's variant: "borderline-2" may also interpolate towards other classes.
    random_state : int or None, default=0
        imblearn's ``random_state``; None draws fresh entropy.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` asked for in the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> X_syn, y_syn = BorderlineSMOTESampler(k_neighbors=3, m_neighbors=5).generate(X, y)
    >>> X_syn.shape[1], len(X_syn) <= 20
    (3, True)
    """

    def __init__(
        self,
        ratio: float = 1.0,
        k_neighbors: int = 5,
        m_neighbors: int = 10,
        kind: str = "borderline-1",
        random_state: Optional[int] = 0,
    ):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind
        self.random_state = random_state

    _parameter_constraints: dict = {
        **_NeighbourSampler._parameter_constraints,
        "m_neighbors": _NEIGHBOURS,
        "kind": [StrOptions({"borderline-1", "borderline-2"})],
    }

    def _generate(self, X, y, n_new):
        if len(X) < self.m_neighbors + 1:
            raise InputError(
                f"{type(self).__name__}: {len(X)} training rows, m_neighbors={self.m_neighbors} needs "
                f"{self.m_neighbors + 1}"
            )
        return super()._generate(X, y, n_new)

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

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0), before imblearn's rounding.
    k_neighbors : int, default=5
        Neighbours of each row (imblearn's ``n_neighbors``).
    random_state : int or None, default=0
        Seed of one imblearn ``random_state`` per class; None draws fresh entropy.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` asked for in the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> X_syn, y_syn = ADASYNSampler(ratio=0.5, k_neighbors=3).generate(X, y)
    >>> X_syn.shape[1], sorted(set(y_syn.tolist()))
    (3, ['angry', 'sad'])
    """

    def __init__(self, ratio: float = 1.0, k_neighbors: int = 5, random_state: Optional[int] = 0):
        self.ratio = ratio
        self.k_neighbors = k_neighbors
        self.random_state = random_state

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
