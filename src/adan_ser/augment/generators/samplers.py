"""imblearn samplers around ADAN, its ablation and the AAE, and :func:`load_model` for any saved model.

A sampler composes its model the way imbalanced-learn's ``SMOTEENN(smote=SMOTE(...))`` does:
``ADANSampler(adan=ADAN(epochs=300), n_sets=10, seed=0)``. ``fit_resample``/``generate`` train a
clone of ``adan`` (fitted: ``adan_``) on (X, y), then sample ``n_sets × count`` rows per class
(or ``round(ratio × count)`` when ``ratio`` is given).
"""

from __future__ import annotations

from numbers import Integral
from typing import Optional

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from adan_ser.augment.generators.aae import AAE
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_separate import SeparateADAN
from adan_ser.augment.generators.base import RATIO, SEED, SyntheticSampler, synthetic_counts
from adan_ser.augment.generators.latent import LatentAugmenter

__all__ = ["LatentSampler", "latent_sampler_constraints", "ADANSampler", "SeparateADANSampler", "AAESampler", "load_model"]


def load_model(path, device: Optional[str] = None):
    """Load an :class:`ADAN`, :class:`SeparateADAN` or :class:`AAE` file written by ``save``, whichever it holds.

    ``device`` overrides the saved ``device`` parameter.
    """
    return LatentAugmenter.load(path, device=device)


class LatentSampler(SyntheticSampler):
    """Train a clone of the model ``adan`` on (X, y), then sample ``n_sets × count`` (or
    ``round(ratio × count)``) new rows per class.

    ``seed`` seeds the sampling of the synthetic rows (a stream derived from it, distinct from the
    training streams); the training is seeded by the model's own ``seed``. ``adan=None`` trains
    the model class with its defaults and ``seed`` = this sampler's.
    """

    _model_cls: type = LatentAugmenter

    def __init__(self, adan=None, n_sets: int = 10, ratio: Optional[float] = None, seed: Optional[int] = 0):
        self.adan = adan
        self.n_sets = n_sets
        self.ratio = ratio
        self.seed = seed

    def _counts(self, y):
        return synthetic_counts(y, self.n_sets if self.ratio is None else self.ratio)

    def _fit_model(self, X, y):
        model = self._model_cls(seed=self.seed) if self.adan is None else clone(self.adan)
        self.adan_ = model.fit(X, y)
        return self.adan_

    def _sample_seed(self):
        if self.seed is None:
            return None
        return int(np.random.SeedSequence([self.seed, 1]).generate_state(1, dtype=np.uint64)[0] >> 1)

    def _generate(self, X, y, n_new):
        return self._fit_model(X, y).sample(counts=n_new, seed=self._sample_seed())

    def sample_latent(self, counts: dict, seed: Optional[int] = None):
        """Latent codes of the kind this sampler decodes: ``(codes (m, latent_dim), labels (m,))``,
        ``counts`` {label: n}; the fitted model's :meth:`~adan_ser.augment.generators.latent.LatentAugmenter.sample_latent`."""
        return self.adan_.sample_latent(counts=counts, seed=seed)


def latent_sampler_constraints(model_cls) -> dict:
    """The ``_parameter_constraints`` of a :class:`LatentSampler` composing a ``model_cls``."""
    return {
        "adan": [model_cls, None],
        "n_sets": [Interval(Integral, 0, None, closed="left")],
        "ratio": [RATIO, None],
        "seed": [SEED, None],
    }


class ADANSampler(LatentSampler):
    """imblearn sampler: real rows + samples of a trained :class:`ADAN` (``n_sets`` × each class
    count, paper: 10; ``ratio``, when given, replaces ``n_sets``: ``round(ratio × count)``).

    ``adan``: the (unfitted) :class:`ADAN` to train, None = ``ADAN(seed=seed)``. Fitted: ``adan_``
    (the trained clone), ``sampling_strategy_`` ({label: synthetic rows}).
    """

    _model_cls = ADAN
    _parameter_constraints: dict = latent_sampler_constraints(ADAN)


class SeparateADANSampler(LatentSampler):
    """imblearn sampler around :class:`SeparateADAN` (the ablation); interface as :class:`ADANSampler`.

    ``adan``: the (unfitted) :class:`SeparateADAN` to train, None = ``SeparateADAN(seed=seed)``.
    """

    _model_cls = SeparateADAN
    _parameter_constraints: dict = latent_sampler_constraints(SeparateADAN)


class AAESampler(LatentSampler):
    """imblearn sampler around :class:`~adan_ser.augment.generators.aae.AAE` (Sahu et al.'s adversarial
    autoencoder); interface as :class:`ADANSampler`: new rows are ``R(z)``, ``z ~ p(z | y)``.

    ``adan``: the (unfitted) :class:`AAE` to train (the name every latent sampler gives its model),
    None = ``AAE(seed=seed)``. Fitted: ``adan_`` (the trained clone), ``sampling_strategy_``.
    """

    _model_cls = AAE
    _parameter_constraints: dict = latent_sampler_constraints(AAE)
