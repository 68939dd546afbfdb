"""Speaker-aware ADAN (method ``adan_speaker``): G(z, y, s) with s a speaker style learnt from E's codes.

The style of training speaker s is its offset in ADAN's latent space: the additive speaker model
of :func:`~adan_ser.core.speaker_offsets.speaker_offsets` fitted to the codes E(x) of the training rows
(class means removed, balanced over classes), recomputed from the current encoder at the start of
every epoch. G learns to produce the codes of class y *as spoken by s*; new speakers' styles are
drawn from :class:`~adan_ser.augment.generators.speakers.OffsetGaussian` (shrunk covariance of the training
styles), one draw per synthetic speaker. Shapes: ``X`` (n, d) feature units, codes and styles
(·, latent_dim).
"""

from __future__ import annotations

import inspect
from numbers import Integral
from typing import Optional

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.latent import CHUNK
from adan_ser.augment.generators.latent_inputs import class_indices, sampling_seed
from adan_ser.augment.generators.samplers import LatentSampler, latent_sampler_constraints
from adan_ser.augment.generators.speakers import SHRINKAGES, OffsetGaussian, synthetic_speaker_ids
from adan_ser.core.speaker_offsets import speaker_offsets
from adan_ser.core.errors import InputError

__all__ = ["SpeakerADAN", "SpeakerADANSampler"]


