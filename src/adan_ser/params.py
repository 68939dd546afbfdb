"""``params.yaml``: its schema, and the one reader of it (only the CLI calls this; library functions
get plain arguments).

:func:`load_params` parses the file and validates ALL of it against :class:`Params` before any
stage runs, so a wrong value stops every command at once with one line naming the key, the value
and what is allowed (``params.yaml: eval.seeds: '12' is not ...``), never a traceback or a value
misread (a string read letter by letter, ``"1e-3"`` passed on as text). Rules:

* unknown keys are errors, at every level (a typo never silently falls back to a default);
* no value is converted: numbers stay the int or float YAML gave, strings are not read as numbers;
  the one exception is ``eval.seeds``, where one integer means a list of that one seed;
* an absent key takes the default written below (the library's where a block is passed on);
  ``null`` does the same for list, mapping and block values;
* the blocks passed on to a library constructor (``classify.svm``, ``augment.adan``, ...) are
  checked here for their keys and value types; the constructor checks the rest (e.g. cross-field
  rules) and gets exactly the keys the file gives (:meth:`Params.block`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from adan_ser.augment import registry as _registry, specs as _specs
from adan_ser.classifiers.specs import CLASSIFIERS
from adan_ser.contracts.names import REFERENCE_METHOD
from adan_ser.core.errors import AdanError

__all__ = ["Params", "load_params", "validate_params", "get"]


# ------------------------------------------------------------------------------------ value types


def _num(**bounds):
    """An int or a finite float (kept as given; a bool or a string is not a number) within ``bounds``."""
    return Union[Annotated[StrictInt, Field(**bounds)], Annotated[StrictFloat, Field(allow_inf_nan=False, **bounds)]]


def _int(**bounds):
    return Annotated[StrictInt, Field(**bounds)]


Count = _int(ge=1)
Natural = _int(ge=0)
Positive = _num(gt=0)
NonNegative = _num(ge=0)
Share = _num(gt=0, lt=1)
Str = StrictStr
Bool = StrictBool
Sizes = list[Count]
ClassWeight = Optional[Union[Literal["balanced"], dict[StrictStr, NonNegative]]]

_SCHEDULER = re.compile(r"^(local|localcluster:[1-9]\d*|[A-Za-z][\w+.-]*://\S+)$")


def _scheduler(value: str) -> str:
    if not _SCHEDULER.match(value):
        raise ValueError("not a scheduler")
    return value


Scheduler = Annotated[StrictStr, AfterValidator(_scheduler)]
SCHEDULER_KIND = "'local', 'localcluster:N' (N ≥ 1) or a Dask scheduler address like 'tcp://host:8786'"


def _seeds(value):
    seeds = [value] if isinstance(value, int) else value
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("not distinct or empty")
    return seeds


# numpy's legacy RandomState, scikit-learn's random_state and torch.manual_seed take seeds below
# 2^32; a larger one would fail deep inside a run instead of here
Seed = _int(ge=0, lt=2**32)
SEED_KIND = "an integer in [0, 2^32)"
Seeds = Annotated[Union[Seed, list[Seed]], AfterValidator(_seeds)]


def _not_one(value: list) -> list:
    if len(set(value)) == 1 or len(set(value)) != len(value):
        raise ValueError("one class, or a class twice")
    return value


class _Reason(ValueError):
    """A validator's refusal whose message is shown after the key (what exactly is wrong)."""


