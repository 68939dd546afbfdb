"""One declarative entry per augmentation method: the only place a method is named.

An :class:`AugmenterSpec` says what ``augment.<name>`` in params.yaml builds: its kind (``feature``:
a sampler on feature vectors; ``latent``: a sampler composing a latent model, whose training
diagnostics the augment stage logs; ``audio``: a perturber of the corpus audio), the estimator
classes, the settings the method fixes, and its presets (named aliases of another method with
starting settings). Everything else (the params schema block, its defaults, the registries the
stages read) is derived from :data:`AUGMENTERS`, so adding a method is one module with its estimator
and one :func:`register` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, Mapping, Optional

from adan_ser.augment.audio.perturbers import MixPerturber, NoisePerturber, SpeedPerturber
from adan_ser.augment.audio.voices import ChangeGenderPerturber, VTLPPerturber
from adan_ser.augment.generators.aae import AAE
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_separate import SeparateADAN
from adan_ser.augment.generators.adan_speaker import SpeakerADAN, SpeakerADANSampler
from adan_ser.augment.generators.baselines import (
    ADASYNSampler,
    BorderlineSMOTESampler,
    DuplicateSampler,
    GaussianNoiseSampler,
    SMOTESampler,
)
from adan_ser.augment.generators.latent_smote import LatentSMOTESampler
from adan_ser.augment.generators.samplers import AAESampler, ADANSampler, SeparateADANSampler
from adan_ser.augment.generators.speakers import SpeakerOffsetSampler
from adan_ser.core.errors import AdanError

__all__ = ["AugmenterSpec", "AUGMENTERS", "register", "unregister", "specs_of", "version"]

Kind = Literal["feature", "latent", "audio"]
KINDS = ("feature", "latent", "audio")


@dataclass(frozen=True)
class AugmenterSpec:
    """How ``augment.<name>`` is built.

    Parameters
    ----------
    name : str
        The method's name in params.yaml (``augment.methods``, the block ``augment.<name>``) and
        in every result table.
    kind : {"feature", "latent", "audio"}
        ``feature``: ``estimator`` is a sampler (``fit_resample``/``generate`` on (n, d) vectors);
        ``latent``: the same, composing ``model`` (its ``adan`` parameter); ``audio``: ``estimator``
        is an :class:`~adan_ser.augment.audio.perturbers.AudioPerturber` run on the corpus audio.
    estimator : type
        The sampler or perturber class; its constructor's defaults are the block's defaults and
        its ``_parameter_constraints`` the block's kinds and bounds.
    model : type, optional
        ``latent`` only: the model class the sampler composes; its parameters join the block.
    fixed : mapping
        Sampler settings the method fixes (not keys of its block), e.g. the speaker mode.
    model_defaults : mapping
        Model settings the method starts from instead of the model's defaults (keys the block
        gives win), e.g. WADAN's critic on ADAN.
    presets : mapping
        ``{preset: (target method, settings)}``: named aliases the block's ``preset`` key selects;
        the block then builds ``target`` from ``settings`` overlaid by its own keys. The first
        preset is the default.
    hint : str
        One line the params schema shows for the block.
    hints : mapping
        Per-key lines the params schema shows after an error (what the key does).
    """

    name: str
    kind: Kind
    estimator: type
    model: Optional[type] = None
    fixed: Mapping = field(default_factory=dict)
    model_defaults: Mapping = field(default_factory=dict)
    presets: Mapping = field(default_factory=dict)
    hint: str = ""
    hints: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise AdanError(f"augmenter {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if (self.kind == "latent") != (self.model is not None):
            raise AdanError(f"augmenter {self.name!r}: a model is given exactly for kind 'latent'")


#: Every method by name, in params.yaml's order (``none``, the reference, is not a method here).
AUGMENTERS: dict[str, AugmenterSpec] = {}
_VERSION = [0]


def register(spec: AugmenterSpec) -> AugmenterSpec:
    """Add ``spec`` (a new name; replacing one is an error) to :data:`AUGMENTERS`; returns it."""
    if spec.name in AUGMENTERS or spec.name == "none":
        raise AdanError(f"augmentation method {spec.name!r} is already registered")
    AUGMENTERS[spec.name] = spec
    _VERSION[0] += 1
    return spec


def unregister(name: str) -> None:
    """Remove method ``name`` (e.g. a test's own)."""
    del AUGMENTERS[name]
    _VERSION[0] += 1


def version() -> int:
    """A number that changes whenever :data:`AUGMENTERS` does (derived schemas cache on it)."""
    return _VERSION[0]


def specs_of(*kinds: str) -> Iterator[AugmenterSpec]:
    """The registered specs of ``kinds`` (all when none given), in registration order."""
    return (s for s in AUGMENTERS.values() if not kinds or s.kind in kinds)


_N_SPEAKERS = "new speakers per fold; null: as many as training speakers"
_SHRINK = "shrinkage of the speaker offsets' covariance"
_ADAN_HINTS = {
    "adversarial": "wasserstein: a critic with gradient penalty (WADAN)",
    "gp_weight": "weight of the critic's gradient penalty",
    "gp_power": "power of ‖∇D‖ in the gradient penalty",
    "c_label_smoothing": "label smoothing of C's loss",
    "c_dropout": "dropout in C's hidden layers",
    "c_weight_decay": "Adam L2 weight decay of C",
    "g_class_weight": "weight of G's classification term",
    "g_class_warmup": "G's classification term only for the first N epochs; null: always",
    "diversity": "diversity term in G's loss",
    "diversity_weight": "weight of the diversity term",
    "instance_noise": "std of Gaussian noise on D's inputs",
    "d_label_smoothing": "one-sided: D's real target 1 − s",
    "stop": "early-stop rule (diversity: latent spread ratio)",
    "patience": "diagnostic checks without improvement before stop: diversity",
    "diagnostics_every": "epochs between latent diagnostics; 0: none",
    "ae_noise": "std of noise on the encoder input (denoising)",
    "ae_dropout": "dropout in E's and R's hidden layers",
    "ae_weight_decay": "Adam L2 weight decay of E and R",
    "device": "auto, cpu, cuda, cuda:N or mps",
    "lr_d": "null: lr",
    "lr_g": "null: lr",
}
_COPIES = "perturbed copies per training file; a whole augment.ratio sets it (they must agree)"
_SPEAKERS_COPIES = "synthetic speakers per real training speaker; " + _COPIES
_SPEED = {"rate_min": "lowest tempo rate (time stretch, pitch kept)", "rate_max": "highest tempo rate", "copies": _COPIES}
_NOISE = {"snr_db_min": "lowest SNR of the added Gaussian noise (dB)", "snr_db_max": "highest SNR (dB)",
          "copies": _COPIES}

for _spec in (
    AugmenterSpec("duplicate", "feature", DuplicateSampler),
    AugmenterSpec("noise", "feature", GaussianNoiseSampler,
                  hints={"sigma": "noise standard deviation (z-normed units)"}),
    AugmenterSpec("smote", "feature", SMOTESampler),
    AugmenterSpec("borderline_smote", "feature", BorderlineSMOTESampler),
    AugmenterSpec("adasyn", "feature", ADASYNSampler),
    # paper: Yi & Mak's ADAN, every remedy off. validated: the configuration chosen on EmoDB IS11
    # by inner validation on the training speakers of each fold, never the test speaker
    # (results/augmenters_by_validation.csv; docs/results.md, "ADAN without mode collapse"):
    # adan_latent met both bars and had the highest validation UAR of real + synthetic rows
    AugmenterSpec("adan", "latent", ADANSampler, ADAN,
                  hints={**_ADAN_HINTS, "preset": "paper: Yi & Mak's ADAN; validated: the configuration chosen "
                                                  "by inner validation"},
                  presets={"paper": ("adan", {}), "validated": ("adan_latent", {"k_neighbors": 5, "residual": True})}),
    AugmenterSpec("adan_separate", "latent", SeparateADANSampler, SeparateADAN, hints=_ADAN_HINTS),
    # the authors' WADAN: critic with gradient penalty, 2 critic steps per batch, G's CE weight
    # 0.1, a fixed number of epochs
    AugmenterSpec("wadan", "latent", ADANSampler, ADAN, hint="ADAN with a Wasserstein critic (WADAN)",
                  hints=_ADAN_HINTS,
                  model_defaults={"adversarial": "wasserstein", "gp_weight": 10.0, "gp_power": 10.0, "d_steps": 2,
                                  "g_class_weight": 0.1, "early_stop": False}),
    AugmenterSpec("adan_latent", "latent", LatentSMOTESampler, ADAN, hint="SMOTE in ADAN's latent space",
                  hints={**_ADAN_HINTS, "k_neighbors": "same-class neighbours in latent space",
                         "residual": "add the parent's residual x − R(E(x)) back"}),
    AugmenterSpec("aae", "latent", AAESampler, AAE, hint="adversarial autoencoder (Sahu et al. 2017)",
                  hints={"device": _ADAN_HINTS["device"],
                         "prior_std": "standard deviation of each class's Gaussian prior",
                         "prior_radius": "distance of each class's prior mean from 0"}),
    AugmenterSpec("speaker_swap", "feature", SpeakerOffsetSampler,
                  fixed={"mode": "swap", "shrinkage": "ledoit_wolf", "n_speakers": None},
                  hint="rows re-voiced with another training speaker's offset"),
    AugmenterSpec("speaker_new", "feature", SpeakerOffsetSampler, fixed={"mode": "new"},
                  hint="rows re-voiced with new speakers' offsets",
                  hints={"shrinkage": _SHRINK, "n_speakers": _N_SPEAKERS}),
    AugmenterSpec("adan_speaker", "latent", SpeakerADANSampler, SpeakerADAN,
                  hint="ADAN with a speaker style: G(z, y, s)",
                  hints={**_ADAN_HINTS, "n_speakers": _N_SPEAKERS,
                         "style_shrinkage": "shrinkage of the speaker styles' covariance"}),
    AugmenterSpec("audio_speed", "audio", SpeedPerturber, hint="tempo change of the audio", hints=_SPEED),
    AugmenterSpec("audio_noise", "audio", NoisePerturber, hint="Gaussian noise added to the audio", hints=_NOISE),
    AugmenterSpec("audio_mix", "audio", MixPerturber, hint="tempo, pitch, noise and gain, each with a probability",
                  hints={**_SPEED, **_NOISE, "semitones_min": "lowest pitch shift (semitones)",
                         "semitones_max": "highest pitch shift (semitones)", "gain_db_min": "lowest gain (dB)",
                         "gain_db_max": "highest gain (dB)", "p_speed": "probability of the tempo change",
                         "p_pitch": "probability of the pitch shift", "p_noise": "probability of the noise",
                         "p_gain": "probability of the gain"}),
    AugmenterSpec("audio_voice", "audio", ChangeGenderPerturber, hint="synthetic speakers: Praat's Change gender",
                  hints={"copies": _SPEAKERS_COPIES, "pitch_floor": "Praat pitch analysis floor (Hz)",
                         "pitch_ceiling": "pitch analysis ceiling (Hz)",
                         "formant_ratio_min": "lowest formant shift ratio (Praat)",
                         "formant_ratio_max": "highest formant shift ratio",
                         "pitch_factor_min": "lowest factor on each file's median F0",
                         "pitch_factor_max": "highest factor on the median F0"}),
    AugmenterSpec("audio_vtlp", "audio", VTLPPerturber,
                  hint="synthetic speakers: WORLD vocal tract length perturbation",
                  hints={"copies": _SPEAKERS_COPIES, "alpha_min": "lowest vocal tract length warp factor",
                         "alpha_max": "highest warp factor", "pitch_factor_min": "lowest F0 factor",
                         "pitch_factor_max": "highest F0 factor"}),
):
    register(_spec)
del _spec
