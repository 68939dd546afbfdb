"""Augmentation methods by name, as ``params.yaml`` spells them, built from their specs
(:mod:`adan_ser.augment.specs`; the mappings here are views of them).

``make_sampler("smote", {"k_neighbors": 3}, seed=0, ratio=1.0)`` → an unfitted sampler with
``fit_resample(X, y)`` (real + synthetic) and ``generate(X, y)`` (synthetic only); ``"none"`` → None.
The latent methods take one flat parameter block (``augment.adan.*``): the sampler's own keys
(``n_sets``, ``ratio``) go to the sampler, the rest to the model it composes
(``ADANSampler(adan=ADAN(**rest), n_sets=...)``); ``seed`` goes to both as ``random_state``.

The audio methods (``audio_speed``, ``audio_noise``, ``audio_mix``, ``audio_voice``, ``audio_vtlp``)
perturb waveforms, not feature vectors, so they have no sampler: :func:`make_perturber` builds them,
and the augment stage runs them on the corpus audio (:mod:`adan_ser.augment.audio.perturbers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from adan_ser.augment.audio.perturbers import AudioPerturber, copies_for
from adan_ser.augment.generators.base import validate_params
from adan_ser.augment.specs import AUGMENTERS, AugmenterSpec, register, specs_of, unregister
from adan_ser.contracts.names import REFERENCE_METHOD
from adan_ser.core.errors import AdanError
from adan_ser.core.views import LiveMapping

__all__ = ["AugmenterSpec", "register", "unregister", "SAMPLERS", "MODELS", "MODEL_DEFAULTS", "PRESETS",
           "AUDIO_METHODS", "LATENT_METHODS", "is_audio_method", "make_perturber", "make_sampler", "method_label",
           "resolve_preset", "sampler_params"]


def _view(kinds: tuple, value) -> LiveMapping:
    """``{name: value(spec)}`` over the specs of ``kinds``, leaving out None values."""
    return LiveMapping(lambda: {s.name: value(s) for s in specs_of(*kinds) if value(s) is not None})


#: Method → sampler class (feature and latent methods).
# views of the specs, current at every read (a method registered later shows up)
SAMPLERS = _view(("feature", "latent"), lambda s: s.estimator)
#: Sampler settings a method fixes (not keys of its params block), e.g. the two speaker modes.
SAMPLER_FIXED = _view(("feature", "latent"), lambda s: dict(s.fixed) or None)
#: Latent method → the model class its sampler composes (its ``adan`` parameter).
MODELS = _view(("latent",), lambda s: s.model)
#: The methods whose training diagnostics the augment stage logs (the latent ones), as :data:`MODELS`.
LATENT_METHODS = MODELS
#: Model settings a method starts from before its params block (``wadan``: ADAN with WADAN's critic).
MODEL_DEFAULTS = _view(("latent",), lambda s: dict(s.model_defaults) or None)
#: Audio method → perturber class.
AUDIO_METHODS = _view(("audio",), lambda s: s.estimator)

#: The method whose block takes ``preset`` in params.yaml.
PRESET_METHOD = "adan"
#: ``augment.adan.preset`` name → (method it builds, settings it starts from); the first is the default.
PRESETS = LiveMapping(lambda: dict(_presets(PRESET_METHOD)))

#: The sampler parameter that holds the composed model.
_MODEL_PARAM = "adan"

NONE = REFERENCE_METHOD


def _presets(method) -> Mapping:
    """``method``'s presets (its spec's named aliases); {} for a method without, or an unknown one."""
    spec = AUGMENTERS.get(method) if isinstance(method, str) else None
    return spec.presets if spec is not None else {}


def _own_params(method: str) -> list[str]:
    fixed = AUGMENTERS[method].fixed
    return [p for p in _sampler_class(method)().get_params(deep=False) if p != _MODEL_PARAM and p not in fixed]


def _model_params(method: str) -> list[str]:
    model = AUGMENTERS[method].model
    return list(model().get_params(deep=False)) if model is not None else []


def sampler_params(method: str) -> list[str]:
    """Parameter names ``method`` accepts in its params block: the sampler's, then its model's
    (a method with presets, ``adan``: then ``preset``)."""
    extra = ["preset"] if _presets(method) else []
    return list(dict.fromkeys(_own_params(method) + _model_params(method) + extra))


def resolve_preset(method: Optional[str], params: Optional[dict] = None) -> tuple[Optional[str], dict]:
    """``(method, params)`` after ``params["preset"]`` (methods with presets, ``adan``; default:
    the first, ``paper``): the preset's method, and its settings overlaid by the block's own keys.
    Other methods pass through. An unknown preset → :class:`AdanError` naming ``augment.adan.preset``."""
    params = dict(params or {})
    presets = _presets(method)
    if not presets:
        return method, params
    name = params.pop("preset", next(iter(presets)))
    if name not in presets:
        raise AdanError(f"augment.{method}.preset: unknown preset {name!r}; known: {', '.join(presets)}")
    target, settings = presets[name]
    return target, {**settings, **params}


def method_label(method: Optional[str], params: Optional[dict] = None) -> Optional[str]:
    """The name results, significance, plots and exports give ``method`` run with ``params`` (its
    ``augment.<method>`` block): the method itself, or ``adan[validated]`` when a preset swaps the
    algorithm (``augment.adan.preset: validated`` runs ``adan_latent``), so a row never carries the
    name of an algorithm that did not run."""
    presets = _presets(method)
    if not presets:
        return method
    name = dict(params or {}).get("preset", next(iter(presets)))
    target, _ = presets.get(name, (method, {}))
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
    """A fresh sampler for ``method`` with ``params``, ``seed`` (its ``random_state``) and (if not None) ``ratio``.

    ``ratio`` None keeps the sampler's own default (1.0 for the baselines; ADAN's ``n_sets``).
    ``random_state``/``ratio`` may not also appear in ``params``. Unknown method or parameter, or a bad
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
    for key, value in (("random_state", seed), ("ratio", ratio)):
        if key in params and value is not None and params[key] != value:
            raise AdanError(f"augmentation method {method!r}: {key} given both in params and as argument")
    params = {**params, "random_state": seed}
    if ratio is not None:
        params["ratio"] = ratio
    spec = AUGMENTERS[method]
    own = set(_own_params(method))
    kwargs = {**spec.fixed, **{k: v for k, v in params.items() if k in own}}
    if spec.model is not None:
        model_kwargs = {k: v for k, v in params.items() if k not in own or k == "random_state"}
        kwargs[_MODEL_PARAM] = spec.model(**{**spec.model_defaults, **model_kwargs})
    sampler = cls(**kwargs)
    # Fail at configuration time, not an hour into a cross-validation run.
    validate_params(sampler)
    return sampler
