"""The params schema: the blocks written here, and those derived from the specs of the augmenters
and classifiers (:mod:`adan_ser.params.derive`).

:func:`schema` is the :class:`Params` model of the methods and classifiers registered now (a method
registered after import gets its block on the next validation); :data:`Params` is the one built
at import.
"""


from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, Field, StrictStr, create_model

from adan_ser.augment.registry import AUDIO_METHODS as _AUDIO, PRESETS as _PRESETS
from adan_ser.augment.specs import AUGMENTERS
from adan_ser.classifiers.heads import parse_head_name, split_params
from adan_ser.classifiers.specs import CLASSIFIER_SPECS
from adan_ser.contracts.names import REFERENCE_METHOD
from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import Z_CLIP
from adan_ser.params.derive import augmenter_block, classifier_block
from adan_ser.params.types import (
    DEVICE_KIND,
    SCHEDULER_KIND,
    SEED_KIND,
    Block,
    Bool,
    ClassWeight,
    Count,
    Device,
    Fractions,
    Natural,
    NonNegative,
    Positive,
    Reason,
    Scheduler,
    Seed,
    Seeds,
    Share,
    Sizes,
    Str,
    _not_one,
    block,
    integer,
    key,
    number,
)


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
    speakers: integer(ge=1, le=1000) = key(8, "an integer in [1, 1000]")
    utterances_per_class: integer(ge=1, le=10_000) = key(10, "an integer in [1, 10000]")
    emotions: list[Str] = key(["angry", "happy", "neutral", "sad"], "a list of emotion words")
    sample_rate: Count = key(16000, "an integer ≥ 1", "Hz")
    seed: Seed = key(0, SEED_KIND)
    # 10^6 is the largest corpus docs/scaling.md measures (about 24 GB of 0.5-1.0 s wav)
    utterances: Optional[integer(ge=1, le=1_000_000)] = key(None, "an integer in [1, 10^6] or null")


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
    keep: Optional[number(gt=0, le=1)] = key(None, "a number in (0, 1]", "share of those classes' rows kept")
    seed: Optional[Seed] = key(None, SEED_KIND)


class CVParams(Block):
    scheme: Optional[Str] = key(None, "a fold scheme", "leave-one-speaker-out or leave-one-session-out")
    scheduler: Optional[Scheduler] = key(None, SCHEDULER_KIND + " or null")
    train_downsample: DownsampleParams = block(DownsampleParams, "classes cut in every training fold")
    train_fraction: Fractions = key(1.0, "a number in (0, 1] or a non-empty list of distinct numbers in (0, 1]",
                                    "share of each training speaker's utterances per emotion kept; a list: "
                                    "a learning curve")


def _head_params(value: dict) -> dict:
    """Each entry names a registered head[+loss] and only parameters of its specs (heads.HEAD_SPECS)."""
    for name, params in value.items():
        try:
            split_params(*parse_head_name(name), params)
        except AdanError as exc:
            raise Reason(str(exc)) from None
    return value


HeadParams = Annotated[dict[Str, Optional[dict[Str, Any]]], AfterValidator(_head_params)]
HEAD_PARAMS_KIND = "a mapping head name → {parameter: value}"
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
    dropout: number(ge=0, lt=1) = key(0.25, "a number in [0, 1)")
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


class _Params(Block):
    """All of params.yaml. Attribute access gives validated values (``p.eval.alpha``)."""

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


class NoParams(Block):
    """The block of ``none`` (real data only): no keys."""


#: 100 synthetic rows per real one already makes a training set 101 times its size (EmoDB with IS11:
#: 9 GB of float32); beyond, memory runs out (1e9 was a MemoryError) long before any gain
Ratio = Optional[number(gt=0, le=100)]
RATIO_KIND = "a number in (0, 100] or null"
TRAIN_DATA = ("synthetic", "real+synthetic")


