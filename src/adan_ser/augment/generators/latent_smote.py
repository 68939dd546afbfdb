"""SMOTE in ADAN's latent space (method ``adan_latent``): interpolate codes, decode, add the residual back.

ADAN's decoder keeps much of the real data's spread (its reconstructions R(E(x))), while its
generator collapses; this method keeps the decoder and replaces the generator by same-class SMOTE
interpolation of the codes E(x) of the training rows. Shapes: ``X`` (n, d) feature units, codes
(n, latent_dim).
"""

from __future__ import annotations

from numbers import Integral
from typing import Optional

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval

from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.samplers import LatentSampler, latent_sampler_constraints

__all__ = ["LatentSMOTESampler"]


class LatentSMOTESampler(LatentSampler):
    """imblearn sampler: train ``adan`` (an :class:`~adan_ser.augment.generators.adan.ADAN`), then SMOTE in its latent space.

    For each new row of class c: a parent i drawn uniformly from the class's training rows, one of
    its ``k_neighbors`` nearest same-class rows j in latent space (Euclidean, codes E(x)), λ ~ U(0, 1);
    code = E(x_i) + λ(E(x_j) − E(x_i)), decoded by R; with ``residual`` the parent's residual
    x_i − R(E(x_i)) is added, so what the decoder cannot reproduce (its smoothing) comes back from a
    real row. A class of one row gives copies of it (its code, plus its residual). ``k_neighbors``
    is cut to the class size − 1.

    Parameters
    ----------
    adan : ADAN or None, default=None
        The (unfitted) model to train; None = ``ADAN(random_state=random_state)``.
    n_sets : int, default=10
        Synthetic rows per real row of each class (paper: 10), when ``ratio`` is None.
    ratio : float or None, default=None
        Replaces ``n_sets``: ``round(ratio × count)`` rows per class.
    random_state : int or None, default=0
        Seed of the interpolation (a stream derived from it); the training is seeded by the model's own
        ``random_state``, or by this one when ``adan`` is None.
    k_neighbors : int, default=5
        Same-class neighbours in latent space.
    residual : bool, default=True
        Add each parent's residual x − R(E(x)).

    Attributes
    ----------
    adan_ : estimator
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.
    codes_ : ndarray of shape (n, latent_dim)
        Codes of the training rows.
    y_fit_ : ndarray of shape (n,)
        Their labels.
    neighbours_ : dict
        ``{label: (rows (n_c,), neighbour rows (n_c, k))}``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,),
    ...              clf_hidden=(8,), device="cpu")
    >>> sampler = LatentSMOTESampler(ADAN(epochs=2, early_stop=False, **small), n_sets=1, k_neighbors=3)
    >>> X_syn, y_syn = sampler.generate(X, y)
    >>> X_syn.shape, sampler.codes_.shape
    ((40, 6), (40, 4))
    """

    _model_cls = ADAN
    _parameter_constraints: dict = {
        **latent_sampler_constraints(ADAN),
        "k_neighbors": [Interval(Integral, 1, None, closed="left")],
        "residual": ["boolean"],
    }

    def __init__(self, adan=None, n_sets: int = 10, ratio: Optional[float] = None, random_state: Optional[int] = 0,
                 k_neighbors: int = 5, residual: bool = True):
        super().__init__(adan=adan, n_sets=n_sets, ratio=ratio, random_state=random_state)
        self.k_neighbors = k_neighbors
        self.residual = residual

    def _generate(self, X, y, n_new):
        model = self._fit_model(X, y)
        self.codes_ = model.transform(X)
        self.y_fit_ = np.asarray(y)
        self.neighbours_ = {}
        for label in model.classes_:
            rows = np.flatnonzero(self.y_fit_ == label)
            k = min(self.k_neighbors, len(rows) - 1)
            if k == 0:
                nbrs = rows[:, None]
            else:
                # k + 1: the nearest of each row is itself
                idx = NearestNeighbors(n_neighbors=k + 1).fit(self.codes_[rows]).kneighbors(
                    self.codes_[rows], return_distance=False)
                nbrs = rows[idx[:, 1:]]
            self.neighbours_[label] = (rows, nbrs)
        codes, labels, parents = self._interpolate(n_new, self._sample_seed())
        out = model.decode(codes)
        if self.residual and len(parents):
            out += (X[parents] - model.reconstruct(X[parents]))
        return out, labels

    def _interpolate(self, counts: dict, seed: Optional[int]):
        """(codes (m, latent_dim), labels (m,), parent rows (m,)) for ``counts`` {label: n}, in the model's class order."""
        rng = np.random.default_rng(seed)
        codes, labels, parents = [], [], []
        for label in self.adan_.classes_:
            m = int(counts.get(label, 0))
            if m == 0:
                continue
            rows, nbrs = self.neighbours_[label]
            pick = rng.integers(len(rows), size=m)
            mates = nbrs[pick, rng.integers(nbrs.shape[1], size=m)]
            lam = rng.random((m, 1))
            a = self.codes_[rows[pick]]
            codes.append(a + lam * (self.codes_[mates] - a))
            labels.append(np.full(m, label, dtype=self.adan_.classes_.dtype))
            parents.append(rows[pick])
        if not codes:
            return (np.empty((0, self.adan_.latent_dim)), np.empty(0, dtype=self.adan_.classes_.dtype),
                    np.empty(0, dtype=np.int64))
        return np.vstack(codes), np.concatenate(labels), np.concatenate(parents)

    def sample_latent(self, counts: dict, seed: Optional[int] = None):
        """Interpolated codes (before decoding): ``(codes (m, latent_dim), labels (m,))`` for ``counts``."""
        codes, labels, _ = self._interpolate(counts, seed)
        return codes, labels
