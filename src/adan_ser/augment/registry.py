"""Augmentation methods by name, as ``params.yaml`` spells them.

``make_sampler("smote", {"k_neighbors": 3}, seed=0, ratio=1.0)`` → an unfitted sampler with
``fit_resample(X, y)`` (real + synthetic) and ``generate(X, y)`` (synthetic only); ``"none"`` → None.
"""

from __future__ import annotations

import inspect
from typing import Optional

from adan_ser.augment.adan import ADANSampler, SeparateADANSampler
from adan_ser.augment.baselines import (
    ADASYNSampler,
    BorderlineSMOTESampler,
    DuplicateSampler,
    GaussianNoiseSampler,
    SMOTESampler,
)
from adan_ser.core.errors import AdanError

__all__ = ["SAMPLERS", "make_sampler", "sampler_params"]

SAMPLERS = {
    "duplicate": DuplicateSampler,
    "noise": GaussianNoiseSampler,
    "smote": SMOTESampler,
    "borderline_smote": BorderlineSMOTESampler,
    "adasyn": ADASYNSampler,
    "adan": ADANSampler,
    "adan_separate": SeparateADANSampler,
}

NONE = "none"


def sampler_params(method: str) -> list[str]:
    """Constructor parameter names of ``method``'s sampler."""
    return [p for p in inspect.signature(_sampler_class(method).__init__).parameters if p != "self"]


def _sampler_class(method: str):
    try:
        return SAMPLERS[method]
    except (KeyError, TypeError):
        known = ", ".join([NONE, *SAMPLERS])
        raise AdanError(f"unknown augmentation method {method!r}; known: {known}") from None


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
    cls = _sampler_class(method)
    params = dict(params or {})
    names = sampler_params(method)
    for key in params:
        if key not in names:
            raise AdanError(
                f"unknown parameter {key!r} for augmentation method {method!r}; known: {', '.join(names)}"
            )
    for key, value in (("seed", seed), ("ratio", ratio)):
        if key in params and value is not None and params[key] != value:
            raise AdanError(f"augmentation method {method!r}: {key} given both in params and as argument")
    kwargs = {**params, "seed": seed}
    if ratio is not None:
        kwargs["ratio"] = ratio
    sampler = cls(**kwargs)
    # Fail at configuration time, not an hour into a cross-validation run.
    sampler._check_params()
    return sampler
