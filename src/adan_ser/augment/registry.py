"""Augmentation methods by name, as ``params.yaml`` spells them.

``make_sampler("smote", {"k_neighbors": 3}, seed=0, ratio=1.0)`` → an unfitted sampler with
``fit_resample(X, y)`` (real + synthetic) and ``generate(X, y)`` (synthetic only); ``"none"`` → None.
The latent methods take one flat parameter block (``augment.adan.*``): the sampler's own keys
(``n_sets``, ``ratio``) go to the sampler, the rest to the model it composes
(``ADANSampler(adan=ADAN(**rest), n_sets=...)``); ``seed`` goes to both.

The audio methods (``audio_speed``, ``audio_noise``, ``audio_mix``, ``audio_voice``, ``audio_vtlp``)
perturb waveforms, not feature vectors, so they have no sampler: :func:`make_perturber` builds them,
and the augment stage runs them on the corpus audio (:mod:`adan_ser.augment.audio.perturbers`).
"""

from __future__ import annotations

from typing import Optional

from adan_ser.augment.generators.aae import AAE
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_speaker import SpeakerADAN, SpeakerADANSampler
from adan_ser.augment.generators.adan_separate import SeparateADAN
from adan_ser.augment.audio.methods import AUDIO_METHODS
from adan_ser.augment.audio.perturbers import AudioPerturber, copies_for
from adan_ser.augment.generators.base import validate_params
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

__all__ = ["SAMPLERS", "MODELS", "PRESETS", "AUDIO_METHODS", "is_audio_method", "make_perturber", "make_sampler",
           "method_label", "resolve_preset", "sampler_params"]

SAMPLERS = {
    "duplicate": DuplicateSampler,
    "noise": GaussianNoiseSampler,
    "smote": SMOTESampler,
    "borderline_smote": BorderlineSMOTESampler,
    "adasyn": ADASYNSampler,
    "adan": ADANSampler,
    "adan_separate": SeparateADANSampler,
    "wadan": ADANSampler,
    "adan_latent": LatentSMOTESampler,
    "aae": AAESampler,
    "speaker_swap": SpeakerOffsetSampler,
    "speaker_new": SpeakerOffsetSampler,
    "adan_speaker": SpeakerADANSampler,
}

#: Sampler settings a method fixes (not keys of its params block): the two modes of the speaker model.
SAMPLER_FIXED = {
    "speaker_swap": {"mode": "swap", "shrinkage": "ledoit_wolf", "n_speakers": None},
    "speaker_new": {"mode": "new"},
}

#: The model a latent method's sampler composes (its ``adan`` parameter).
MODELS = {"adan": ADAN, "adan_separate": SeparateADAN, "wadan": ADAN, "adan_latent": ADAN, "aae": AAE,
          "adan_speaker": SpeakerADAN}

#: Model defaults a method sets before its params block: ``wadan`` is ADAN with the settings of the
#: authors' WADAN (critic with gradient penalty, 2 critic steps per batch, G's CE weight 0.1; their
#: WADAN trains a fixed number of epochs).
MODEL_DEFAULTS = {
    "wadan": {"adversarial": "wasserstein", "gp_weight": 10.0, "gp_power": 10.0, "d_steps": 2,
              "g_class_weight": 0.1, "early_stop": False},
}

#: Named configurations of the ``adan`` block (its ``preset`` key): the method whose sampler and
#: model the block then builds, and the settings it starts from (keys the block gives win).
#: ``paper``: Yi & Mak's ADAN, every remedy off. ``validated``: the configuration chosen on EmoDB IS11
#: by inner validation on the training speakers of each fold, never the test speaker
#: (results/augmenters_by_validation.csv; docs/results.md, "ADAN without mode collapse").
PRESETS = {
    "paper": ("adan", {}),
    # adan_latent met both bars and had the highest validation UAR of real + synthetic rows
    "validated": ("adan_latent", {"k_neighbors": 5, "residual": True}),
}

#: The method whose block takes ``preset``.
PRESET_METHOD = "adan"

#: The sampler parameter that holds the composed model.
_MODEL_PARAM = "adan"

NONE = "none"


def _own_params(method: str) -> list[str]:
    fixed = SAMPLER_FIXED.get(method, {})
    return [p for p in _sampler_class(method)().get_params(deep=False) if p != _MODEL_PARAM and p not in fixed]


def _model_params(method: str) -> list[str]:
    return list(MODELS[method]().get_params(deep=False)) if method in MODELS else []


def sampler_params(method: str) -> list[str]:
    """Parameter names ``method`` accepts in its params block: the sampler's, then its model's
    (``adan``: then ``preset``)."""
    extra = ["preset"] if method == PRESET_METHOD else []
    return list(dict.fromkeys(_own_params(method) + _model_params(method) + extra))