def _device(value: str) -> str:
    if value in ("auto", "cpu"):
        return value  # no torch import for the common case: every command validates the file
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise _Reason("not a torch device name") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise _Reason("torch sees no CUDA device on this machine; use auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise _Reason(f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise _Reason("torch sees no MPS device on this machine; use auto or cpu")
    elif device.type != "cpu":
        raise _Reason("not a device the models run on")
    return value


Device = Annotated[StrictStr, AfterValidator(_device)]
DEVICE_KIND = "a device available here"


def _fractions(value):
    fractions = value if isinstance(value, list) else [value]
    if not fractions or len(set(fractions)) != len(fractions):
        raise ValueError("not distinct or empty")
    return value


Fraction = _num(gt=0, le=1)
Fractions = Annotated[Union[Fraction, list[Fraction]], AfterValidator(_fractions)]


def key(default: Any = None, kind: str = "", hint: str = "", **kwargs) -> Any:
    """A field: ``kind`` completes "<value> is not ..." in errors; ``hint`` says what the key does."""
    if isinstance(default, (list, dict)):
        kwargs["default_factory"] = lambda: type(default)(default)
    elif isinstance(default, type) and issubclass(default, BaseModel):
        kwargs["default_factory"] = default
    else:
        kwargs["default"] = default
    return Field(description=hint, json_schema_extra={"kind": kind}, **kwargs)


class Block(BaseModel):
    """A params mapping: strict types, unknown keys are errors, ``null`` for a list, mapping or
    block means its default."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data):
        if not isinstance(data, dict):
            return data
        out = {}
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(name, str) else None
            if value is None and field is not None and field.default_factory is not None:
                continue
            out[name] = value
        return out


def block(model: type[Block], hint: str = "") -> Any:
    return key(model, "a mapping", hint)


# ------------------------------------------------------------------------------------ the schema


class EvalParams(Block):
    seeds: Optional[Seeds] = key(None, "a non-empty list of distinct integers in [0, 2^32), or one integer",
                                 "run seeds, e.g. [0, 1, 2]; absent: [seed]")
    alpha: Share = key(0.05, "a number in (0, 1)", "family-wise level of Holm's correction")
    confidence: Share = key(0.95, "a number in (0, 1)", "level of the bootstrap intervals")
    n_resamples: Count = key(9999, "an integer ≥ 1", "bootstrap resamples and sign flips")
    references: list[Str] = key([], "a list of augmentation methods",
                                "also compare every augmented row with these methods' rows, e.g. [smote]")
    # entries checked by _check_primary (one line naming eval.primary[i].key) before this schema runs
    primary: list[dict[StrictStr, Any]] = key([], "a list of comparisons",
                                              "the confirmatory family, at most 6 (docs/methods.md)")
    equivalence_margin: NonNegative = key(1.0, "a number ≥ 0",
                                          "TOST margin in metric points; 0: no equivalence test")


class DemoParams(Block):
    # bounds a typo away from filling the disk: 1000 speakers × 4 emotions × 10 utterances is 2 GB
    # of wav; generate_demo also refuses, before writing, a corpus the free space cannot hold
    speakers: _int(ge=1, le=1000) = key(8, "an integer in [1, 1000]")
    utterances_per_class: _int(ge=1, le=10_000) = key(10, "an integer in [1, 10000]")
    emotions: list[Str] = key(["angry", "happy", "neutral", "sad"], "a list of emotion words")
    sample_rate: Count = key(16000, "an integer ≥ 1", "Hz")
    seed: Seed = key(0, SEED_KIND)
    # 10^6 is the largest corpus docs/scaling.md measures (about 24 GB of 0.5-1.0 s wav)
    utterances: Optional[_int(ge=1, le=1_000_000)] = key(None, "an integer in [1, 10^6] or null")


class DataParams(Block):
    corpus: Optional[Str] = key(None, "a corpus name", "demo, emodb, iemocap, ravdess, cremad or csv")
    root: Optional[Str] = key(None, "a path", "the corpus folder (csv: the CSV file or its folder)")
    # one class would be no recognition at all: every stage after prepare would fail on it
    classes: Annotated[list[Str], AfterValidator(_not_one)] = key(
        [], "a list of two or more distinct emotion words, or []", "e.g. [angry, happy, neutral, sad]; [] keeps all")
    merge_excited: Bool = key(False, "true or false", "IEMOCAP: count excited as happy")
    demo: Optional[DemoParams] = key(None, "a mapping", "the generated demo corpus")


class FeatureParams(Block):
    set: Optional[Str] = key(None, "an openSMILE feature set name", "e.g. eGeMAPSv02, IS09, IS11")
    workers: Count = key(1, "an integer ≥ 1", "extraction processes")
    scheduler: Scheduler = key("local", SCHEDULER_KIND)
    skip_bad: Bool = key(False, "true or false", "list unreadable files and go on without them")


class DownsampleParams(Block):
    classes: list[Str] = key([], "a list of emotion words")
    keep: Optional[_num(gt=0, le=1)] = key(None, "a number in (0, 1]", "share of those classes' rows kept")
    seed: Optional[Seed] = key(None, SEED_KIND)


class CVParams(Block):
    scheme: Optional[Str] = key(None, "a fold scheme", "leave-one-speaker-out or leave-one-session-out")
    scheduler: Optional[Scheduler] = key(None, SCHEDULER_KIND + " or null")
    train_downsample: DownsampleParams = block(DownsampleParams, "classes cut in every training fold")
    train_fraction: Fractions = key(1.0, "a number in (0, 1] or a non-empty list of distinct numbers in (0, 1]",
                                    "share of each training speaker's utterances per emotion kept; a list: "
                                    "a learning curve")


class SVMParams(Block):
    kernel: Literal["linear", "rbf", "poly", "sigmoid"] = key("rbf", "one of linear, rbf, poly, sigmoid")
    C: Positive = key(1.0, "a number > 0", "SVM regularisation")
    gamma: Union[Literal["scale", "auto"], Positive] = key("scale", "scale, auto or a number > 0")
    class_weight: ClassWeight = key(None, "null, balanced or a mapping class → weight")
    inner_search: Bool = key(False, "true or false")
    grid: Optional[dict[Str, list[Any]]] = key(None, "a mapping parameter → list of values, or null")
    solver: Literal["auto", "libsvm", "liblinear"] = key("auto", "one of auto, libsvm, liblinear",
                                                         "linear kernel's solver; auto: by training rows")


HeadParams = dict[Str, Optional[dict[Str, Any]]]
HEAD_PARAMS_KIND = "a mapping head name → {parameter: value}"


class DNNParams(Block):
    hidden: Sizes = key([256, 256], "a list of integers ≥ 1", "hidden layer widths")
    activation: Literal["relu", "tanh", "leaky_relu"] = key("relu", "one of relu, tanh, leaky_relu")
    dropout: _num(ge=0, lt=1) = key(0.3, "a number in [0, 1)")
    batch_norm: Bool = key(False, "true or false", "batch normalisation after each hidden layer")
    lr: Positive = key(0.001, "a number > 0")
    weight_decay: NonNegative = key(0.0, "a number ≥ 0", "Adam weight decay on every parameter")
    l2: NonNegative = key(0.0, "a number ≥ 0", "Keras-style L2 penalty l2·Σw² on Linear kernels")
    l2_first: Bool = key(True, "true or false", "whether l2 also penalises the first hidden layer")
    epochs: Count = key(100, "an integer ≥ 1")
    batch_size: Count = key(64, "an integer ≥ 1")
    patience: Natural = key(10, "an integer ≥ 0")
    val_groups: Natural = key(1, "an integer ≥ 0")
    class_weight: ClassWeight = key(None, "null, balanced or a mapping class → weight")
    device: Device = key("auto", DEVICE_KIND, "auto, cpu, cuda, cuda:N or mps")
    head: Str = key("softmax", "a head name", "e.g. softmax, arcface, arcface+focal")
    head_params: Optional[dict[Str, Any]] = key(None, "a mapping or null")


class ClassifyParams(Block):
    models: Optional[list[Literal[tuple(CLASSIFIERS)]]] = key(None, "a list of " + " and/or ".join(CLASSIFIERS))
    svm: SVMParams = block(SVMParams)
    dnn: DNNParams = block(DNNParams)
    heads: list[Str] = key([], "a list of head names", "e.g. [softmax, arcface+focal]")
    heads_on: dict[Str, Optional[list[Str]]] = key({}, "a mapping method → list of train data",
                                                   "e.g. {none: [real], adan: [real+synthetic]}")
    head_params: HeadParams = key({}, HEAD_PARAMS_KIND, "e.g. {arcface: {s: 30, m: 0.5}}")
    scale_on: Literal["real", "all"] = key("real", "real or all")
    normalise: Literal["none", "speaker", "speaker_mean"] = key(
        "none", "none, speaker or speaker_mean", "per-speaker z-scores / means from unlabelled test-speaker audio")
    enrol: Optional[Count] = key(None, "null or an integer ≥ 1", "test utterances per speaker for its statistics")


#: Methods that perturb the corpus audio (adan_ser.augment.audio.perturbers) rather than feature vectors.
AUDIO_METHODS = tuple(_registry.AUDIO_METHODS)
METHODS = (REFERENCE_METHOD, *_specs.AUGMENTERS)
Method = Literal[METHODS]
# 100 synthetic rows per real one already makes a training set 101 times its size (EmoDB with IS11:
# 9 GB of float32); beyond, memory runs out (1e9 was a MemoryError) long before any gain
Ratio = Optional[_num(gt=0, le=100)]
RATIO_KIND = "a number in (0, 100] or null"


class NoParams(Block):
    pass


class DuplicateParams(Block):
    ratio: Ratio = key(None, RATIO_KIND)


class NoiseParams(DuplicateParams):
    sigma: NonNegative = key(0.1, "a number ≥ 0", "noise standard deviation (z-normed units)")


class SMOTEParams(DuplicateParams):
    k_neighbors: Count = key(5, "an integer ≥ 1")


class BorderlineSMOTEParams(SMOTEParams):
    m_neighbors: Count = key(10, "an integer ≥ 1")
    kind: Literal["borderline-1", "borderline-2"] = key("borderline-1", "borderline-1 or borderline-2")


class _AutoencoderParams(Block):
    """What every latent-space augmenter takes (encoder, decoder, a latent discriminator)."""
    n_sets: Natural = key(10, "an integer ≥ 0")
    ratio: Ratio = key(None, RATIO_KIND)
    latent_dim: Count = key(100, "an integer ≥ 1")
    enc_hidden: Sizes = key([800, 800], "a list of integers ≥ 1")
    disc_hidden: Sizes = key([100, 100], "a list of integers ≥ 1")
    activation: Literal["tanh", "leaky_bn"] = key("tanh", "tanh or leaky_bn")
    scaling: Literal["znorm", "maxabs"] = key("znorm", "znorm or maxabs")
    d_steps: Count = key(1, "an integer ≥ 1")
    g_loss: Literal["nonsaturating", "minimax"] = key("nonsaturating", "nonsaturating or minimax")
    lr: Positive = key(0.0001, "a number > 0")
    beta1: _num(ge=0, lt=1) = key(0.5, "a number in [0, 1)")
    eps: Positive = key(1e-5, "a number > 0")
    batch_size: Count = key(128, "an integer ≥ 1")
    epochs: Count = key(1500, "an integer ≥ 1")
    device: Device = key("auto", DEVICE_KIND, "auto, cpu, cuda, cuda:N or mps")


class _LatentParams(_AutoencoderParams):
    """ADAN and its ablation: a latent generator G(z, y) and an early stop."""
    gen_hidden: Sizes = key([100, 100], "a list of integers ≥ 1")
    noise_dim: Count = key(100, "an integer ≥ 1")
    early_stop: Bool = key(True, "true or false")
    min_epochs: Natural = key(200, "an integer ≥ 0")


class _ADANParams(_LatentParams):
    """ADAN's own keys, shared by the methods built on it (wadan, adan_latent)."""
    clf_hidden: Optional[Sizes] = key([100, 100], "a list of integers ≥ 1")
    class_weight: ClassWeight = key(None, "null, balanced or a mapping class → weight")
    lr_d: Optional[Positive] = key(None, "a number > 0 or null (= lr)")
    lr_g: Optional[Positive] = key(None, "a number > 0 or null (= lr)")
    adversarial: Literal["gan", "wasserstein"] = key("gan", "gan or wasserstein",
                                                     "wasserstein: a critic with gradient penalty (WADAN)")
    gp_weight: NonNegative = key(10.0, "a number ≥ 0", "weight of the critic's gradient penalty")
    gp_power: Positive = key(10.0, "a number > 0", "power of ‖∇D‖ in the gradient penalty")
    c_label_smoothing: _num(ge=0, lt=1) = key(0.0, "a number in [0, 1)", "label smoothing of C's loss")
    c_dropout: _num(ge=0, lt=1) = key(0.0, "a number in [0, 1)", "dropout in C's hidden layers")
    c_weight_decay: NonNegative = key(0.0, "a number ≥ 0", "Adam L2 weight decay of C")
    g_class_weight: NonNegative = key(1.0, "a number ≥ 0", "weight of G's classification term")
    g_class_warmup: Optional[Natural] = key(None, "an integer ≥ 0 or null",
                                            "G's classification term only for the first N epochs; null: always")
    diversity: Optional[Literal["mode_seeking", "moments"]] = key(None, "null, mode_seeking or moments",
                                                                  "diversity term in G's loss")
    diversity_weight: NonNegative = key(1.0, "a number ≥ 0", "weight of the diversity term")
    instance_noise: NonNegative = key(0.0, "a number ≥ 0", "std of Gaussian noise on D's inputs")
    d_label_smoothing: _num(ge=0, lt=1) = key(0.0, "a number in [0, 1)", "one-sided: D's real target 1 − s")
    stop: Literal["d_balance", "diversity"] = key("d_balance", "d_balance or diversity",
                                                  "early-stop rule (diversity: latent spread ratio)")
    patience: Count = key(5, "an integer ≥ 1", "diagnostic checks without improvement before stop: diversity")
    diagnostics_every: Natural = key(10, "an integer ≥ 0", "epochs between latent diagnostics; 0: none")
    ae_noise: NonNegative = key(0.0, "a number ≥ 0", "std of noise on the encoder input (denoising)")
    ae_dropout: _num(ge=0, lt=1) = key(0.0, "a number in [0, 1)", "dropout in E's and R's hidden layers")
    ae_weight_decay: NonNegative = key(0.0, "a number ≥ 0", "Adam L2 weight decay of E and R")


#: Names of the ``augment.adan.preset`` configurations (adan_ser.augment.registry.PRESETS).
PRESETS = tuple(_registry.PRESETS)


class ADANParams(_ADANParams):
    preset: Literal[PRESETS] = key("paper", "paper or validated",
                                   "paper: Yi & Mak's ADAN; validated: the configuration chosen by inner validation")


class WADANParams(_ADANParams):
    adversarial: Literal["gan", "wasserstein"] = key("wasserstein", "gan or wasserstein")
    d_steps: Count = key(2, "an integer ≥ 1")
    g_class_weight: NonNegative = key(0.1, "a number ≥ 0", "weight of G's classification term")
    early_stop: Bool = key(False, "true or false")


class LatentSMOTEParams(_ADANParams):
    k_neighbors: Count = key(5, "an integer ≥ 1", "same-class neighbours in latent space")
    residual: Bool = key(True, "true or false", "add the parent's residual x − R(E(x)) back")


N_SPEAKERS_HINT = "new speakers per fold; null: as many as training speakers"


class SpeakerSwapParams(DuplicateParams):
    pass


class SpeakerNewParams(DuplicateParams):
    shrinkage: Literal["ledoit_wolf", "oas"] = key("ledoit_wolf", "ledoit_wolf or oas",
                                                   "shrinkage of the speaker offsets' covariance")
    n_speakers: Optional[Count] = key(None, "an integer ≥ 1 or null", N_SPEAKERS_HINT)


class SpeakerADANParams(_ADANParams):
    n_speakers: Optional[Count] = key(None, "an integer ≥ 1 or null", N_SPEAKERS_HINT)
    style_shrinkage: Literal["ledoit_wolf", "oas"] = key("ledoit_wolf", "ledoit_wolf or oas",
                                                         "shrinkage of the speaker styles' covariance")


class SeparateADANParams(_LatentParams):
    ae_epochs: Natural = key(200, "an integer ≥ 0")


class AAEParams(_AutoencoderParams):
    disc_hidden: Sizes = key([500, 500], "a list of integers ≥ 1")
    lr: Positive = key(0.001, "a number > 0")
    epochs: Count = key(150, "an integer ≥ 1")
    prior_std: Positive = key(1.0, "a number > 0", "standard deviation of each class's Gaussian prior")
    prior_radius: NonNegative = key(5.0, "a number ≥ 0", "distance of each class's prior mean from 0")


Probability = _num(ge=0, le=1)
COPIES_KIND = "an integer ≥ 1"
COPIES_HINT = "perturbed copies per training file; a whole augment.ratio sets it (they must agree)"


class AudioSpeedParams(Block):
    rate_min: Positive = key(0.9, "a number > 0", "lowest tempo rate (time stretch, pitch kept)")
    rate_max: Positive = key(1.1, "a number > 0", "highest tempo rate")
    copies: Count = key(1, COPIES_KIND, COPIES_HINT)


class AudioNoiseParams(Block):
    snr_db_min: _num() = key(15.0, "a number", "lowest SNR of the added Gaussian noise (dB)")
    snr_db_max: _num() = key(30.0, "a number", "highest SNR (dB)")
    copies: Count = key(1, COPIES_KIND, COPIES_HINT)


class AudioMixParams(AudioSpeedParams, AudioNoiseParams):
    p_speed: Probability = key(0.5, "a number in [0, 1]", "probability of the tempo change")
    semitones_min: _num() = key(-2.0, "a number", "lowest pitch shift (semitones)")
    semitones_max: _num() = key(2.0, "a number", "highest pitch shift (semitones)")
    p_pitch: Probability = key(0.5, "a number in [0, 1]", "probability of the pitch shift")
    p_noise: Probability = key(0.5, "a number in [0, 1]", "probability of the noise")
    gain_db_min: _num() = key(-6.0, "a number", "lowest gain (dB)")
    gain_db_max: _num() = key(6.0, "a number", "highest gain (dB)")
    p_gain: Probability = key(0.5, "a number in [0, 1]", "probability of the gain")


# Bounds as in adan_ser.augment.audio.perturbers (FORMANT_RATIO_BOUNDS, ...); tests/augment/test_voices.py keeps them equal.
def _between(low: float, high: float):
    """An int or a finite float in [low, high] (fractional bounds: _num's int variant takes only whole ones)."""
    return Union[Annotated[StrictInt, Field(ge=math.ceil(low), le=math.floor(high))],
                 Annotated[StrictFloat, Field(allow_inf_nan=False, ge=low, le=high)]]


FormantRatio = _between(0.7, 1.4)
PitchFactor = _between(0.5, 2.0)
VTLPAlpha = _between(0.8, 1.2)


class AudioVoiceParams(Block):
    formant_ratio_min: FormantRatio = key(0.85, "a number in [0.7, 1.4]", "lowest formant shift ratio (Praat)")
    formant_ratio_max: FormantRatio = key(1.18, "a number in [0.7, 1.4]", "highest formant shift ratio")
    pitch_factor_min: PitchFactor = key(0.8, "a number in [0.5, 2]", "lowest factor on each file's median F0")
    pitch_factor_max: PitchFactor = key(1.25, "a number in [0.5, 2]", "highest factor on the median F0")
    pitch_floor: _num(ge=30, le=300) = key(75.0, "a number in [30, 300]", "Praat pitch analysis floor (Hz)")
    pitch_ceiling: _num(ge=200, le=1200) = key(600.0, "a number in [200, 1200]", "pitch analysis ceiling (Hz)")
    copies: Count = key(1, COPIES_KIND, "synthetic speakers per real training speaker; " + COPIES_HINT)


class AudioVTLPParams(Block):
    alpha_min: VTLPAlpha = key(0.9, "a number in [0.8, 1.2]", "lowest vocal tract length warp factor")
    alpha_max: VTLPAlpha = key(1.1, "a number in [0.8, 1.2]", "highest warp factor")
    pitch_factor_min: PitchFactor = key(0.8, "a number in [0.5, 2]", "lowest F0 factor")
    pitch_factor_max: PitchFactor = key(1.25, "a number in [0.5, 2]", "highest F0 factor")
    copies: Count = key(1, COPIES_KIND, "synthetic speakers per real training speaker; " + COPIES_HINT)


class AugmentParams(Block):
    methods: list[Method] = key([], "a list of augmentation methods", ", ".join(METHODS))
    ratio: Ratio = key(None, RATIO_KIND, "synthetic vectors per real one; null: each method's default")
    train_data: list[Literal["synthetic", "real+synthetic"]] = key(
        ["real+synthetic"], "a list of synthetic and/or real+synthetic")
    none: NoParams = block(NoParams)
    duplicate: DuplicateParams = block(DuplicateParams)
    noise: NoiseParams = block(NoiseParams)
    smote: SMOTEParams = block(SMOTEParams)
    borderline_smote: BorderlineSMOTEParams = block(BorderlineSMOTEParams)
    adasyn: SMOTEParams = block(SMOTEParams)
    adan: ADANParams = block(ADANParams)
    adan_separate: SeparateADANParams = block(SeparateADANParams)
    wadan: WADANParams = block(WADANParams, "ADAN with a Wasserstein critic (WADAN)")
    adan_latent: LatentSMOTEParams = block(LatentSMOTEParams, "SMOTE in ADAN's latent space")
    aae: AAEParams = block(AAEParams, "adversarial autoencoder (Sahu et al. 2017)")
    speaker_swap: SpeakerSwapParams = block(SpeakerSwapParams, "rows re-voiced with another training speaker's offset")
    speaker_new: SpeakerNewParams = block(SpeakerNewParams, "rows re-voiced with new speakers' offsets")
    adan_speaker: SpeakerADANParams = block(SpeakerADANParams, "ADAN with a speaker style: G(z, y, s)")
    audio_speed: AudioSpeedParams = block(AudioSpeedParams, "tempo change of the audio")
    audio_noise: AudioNoiseParams = block(AudioNoiseParams, "Gaussian noise added to the audio")
    audio_mix: AudioMixParams = block(AudioMixParams, "tempo, pitch, noise and gain, each with a probability")
    audio_voice: AudioVoiceParams = block(AudioVoiceParams, "synthetic speakers: Praat's Change gender")
    audio_vtlp: AudioVTLPParams = block(AudioVTLPParams, "synthetic speakers: WORLD vocal tract length perturbation")


class LinearFrontend(Block):
    win_ms: Positive = key(40.0, "a number > 0")
    hop_ms: Positive = key(10.0, "a number > 0")
    n_fft: Count = key(1600, "an integer ≥ 1")
    fmax: Positive = key(4000.0, "a number > 0", "Hz")


class MelFrontend(Block):
    win_ms: Positive = key(25.0, "a number > 0")
    hop_ms: Positive = key(10.0, "a number > 0")
    n_fft: Count = key(512, "an integer ≥ 1")
    n_mels: Count = key(40, "an integer ≥ 1")


class FrontendParams(Block):
    kind: Literal["linear", "mel"] = key("linear", "linear or mel")
    sample_rate: Count = key(16000, "an integer ≥ 1", "Hz")
    linear: LinearFrontend = block(LinearFrontend)
    mel: MelFrontend = block(MelFrontend)


class SpectroTrainParams(Block):
    channels: Sizes = key([8, 16, 16], "a list of integers ≥ 1", "conv widths")
    input_pool: Annotated[Sizes, Field(min_length=2, max_length=2)] = key(
        [2, 4], "two integers ≥ 1", "(time, frequency) pooling of the input")
    rnn_hidden: Count = key(64, "an integer ≥ 1")
    tf_kernels: list[Annotated[Sizes, Field(min_length=2, max_length=2)]] = key(
        [[10, 2], [2, 8]], "a list of [time, frequency] kernel sizes")
    dropout: _num(ge=0, lt=1) = key(0.25, "a number in [0, 1)")
    gender_weight: Optional[NonNegative] = key(None, "a number ≥ 0 or null")
    center_weight: Optional[NonNegative] = key(None, "a number ≥ 0 or null")
    sampling: Literal["random", "balanced"] = key("random", "random or balanced")
    class_weight: ClassWeight = key(None, "null, balanced or a mapping class → weight")
    lr: Positive = key(0.001, "a number > 0")
    weight_decay: NonNegative = key(0.0, "a number ≥ 0")
    epochs: Count = key(25, "an integer ≥ 1")
    batch_size: Count = key(32, "an integer ≥ 1")
    patience: Natural = key(6, "an integer ≥ 0")
    val_groups: Natural = key(1, "an integer ≥ 0")
    device: Device = key("auto", DEVICE_KIND, "auto, cpu, cuda, cuda:N or mps")


class SpectroParams(Block):
    frontend: FrontendParams = block(FrontendParams)
    segment_s: Positive = key(2.0, "a number > 0", "segment length in seconds")
    train_overlap_s: NonNegative = key(1.0, "a number ≥ 0", "seconds")
    eval_overlap_s: NonNegative = key(1.6, "a number ≥ 0", "seconds")
    models: list[Str] = key([], "a list of model names", "crnn, cnn-tf-gap, cnn-blstm-att, ...")
    heads: list[Str] = key(["softmax"], "a list of head names")
    head_params: HeadParams = key({}, HEAD_PARAMS_KIND)
    train: SpectroTrainParams = block(SpectroTrainParams)


class Params(Block):
    """All of params.yaml. Attribute access gives validated values (``p.eval.alpha``)."""

    seed: Seed = key(0, SEED_KIND, "seeds the report's resampling")
    eval: EvalParams = block(EvalParams)
    data: DataParams = block(DataParams)
    features: FeatureParams = block(FeatureParams)
    cv: CVParams = block(CVParams)
    classify: ClassifyParams = block(ClassifyParams)
    augment: AugmentParams = block(AugmentParams)
    spectro: SpectroParams = block(SpectroParams)

    def need(self, dotted: str) -> Any:
        """The value at ``dotted``; AdanError naming it when absent (null)."""
        value = _walk(self, dotted)
        if value is None:
            raise AdanError(f"missing key {dotted!r} in params")
        return value

    def block(self, dotted: str) -> dict:
        """The mapping at ``dotted`` as a plain dict of the keys the file gives (none: ``{}``), for
        a library constructor that applies its own defaults."""
        value = _walk(self, dotted)
        if isinstance(value, BaseModel):
            return value.model_dump(exclude_unset=True)
        return dict(value or {})

    def run_seeds(self) -> list[int]:
        """``eval.seeds``; a params file without it runs once with ``seed``."""
        return list(self.eval.seeds) if self.eval.seeds is not None else [self.seed]


def _walk(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return node


# ------------------------------------------------------------------------------------ reading


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML would keep the last)."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = {}
    for key_node, _ in node.value:
        k = loader.construct_object(key_node, deep=deep)
        if k in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {k!r} given twice (first on line {seen[k] + 1})", key_node.start_mark)
        seen[k] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
# YAML 1.1 reads an exponent without a dot (1e-05) as text; YAML 1.2 and DVC read it as a number, and
# `dvc exp run -S key=0.00001` writes exactly that into params.yaml. Quoted scalars stay text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Parse and validate a params file; AdanError with one line (``file:line:col: ...`` for YAML
    syntax, ``file: dotted.key: value is not ...`` for a bad value)."""
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"params file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise AdanError(f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8") from None
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise AdanError(f"{where}: {what or 'not valid YAML'}") from None
    except yaml.YAMLError as exc:
        raise AdanError(f"{path}: {str(exc).splitlines()[0]}") from None
    return validate_params(raw if raw is not None else {}, source=str(path))


def validate_params(raw: Any, source: str = "params") -> Params:
    """``raw`` (a parsed params mapping) as :class:`Params`; AdanError naming the first bad key."""
    if not isinstance(raw, dict):
        raise AdanError(f"{source}: must hold a mapping of keys, got {_show(raw)}")
    problem = _check_primary(raw.get("eval"))
    if problem:
        raise AdanError(f"{source}: {problem}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise AdanError(f"{source}: {_explain(exc.errors()[0], raw)}") from None


#: Keys of an ``eval.primary`` entry (adan_ser.reporting.significance.PRIMARY_KEYS), the required first.
_PRIMARY_REQUIRED = ("method", "classifier", "train_data")
_PRIMARY_KEYS = _PRIMARY_REQUIRED + ("reference", "fraction", "metric", "head")
_PRIMARY_MAX = 6


def _check_primary(block: Any) -> Optional[str]:
    """The first problem of ``eval.primary`` in a parsed ``eval`` block, as one line, or None."""
    entries = block.get("primary") if isinstance(block, dict) else None
    if entries is None:
        return None
    if not isinstance(entries, list):
        return (f"eval.primary: {_show(entries)} is not a list of comparisons "
                "(mappings with method, classifier, train_data)")
    if len(entries) > _PRIMARY_MAX:
        return f"eval.primary: {len(entries)} comparisons; a primary family holds at most {_PRIMARY_MAX}"
    seen: dict = {}
    for i, entry in enumerate(entries):
        where = f"eval.primary[{i}]"
        if not isinstance(entry, dict):
            return f"{where}: {_show(entry)} is not a mapping (method, classifier, train_data, ...)"
        for k, v in entry.items():
            if k not in _PRIMARY_KEYS:
                return f"{where}.{k}: unknown key (known: {', '.join(_PRIMARY_KEYS)})"
            if k == "fraction":
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1):
                    return f"{where}.fraction: {_show(v)} is not a number in (0, 1]"
            elif k == "metric":
                if v not in ("wa", "uar"):
                    return f"{where}.metric: {_show(v)} is not wa or uar"
            elif not isinstance(v, str) and not (k == "head" and v is None):
                return f"{where}.{k}: {_show(v)} is not a name"
        for k in _PRIMARY_REQUIRED:
            if entry.get(k) is None:
                return f"{where}.{k}: missing (each comparison names method, classifier and train_data)"
        if entry.get("reference", "none") == entry["method"]:
            return f"{where}.reference: {_show(entry['method'])} is the method itself"
        ident = (entry["method"], entry.get("reference", "none"), entry["classifier"], entry["train_data"],
                 float(entry.get("fraction") or 1.0), entry.get("metric", "uar"), entry.get("head"))
        if ident in seen:
            return f"{where}: repeats eval.primary[{seen[ident]}]"
        seen[ident] = i
    return None


def _explain(error: dict, raw: dict) -> str:
    """One line for a pydantic error: the dotted key, the value there and what it may be."""
    names: list[str] = []
    node: Any = raw
    model: Optional[type[BaseModel]] = Params
    field = None
    for part in error["loc"]:
        # loc also holds list indices and union-branch tags; the key path is its leading run of
        # mapping keys, and the field reached last describes what is allowed there
        if not (isinstance(part, str) and isinstance(node, dict) and (part in node or (
                model is not None and part in model.model_fields))):
            break
        if error["type"] == "extra_forbidden" and model is not None and part not in model.model_fields:
            known = ", ".join(model.model_fields) or "none"
            return f"{'.'.join(names + [part])}: unknown key (known: {known})"
        names.append(part)
        node = node.get(part)
        if model is not None and part in model.model_fields:
            field = model.model_fields[part]
            model = _model_in(field.annotation)
        else:
            model = None
    dotted = ".".join(names) or "(top level)"
    if field is None:
        return f"{dotted}: {_show(node)}: {error['msg'].lower()}"
    kind = (field.json_schema_extra or {}).get("kind") or error["msg"].lower()
    hint = field.description or ""
    reason = (error.get("ctx") or {}).get("error")
    if isinstance(reason, _Reason):
        hint = str(reason)
    if isinstance(node, str) and _is_number(node):
        hint = "; ".join(filter(None, [hint, "write numbers without quotes"]))
    return f"{dotted}: {_show(node)} is not {kind}" + (f" ({hint})" if hint else "")


def _model_in(annotation: Any) -> Optional[type[BaseModel]]:
    """The Block class that a field annotation holds (directly or in Optional/Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def get(params: dict | Params, dotted: str, default: Any = ...) -> Any:
    """``get(p, "classify.svm.C")``: a value, or a block as a plain dict of the keys given (as
    :meth:`Params.block`); an absent (null) key without a default is an error naming it."""
    value = _walk(params, dotted)
    if value is None:
        if default is ...:
            raise AdanError(f"missing key {dotted!r} in params")
        return default
    return value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value