def _augment(blocks: dict) -> type[Block]:
    methods = (REFERENCE_METHOD, *AUGMENTERS)
    fields = {
        "methods": (list[Literal[methods]], key([], "a list of augmentation methods", ", ".join(methods))),
        "ratio": (Ratio, key(None, RATIO_KIND, "synthetic vectors per real one; null: each method's default")),
        "train_data": (list[Literal[TRAIN_DATA]], key(["real+synthetic"], "a list of synthetic and/or real+synthetic")),
        REFERENCE_METHOD: (NoParams, block(NoParams)),
    }
    for name, spec in AUGMENTERS.items():
        fields[name] = (blocks[name], block(blocks[name], spec.hint))
    return create_model("AugmentParams", __base__=Block, **fields)


def _classify(blocks: dict) -> type[Block]:
    names = tuple(CLASSIFIER_SPECS)
    fields = {"models": (Optional[list[Literal[names]]], key(None, "a list of " + " and/or ".join(names)))}
    for name in names:
        fields[name] = (blocks[name], block(blocks[name]))
    fields.update(
        heads=(list[Str], key([], "a list of head names", "e.g. [softmax, arcface+focal]")),
        heads_on=(dict[Str, Optional[list[Str]]], key({}, "a mapping method → list of train data",
                                                      "e.g. {none: [real], adan: [real+synthetic]}")),
        head_params=(HeadParams, key({}, HEAD_PARAMS_KIND, "e.g. {arcface: {s: 30, m: 0.5}}")),
        scale_on=(Literal["real", "all"], key("real", "real or all")),
        clip_z=(Optional[Positive], key(Z_CLIP, "null or a positive number", "bound on every z-score, in SDs")),
        normalise=(Literal["none", "speaker", "speaker_mean", "nap"], key(
            "none", "none, speaker, speaker_mean or nap",
            "per-speaker z-scores / means from unlabelled test-speaker audio; nap: project out the training "
            "speakers' offset directions (no test-speaker audio)")),
        enrol=(Optional[Count], key(None, "null or an integer ≥ 1", "test utterances per speaker for its statistics")),
    )
    return create_model("ClassifyParams", __base__=Block, **fields)


def _build() -> type[_Params]:
    augment = _augment({name: augmenter_block(spec) for name, spec in AUGMENTERS.items()})
    classify = _classify({name: classifier_block(spec) for name, spec in CLASSIFIER_SPECS.items()})
    return create_model(
        "Params", __base__=_Params, __doc__=_Params.__doc__,
        seed=(Seed, key(0, SEED_KIND, "seeds the report's resampling")),
        eval=(EvalParams, block(EvalParams)),
        data=(DataParams, block(DataParams)),
        features=(FeatureParams, block(FeatureParams)),
        cv=(CVParams, block(CVParams)),
        classify=(classify, block(classify)),
        augment=(augment, block(augment)),
        spectro=(SpectroParams, block(SpectroParams)),
    )


_BUILT: dict = {}


def schema() -> type[_Params]:
    """The :class:`Params` model of the augmenters and classifiers registered now."""
    now = (tuple(AUGMENTERS.values()), tuple(CLASSIFIER_SPECS.values()))
    if _BUILT.get("key") != now:
        _BUILT.update(key=now, model=_build())
    return _BUILT["model"]


Params = schema()
AugmentParams = Params.model_fields["augment"].annotation
ClassifyParams = Params.model_fields["classify"].annotation
SVMParams = ClassifyParams.model_fields["svm"].annotation
DNNParams = ClassifyParams.model_fields["dnn"].annotation
#: Methods that perturb the corpus audio rather than feature vectors (as registered at import).
AUDIO_METHODS = tuple(_AUDIO)
#: Every method name params.yaml knows (as registered at import), the reference first.
METHODS = (REFERENCE_METHOD, *AUGMENTERS)
#: Names of the ``augment.adan.preset`` configurations.
PRESETS = tuple(_PRESETS)


def _walk(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return node


def get(params: dict | Params, dotted: str, default: Any = ...) -> Any:
    """``get(p, "classify.svm.C")``: a value, or a block as a plain dict of the keys given (as
    :meth:`Params.block`); an absent (null) key without a default is an error naming it."""
    value = _walk(params, dotted)
    if value is None:
        if default is ...:
            raise AdanError(f"missing key {dotted!r} in params")
        return default
    return value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value