def resolve_preset(method: Optional[str], params: Optional[dict] = None) -> tuple[Optional[str], dict]:
    """``(method, params)`` after ``params["preset"]`` (``adan`` only; default ``paper``): the
    preset's method, and its settings overlaid by the block's own keys. Other methods pass through.
    An unknown preset → :class:`AdanError` naming ``augment.adan.preset``."""
    params = dict(params or {})
    if method != PRESET_METHOD:
        return method, params
    name = params.pop("preset", "paper")
    if name not in PRESETS:
        raise AdanError(f"augment.adan.preset: unknown preset {name!r}; known: {', '.join(PRESETS)}")
    target, settings = PRESETS[name]
    return target, {**settings, **params}


def method_label(method: Optional[str], params: Optional[dict] = None) -> Optional[str]:
    """The name results, significance, plots and exports give ``method`` run with ``params`` (its
    ``augment.<method>`` block): the method itself, or ``adan[validated]`` when a preset swaps the
    algorithm (``augment.adan.preset: validated`` runs ``adan_latent``), so a row never carries the
    name of an algorithm that did not run."""
    if method != PRESET_METHOD:
        return method
    name = dict(params or {}).get("preset", "paper")
    target, _ = PRESETS.get(name, (method, {}))
    return method if target == method else f"{method}[{name}]"


def is_audio_method(method) -> bool:
    """True for the methods that perturb audio (:data:`AUDIO_METHODS`)."""
    return isinstance(method, str) and method in AUDIO_METHODS


def _sampler_class(method: str):
    try:
        return SAMPLERS[method]
    except (KeyError, TypeError):
        if is_audio_method(method):
            raise AdanError(f"augmentation method {method!r} perturbs audio, not feature vectors: "
                            f"run it with the corpus audio (adan augment, adan export)") from None
        known = ", ".join([NONE, *SAMPLERS, *AUDIO_METHODS])
        raise AdanError(f"unknown augmentation method {method!r}; known: {known}") from None


def make_perturber(method: str, params: Optional[dict] = None, ratio: Optional[float] = None) -> AudioPerturber:
    """A checked perturber for audio method ``method`` with ``params`` (its ``augment.<method>`` block).

    ``ratio``: ``augment.ratio``; its copy count rule is :func:`~adan_ser.augment.audio.perturbers.copies_for`.
    Unknown method or parameter, or a bad value → :class:`AdanError` naming it.
    """
    if not is_audio_method(method):
        _sampler_class(method)  # names an unknown method
        raise AdanError(f"augmentation method {method!r} works on feature vectors, not audio")
    cls = AUDIO_METHODS[method]
    params = dict(params or {})
    names = list(cls().get_params())
    for key in params:
        if key not in names:
            raise AdanError(f"unknown parameter {key!r} for augmentation method {method!r}; known: {', '.join(names)}")
    params["copies"] = copies_for(method, params, ratio)
    return cls(**params).check()


def make_sampler(
    method: Optional[str],
    params: Optional[dict] = None,
    seed: Optional[int] = 0,
    ratio: Optional[float] = None,
):
    """A fresh sampler for ``method`` with ``params``, ``seed`` and (if not None) ``ratio``.

    ``ratio`` None keeps the sampler's own default (1.0 for the baselines; ADAN's ``n_sets``).
    ``seed``/``ratio`` may not also appear in ``params``. Unknown method or parameter, or a bad
    value → :class:`AdanError` naming it. ``"none"`` (or None) → None: no augmentation.
    """
    if method is None or method == NONE:
        return None
    method, params = resolve_preset(method, params)
    cls = _sampler_class(method)
    names = sampler_params(method)
    for key in params:
        if key not in names:
            raise AdanError(
                f"unknown parameter {key!r} for augmentation method {method!r}; known: {', '.join(names)}"
            )
    for key, value in (("seed", seed), ("ratio", ratio)):
        if key in params and value is not None and params[key] != value:
            raise AdanError(f"augmentation method {method!r}: {key} given both in params and as argument")
    params = {**params, "seed": seed}
    if ratio is not None:
        params["ratio"] = ratio
    own = set(_own_params(method))
    kwargs = {**SAMPLER_FIXED.get(method, {}), **{k: v for k, v in params.items() if k in own}}
    if method in MODELS:
        model_kwargs = {k: v for k, v in params.items() if k not in own or k == "seed"}
        kwargs[_MODEL_PARAM] = MODELS[method](**{**MODEL_DEFAULTS.get(method, {}), **model_kwargs})
    sampler = cls(**kwargs)
    # Fail at configuration time, not an hour into a cross-validation run.
    validate_params(sampler)
    return sampler