class SpeakerADAN(ADAN):
    """:class:`~adan_ser.augment.generators.adan.ADAN` whose generator also takes a speaker style: G(z, y, s).

    ``fit(X, y, groups)``: ``groups`` (n,) the speaker of each training row (required). Every epoch
    begins with E's codes of all training rows (eval mode, no gradient) and their speaker offsets
    ``styles_`` (S, latent_dim); each row's G input is (z, one-hot y, style of its speaker), so G,
    D and C see the real speakers' variation. Losses, schedule and remedies are ADAN's (the
    ``moments`` diversity term, which groups G's batch by its condition, is refused).

    Sampling: ``n_speakers`` styles drawn from N(0, Σ), Σ the shrunk covariance of ``styles_``; a
    class's rows go round those speakers in turn. :meth:`sample_speakers` gives the synthetic speaker
    id of each row of :meth:`sample` for the same arguments (``~new<k>``, never a training speaker's).

    Parameters
    ----------
    n_speakers : int or None, default=None
        Synthetic speakers to sample; None: as many as training speakers.
    style_shrinkage : {"ledoit_wolf", "oas"}, default="ledoit_wolf"
        Shrinkage of the styles' covariance.
    **adan_params
        ADAN's parameters (see :class:`~adan_ser.augment.generators.adan.ADAN`).

    Attributes
    ----------
    speakers_ : ndarray of shape (S,)
        The training speakers.
    styles_ : ndarray of shape (S, latent_dim)
        Their styles after the last epoch.
    net_, classes_, history_, n_epochs_, class_weight_, diagnostics_, best_epoch_
        As ADAN's.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.tile(["angry", "sad"], 20)
    >>> groups = np.repeat(["s1", "s2", "s3", "s4"], 10)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,),
    ...              clf_hidden=(8,), device="cpu")
    >>> model = SpeakerADAN(n_speakers=2, epochs=2, early_stop=False, **small).fit(X, y, groups=groups)
    >>> X_syn, y_syn = model.sample(counts={"angry": 2, "sad": 2}, seed=0)
    >>> X_syn.shape, model.sample_speakers(counts={"angry": 2, "sad": 2}, seed=0).tolist()
    ((4, 6), ['~new0', '~new1', '~new0', '~new1'])
    """

    _parameter_constraints: dict = {
        **ADAN._parameter_constraints,
        "n_speakers": [Interval(Integral, 1, None, closed="left"), None],
        "style_shrinkage": [StrOptions(set(SHRINKAGES))],
    }

    def __init__(self, n_speakers: Optional[int] = None, style_shrinkage: str = "ledoit_wolf", **adan_params):
        super().__init__(**adan_params)
        self.n_speakers = n_speakers
        self.style_shrinkage = style_shrinkage

    # scikit-learn reads parameter names from the signature: ADAN's, then this class's own, without
    # copying ADAN's forty-odd arguments here.
    __init__.__signature__ = inspect.Signature([
        *inspect.signature(ADAN.__init__).parameters.values(),
        inspect.Parameter("n_speakers", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("style_shrinkage", inspect.Parameter.KEYWORD_ONLY, default="ledoit_wolf"),
    ])

    def _check_combination(self) -> None:
        super()._check_combination()
        if self.diversity == "moments":
            raise InputError(f"{type(self).__name__}: diversity 'moments' groups G's batch by its condition, "
                             f"which holds a speaker style here; use mode_seeking or null")

    def fit(self, X, y, groups=None, feature_names=None):
        """Train on ``X`` (n, d), ``y`` (n,) and ``groups`` (n,) the rows' speakers; returns self."""
        name = type(self).__name__
        if groups is None:
            raise InputError(f"{name} needs groups: the speaker of each training row")
        groups = np.asarray(groups).astype(str)
        if groups.shape != (len(X),):
            raise InputError(f"{name}: {groups.size} groups for {len(X)} training rows")
        self.speakers_, self._speaker_index = np.unique(groups, return_inverse=True)
        if len(self.speakers_) < 2:
            raise InputError(f"{name}: needs at least 2 training speakers, got {len(self.speakers_)}")
        try:
            return super().fit(X, y, feature_names=feature_names)
        finally:
            self.__dict__.pop("_speaker_index", None)
            self.__dict__.pop("_cond", None)

    def _extra_condition_dim(self) -> int:
        return int(self.latent_dim)

    def _condition(self, onehot: torch.Tensor) -> torch.Tensor:
        # styles are filled in by _before_epoch, in place, so G's batches and the probe read the current ones
        self._cond = torch.cat([onehot, onehot.new_zeros((len(onehot), self.latent_dim))], dim=1)
        return self._cond

    def _before_epoch(self, Xs: torch.Tensor, yi_np: np.ndarray) -> None:
        net = self.net_
        net.eval()
        try:
            with torch.no_grad():
                H = torch.cat([net.encoder(Xs[s:s + CHUNK]) for s in range(0, len(Xs), CHUNK)])
        finally:
            net.train()
        _, _, _, self.styles_ = speaker_offsets(H.cpu().numpy().astype(np.float64), yi_np, self._speaker_index)
        styles = torch.from_numpy(self.styles_.astype(np.float32)).to(self.device_)
        self._cond[:, len(self.classes_):] = styles[torch.from_numpy(self._speaker_index).to(self.device_)]

    # ---- sampling ----------------------------------------------------------------------------

    def _speaker_plan(self, idx: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(style of each row (m, latent_dim), synthetic speaker number of each row (m,)) for class indices ``idx``."""
        k = len(self.speakers_) if self.n_speakers is None else int(self.n_speakers)
        # its own stream of the sampling seed: z (drawn in _generated) stays what ADAN draws
        rng = np.random.default_rng([int(seed), 2])
        new = OffsetGaussian(self.style_shrinkage).fit(self.styles_).draw(k, rng)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        starts = np.searchsorted(sorted_idx, sorted_idx, side="left")
        who = np.empty(len(idx), dtype=np.int64)
        who[order] = (np.arange(len(idx)) - starts) % k  # position within its class, round the speakers
        return new[who], who

    def _generated(self, idx, seed):
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(len(idx), self.noise_dim, generator=gen)
        onehot = torch.eye(len(self.classes_))[torch.from_numpy(idx)]
        styles = torch.from_numpy(self._speaker_plan(idx, seed)[0].astype(np.float32))
        cond = torch.cat([z, onehot, styles], dim=1)
        for s in range(0, len(idx), CHUNK):
            yield s, self.net_.generator(cond[s:s + CHUNK].to(self.device_))

    def sample_speakers(self, y=None, counts: Optional[dict] = None, seed: Optional[int] = None) -> np.ndarray:
        """Synthetic speaker id (m,) of each row :meth:`sample` returns for the same arguments; ``seed`` required."""
        if seed is None:
            raise InputError(f"{type(self).__name__}.sample_speakers: give the seed given to sample")
        idx = class_indices(self.classes_, y, counts, type(self).__name__)
        who = self._speaker_plan(idx, sampling_seed(seed, f"{type(self).__name__}.sample_speakers"))[1]
        return synthetic_speaker_ids(np.char.add("new", who.astype(str)), self.speakers_)

    # ---- persistence -------------------------------------------------------------------------

    def _extra_state(self) -> dict:
        return {"speakers": self.speakers_.tolist(), "styles": self.styles_.tolist()}

    def _load_extra_state(self, extra: dict) -> None:
        self.speakers_ = np.asarray(extra["speakers"], dtype=object)
        self.styles_ = np.asarray(extra["styles"], dtype=np.float64)


class SpeakerADANSampler(LatentSampler):
    """imblearn sampler around :class:`SpeakerADAN`; interface as :class:`~adan_ser.augment.generators.samplers.ADANSampler`
    plus ``groups`` (the training rows' speakers) in ``generate`` / ``fit_resample``.

    Parameters
    ----------
    adan : SpeakerADAN or None, default=None
        The (unfitted) model to train; None = ``SpeakerADAN(random_state=random_state)``.
    n_sets, ratio, random_state
        As :class:`~adan_ser.augment.generators.samplers.ADANSampler`.

    Attributes
    ----------
    adan_ : SpeakerADAN
        The trained clone of ``adan``.
    sampling_strategy_ : dict
        ``{label: synthetic rows}`` of the last call.
    synthetic_speaker_ : ndarray of shape (m,)
        The synthetic speaker of each generated row (``~new<k>``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.tile(["angry", "sad"], 20)
    >>> groups = np.repeat(["s1", "s2", "s3", "s4"], 10)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,),
    ...              clf_hidden=(8,), device="cpu")
    >>> sampler = SpeakerADANSampler(SpeakerADAN(epochs=1, early_stop=False, **small), ratio=0.1)
    >>> X_syn, y_syn = sampler.generate(X, y, groups=groups)
    >>> X_syn.shape, len(sampler.synthetic_speaker_)
    ((4, 6), 4)
    """

    needs_groups = True
    _model_cls = SpeakerADAN
    _parameter_constraints: dict = latent_sampler_constraints(SpeakerADAN)

    def _fit_model(self, X, y):
        groups = self.__dict__.pop("_groups", None)
        model = self._model_cls(random_state=self.random_state) if self.adan is None else clone(self.adan)
        self.adan_ = model.fit(X, y, groups=groups)
        return self.adan_

    def _generate(self, X, y, n_new):
        model = self._fit_model(X, y)
        seed = self._sample_seed()
        if seed is None:  # one fresh seed for both calls, so the ids belong to the rows
            seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
        X_syn, y_syn = model.sample(counts=n_new, seed=seed)
        self.synthetic_speaker_ = model.sample_speakers(counts=n_new, seed=seed)
        return X_syn, y_syn

    def _fit_resample(self, X, y, groups=None, **params):
        self._groups = groups
        return super()._fit_resample(X, y)

    def generate(self, X, y, groups=None):
        """Synthetic rows only, ``(X_syn (m, d), y_syn (m,))``; ``groups`` (n,): the rows' speakers."""
        self._groups = groups
        try:
            return super().generate(X, y)
        finally:
            self.__dict__.pop("_groups", None)
