"""imblearn samplers around ADAN, its ablation and the AAE, and :func:`load_model` for any saved model.

A sampler composes its model the way imbalanced-learn's ``SMOTEENN(smote=SMOTE(...))`` does:
``ADANSampler(adan=ADAN(epochs=300), n_sets=10, random_state=0)``. ``fit_resample``/``generate`` train a
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

    The base of the latent samplers: a subclass names its model class (``_model_cls``) and its
    constraints (:func:`latent_sampler_constraints`).

    Parameters
    ----------
    adan : estimator or None, default=None
        The (unfitted) model to train; None trains the model class with its defaults and ``random_state``.
    n_sets : int, default=10
        Synthetic rows per real row of each class (paper: 10), when ``ratio`` is None.
    ratio : float or None, default=None
        Replaces ``n_sets``: ``round(ratio × count)`` rows per class.
    random_state : int or None, default=0
        Seed of the sampling (a stream derived from it); the training is seeded by the model's own
        ``random_state``, or by this one when ``adan`` is None.

    Attributes
    ----------
    adan_ : estimator
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    See :class:`ADANSampler`.
    """

    _model_cls: type = LatentAugmenter

    def __init__(self, adan=None, n_sets: int = 10, ratio: Optional[float] = None, random_state: Optional[int] = 0):
        self.adan = adan
        self.n_sets = n_sets
        self.ratio = ratio
        self.random_state = random_state

    def _counts(self, y):
        return synthetic_counts(y, self.n_sets if self.ratio is None else self.ratio)

    def _fit_model(self, X, y):
        model = self._model_cls(random_state=self.random_state) if self.adan is None else clone(self.adan)
        self.adan_ = model.fit(X, y)
        return self.adan_

    def _sample_seed(self):
        if self.random_state is None:
            return None
        return int(np.random.SeedSequence([self.random_state, 1]).generate_state(1, dtype=np.uint64)[0] >> 1)

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
        "random_state": [SEED, None],
    }


class ADANSampler(LatentSampler):
    """imblearn sampler: real rows + samples of a trained :class:`~adan_ser.augment.generators.adan.ADAN`.

    Parameters
    ----------
    adan : ADAN or None, default=None
        The (unfitted) model to train; None = ``ADAN(random_state=random_state)``.
    n_sets : int, default=10
        Synthetic rows per real row of each class (paper: 10), when ``ratio`` is None.
    ratio : float or None, default=None
        Replaces ``n_sets``: ``round(ratio × count)`` rows per class.
    random_state : int or None, default=0
        Seed of the sampling (a stream derived from it); the training is seeded by the model's own
        ``random_state``, or by this one when ``adan`` is None.

    Attributes
    ----------
    adan_ : estimator
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,),
    ...              clf_hidden=(8,), device="cpu")
    >>> sampler = ADANSampler(ADAN(epochs=2, early_stop=False, **small), ratio=0.5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape, sampler.sampling_strategy_
    ((60, 6), {'angry': 10, 'sad': 10})
    """

    _model_cls = ADAN
    _parameter_constraints: dict = latent_sampler_constraints(ADAN)


class SeparateADANSampler(LatentSampler):
    """imblearn sampler around :class:`~adan_ser.augment.generators.adan_separate.SeparateADAN` (the ablation).

    Parameters
    ----------
    adan : SeparateADAN or None, default=None
        The (unfitted) model to train; None = ``SeparateADAN(random_state=random_state)``.
    n_sets : int, default=10
        Synthetic rows per real row of each class (paper: 10), when ``ratio`` is None.
    ratio : float or None, default=None
        Replaces ``n_sets``: ``round(ratio × count)`` rows per class.
    random_state : int or None, default=0
        Seed of the sampling (a stream derived from it); the training is seeded by the model's own
        ``random_state``, or by this one when ``adan`` is None.

    Attributes
    ----------
    adan_ : estimator
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,), device="cpu")
    >>> model = SeparateADAN(ae_epochs=1, epochs=1, early_stop=False, **small)
    >>> X_syn, y_syn = SeparateADANSampler(model, n_sets=1).generate(X, y)
    >>> X_syn.shape
    (40, 6)
    """

    _model_cls = SeparateADAN
    _parameter_constraints: dict = latent_sampler_constraints(SeparateADAN)


class AAESampler(LatentSampler):
    """imblearn sampler around :class:`~adan_ser.augment.generators.aae.AAE` (Sahu et al.'s adversarial
    autoencoder): new rows are ``R(z)``, ``z ~ p(z | y)``.

    Parameters
    ----------
    adan : AAE or None, default=None
        The (unfitted) model to train (the name every latent sampler gives its model);
        None = ``AAE(random_state=random_state)``.
    n_sets : int, default=10
        Synthetic rows per real row of each class (paper: 10), when ``ratio`` is None.
    ratio : float or None, default=None
        Replaces ``n_sets``: ``round(ratio × count)`` rows per class.
    random_state : int or None, default=0
        Seed of the sampling (a stream derived from it); the training is seeded by the model's own
        ``random_state``, or by this one when ``adan`` is None.

    Attributes
    ----------
    adan_ : estimator
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    n_features_in_ : int
        Number of features seen during the last call.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> model = AAE(latent_dim=3, enc_hidden=(8,), disc_hidden=(8,), epochs=1, device="cpu")
    >>> X_syn, y_syn = AAESampler(model, ratio=0.25).generate(X, y)
    >>> X_syn.shape, sorted(set(y_syn.tolist()))
    ((10, 6), ['angry', 'sad'])
    """

    _model_cls = AAE
    _parameter_constraints: dict = latent_sampler_constraints(AAE)
