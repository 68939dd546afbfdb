"""Speaker variation in feature space: the additive speaker model and the sampler built on it.

Model (in z-units of the training rows, so every feature weighs alike):
``x = μ_y + o_s + r``: ``μ_y`` (C, d) class means, ``o_s`` (S, d) the offset of training speaker s
(zero mean over speakers), ``r`` the residual of a row. New speakers' offsets come from
``N(0, Σ_o)``, Σ_o the shrunk covariance of the S training offsets (:class:`OffsetGaussian`).
:mod:`adan_ser.augment.generators.adan_speaker` uses the same two pieces on latent codes.
"""

from __future__ import annotations

from numbers import Integral
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.covariance import ledoit_wolf_shrinkage
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.generators.base import RATIO, SEED, SyntheticSampler, check_Xy, pick_rows, validate_params
from adan_ser.core.errors import InputError
from adan_ser.core.scaling import ZScaler
from adan_ser.core.speaker_offsets import speaker_offsets

__all__ = ["SHRINKAGES", "OffsetGaussian", "synthetic_speaker_ids", "SpeakerOffsetSampler"]

SHRINKAGES = ("ledoit_wolf", "oas")


class OffsetGaussian(BaseEstimator):
    """``N(0, Σ)``, Σ = (1 − α)·S + α·(tr S / d)·I: the shrunk covariance of S offsets (S, d).

    ``S`` is the empirical covariance of the centred offsets (÷ S rows, as scikit-learn's), ``α``
    the Ledoit–Wolf or OAS shrinkage (scikit-learn's formulas). Σ is never formed: a draw is
    ``√(1 − α)·gᵀO/√S + √(α·tr S/d)·ε``, g ~ N(0, I_S), ε ~ N(0, I_d), whose covariance is Σ
    exactly, so d in the thousands costs (m, S + d) normals, not a d × d factorisation.

    Parameters
    ----------
    shrinkage : {"ledoit_wolf", "oas"}, default="ledoit_wolf"
        The shrinkage formula.

    Attributes
    ----------
    basis_ : ndarray of shape (S, d)
        The centred offsets.
    shrinkage_ : float
        α, in [0, 1].
    target_ : float
        tr S / d, the variance of the shrinkage target.

    Examples
    --------
    >>> import numpy as np
    >>> offsets = np.random.default_rng(0).normal(size=(6, 4))
    >>> model = OffsetGaussian().fit(offsets)
    >>> model.draw(3, np.random.default_rng(1)).shape, model.covariance().shape
    ((3, 4), (4, 4))
    """

    _parameter_constraints: dict = {"shrinkage": [StrOptions(set(SHRINKAGES))]}

    def __init__(self, shrinkage: str = "ledoit_wolf"):
        self.shrinkage = shrinkage

    def fit(self, offsets: np.ndarray) -> "OffsetGaussian":
        """Fit to ``offsets`` (S, d); returns self."""
        validate_params(self)
        O = np.asarray(offsets, dtype=np.float64)
        O = O - O.mean(axis=0)
        n, d = O.shape
        gram = O @ O.T / n  # (S, S): shares its non-zero spectrum with S = OᵀO / n
        self.target_ = float(np.trace(gram)) / d
        if self.shrinkage == "ledoit_wolf":
            alpha = float(ledoit_wolf_shrinkage(O, assume_centered=True)) if n > 1 else 1.0
        else:  # OAS as scikit-learn's oas(): mean(S²) from the Gram matrix, ‖OᵀO‖_F = ‖OOᵀ‖_F
            mean_sq = float(np.sum(gram ** 2)) / d ** 2
            mu2 = self.target_ ** 2
            den = (n + 1) * (mean_sq - mu2 / d)
            alpha = 1.0 if den == 0 else min((mean_sq + mu2) / den, 1.0)
        self.basis_, self.shrinkage_ = O, alpha
        return self

    def covariance(self) -> np.ndarray:
        """Σ as a (d, d) matrix (for tests and small d only)."""
        n, d = self.basis_.shape
        return (1 - self.shrinkage_) * self.basis_.T @ self.basis_ / n + self.shrinkage_ * self.target_ * np.eye(d)

    def draw(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` offsets (m, d) from N(0, Σ)."""
        n, d = self.basis_.shape
        g = rng.standard_normal((m, n))
        eps = rng.standard_normal((m, d))
        spread = (np.sqrt(1 - self.shrinkage_) / np.sqrt(n)) * g @ self.basis_
        return spread + np.sqrt(self.shrinkage_ * self.target_) * eps


def synthetic_speaker_ids(names, real) -> np.ndarray:
    """``"~" + name`` for each name, with more ``~`` in front while any id equals a real speaker id.

    ``names`` (k,), ``real`` (S,) the training speakers; returns (k,) str ids, never a real one.
    """
    names, real = np.asarray(names).astype(str), np.asarray(real).astype(str)
    prefix = "~"
    while True:
        ids = np.char.add(prefix, names)
        if not np.isin(ids, real).any():
            return ids.astype(object)
        prefix += "~"


class SpeakerOffsetSampler(SyntheticSampler):
    """Rows re-voiced by speaker offsets: ``x' = x − o_src + o_new`` (z-units of the training rows).

    Fits :func:`speaker_offsets` on the training rows and their speakers (``groups``, required),
    picks parent rows as :class:`~adan_ser.augment.generators.baselines.DuplicateSampler` does
    (``round(ratio × count)`` per class), and keeps each parent's class mean and residual:

    * ``mode="swap"``: ``o_new`` = the offset of another training speaker, drawn uniformly; the row's
      synthetic speaker is ``~swap:<src>:<tgt>``.
    * ``mode="new"``: ``n_speakers`` offsets drawn from :class:`OffsetGaussian`, one per synthetic
      speaker ``~new<k>``; a class's new rows go round the speakers in turn, so every new speaker
      gets every class.

    Ids start with ``~`` (more when a real id would clash): never a training speaker's.

    Parameters
    ----------
    ratio : float, default=1.0
        Synthetic rows per real row of each class (≥ 0).
    mode : {"swap", "new"}, default="swap"
        Another training speaker's offset, or offsets of new speakers.
    shrinkage : {"ledoit_wolf", "oas"}, default="ledoit_wolf"
        Shrinkage of the offsets' covariance (``mode="new"``).
    n_speakers : int or None, default=None
        New speakers (``mode="new"``); None: as many as training speakers.
    random_state : int or None, default=0
        Seed of the parent rows and the offsets; None draws fresh entropy.

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
        The class labels.
    speakers_ : ndarray of shape (S,)
        The training speakers.
    class_means_ : ndarray of shape (C, d)
        Class means, z-units.
    offsets_ : ndarray of shape (S, d)
        Speaker offsets, z-units.
    scaler_ : ZScaler
        The z-normalisation of the training rows.
    synthetic_speaker_ : ndarray of shape (m,)
        The synthetic speaker id of each generated row.
    new_offsets_ : ndarray of shape (k, d)
        The new speakers' offsets (``mode="new"`` only).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(24, 3)), np.tile(["angry", "sad"], 12)
    >>> groups = np.repeat(["s1", "s2", "s3"], 8)
    >>> sampler = SpeakerOffsetSampler(ratio=0.5, mode="new", n_speakers=2)
    >>> X_syn, y_syn = sampler.generate(X, y, groups=groups)
    >>> X_syn.shape, sorted(set(sampler.synthetic_speaker_.tolist()))
    ((12, 3), ['~new0', '~new1'])
    """

    needs_groups = True

    _parameter_constraints: dict = {
        "ratio": [RATIO],
        "mode": [StrOptions({"swap", "new"})],
        "shrinkage": [StrOptions(set(SHRINKAGES))],
        "n_speakers": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [SEED, None],
    }

    def __init__(self, ratio: float = 1.0, mode: str = "swap", shrinkage: str = "ledoit_wolf",
                 n_speakers: Optional[int] = None, random_state: Optional[int] = 0):
        self.ratio = ratio
        self.mode = mode
        self.shrinkage = shrinkage
        self.n_speakers = n_speakers
        self.random_state = random_state

    def _set_groups(self, groups, n: int) -> None:
        name = type(self).__name__
        if groups is None:
            raise InputError(f"{name} needs groups: the speaker of each training row")
        groups = np.asarray(groups).astype(str)
        if groups.shape != (n,):
            raise InputError(f"{name}: {groups.shape[0] if groups.ndim else 0} groups for {n} training rows")
        if len(np.unique(groups)) < 2:
            raise InputError(f"{name}: mode {self.mode!r} needs at least 2 training speakers, got "
                             f"{len(np.unique(groups))}")
        self._groups = groups

    def _fit_resample(self, X, y, groups=None, **params):
        self._set_groups(groups, len(X))
        return super()._fit_resample(X, y)

    def generate(self, X, y, groups=None):
        """Synthetic rows only, ``(X_syn (m, d), y_syn (m,))``; ``groups`` (n,): the rows' speakers."""
        validate_params(self)
        X_checked, _ = check_Xy(self, X, y)
        self._set_groups(groups, len(X_checked))
        return super().generate(X, y)

    def _generate(self, X, y, n_new):
        groups = self.__dict__.pop("_groups")
        rng = np.random.default_rng(self.random_state)
        self.scaler_ = ZScaler().fit(np.asarray(X, dtype=np.float64))
        Z = self.scaler_.transform(X)
        self.classes_, self.speakers_, self.class_means_, self.offsets_ = speaker_offsets(Z, y, groups)
        rows = pick_rows(y, n_new, rng)
        src = np.searchsorted(self.speakers_, groups[rows])
        if self.mode == "swap":
            # a uniform other speaker: shift a draw from S − 1 past the source's own index
            tgt = rng.integers(len(self.speakers_) - 1, size=len(rows))
            tgt += tgt >= src
            new = self.offsets_[tgt]
            spk = self.speakers_.astype(str)
            names = np.char.add(np.char.add(np.char.add("swap:", spk[src]), ":"), spk[tgt])
        else:
            k = len(self.speakers_) if self.n_speakers is None else int(self.n_speakers)
            self.new_offsets_ = OffsetGaussian(self.shrinkage).fit(self.offsets_).draw(k, rng)
            # position within its class, so each class's rows go round the k speakers
            labels = y[rows]
            starts = np.r_[0, np.flatnonzero(labels[1:] != labels[:-1]) + 1]
            pos = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
            who = pos % k
            new = self.new_offsets_[who]
            names = np.char.add("new", who.astype(str))
        Z_new = Z[rows] - self.offsets_[src] + new * self.scaler_.varies_
        self.synthetic_speaker_ = synthetic_speaker_ids(names, self.speakers_)
        return self.scaler_.inverse_transform(Z_new), y[rows]
