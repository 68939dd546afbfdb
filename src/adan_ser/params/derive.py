"""Params blocks derived from the estimators their specs name, so a default lives in one place.

A block's keys are the constructor's parameters (less those the run sets: seed, fold, log folder,
progress bar, the composed model, the settings a spec fixes); a key's default is the constructor's
(or the spec's ``model_defaults``); its type, bounds and the words of its error come from the
estimator's ``_parameter_constraints`` (scikit-learn's), an audio perturber's range attributes, and
the few rules of the params file itself (:data:`CAPS`, :data:`BY_NAME`); its hint from the spec.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Literal, Optional, Union

from pydantic import create_model
from sklearn.utils._param_validation import Interval, Options, StrOptions

from adan_ser.augment.specs import AugmenterSpec
from adan_ser.classifiers.specs import SET_BY_THE_RUN, ClassifierSpec
from adan_ser.params.types import (
    Block,
    Bool,
    ClassWeight,
    Count,
    Device,
    DEVICE_KIND,
    Sizes,
    Str,
    integer,
    key,
    number,
)

__all__ = ["augmenter_block", "classifier_block", "defaults_of", "field_of", "CAPS", "BY_NAME"]

#: Parameters a run sets, never a params key.
RUN_SET = frozenset(SET_BY_THE_RUN) | {"progress"}
#: The sampler parameter holding a latent method's model.
MODEL_PARAM = "adan"

#: Tighter bounds the params file sets than the estimator: 100 synthetic rows per real one already
#: make a training set 101 times its size (EmoDB with IS11: 9 GB of float32); beyond, memory runs
#: out (1e9 was a MemoryError) long before any gain.
#: A ratio of 0 (no synthetic rows) is a run of the reference under another name: the file asks for > 0.
CAPS = {"ratio": {"gt": 0, "le": 100}}
#: Keys whose params type is richer than their constraint: a device must exist on this machine
#: (the file is checked before any stage runs), class weights are non-negative numbers.
BY_NAME = {"device": (Device, DEVICE_KIND), "class_weight": (ClassWeight, "null, balanced or a mapping class → weight")}


def defaults_of(cls: type) -> dict:
    """``{parameter: default}`` of ``cls``'s constructor, in signature order."""
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _plain(value: Any) -> Any:
    """A default as YAML would give it: tuples as lists."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def _show(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:g}"


def _interval(c: Interval, cap: dict) -> tuple[Any, str]:
    """The type and words of an :class:`Interval` (with the params file's ``cap`` applied)."""
    low, high = c.left, c.right
    low_closed, high_closed = c.closed in ("left", "both"), c.closed in ("right", "both")
    if "le" in cap:
        high, high_closed = cap["le"] if high is None else min(high, cap["le"]), True
    if "gt" in cap and (low is None or low <= cap["gt"]):
        low, low_closed = cap["gt"], False
    is_int = c.type is numbers.Integral
    bounds = {}
    if low is not None:
        bounds["ge" if low_closed else "gt"] = low
    if high is not None:
        bounds["le" if high_closed else "lt"] = high
    if is_int:
        kind = "an integer"
        typ = integer(**bounds)
    elif all(float(v).is_integer() for v in bounds.values()):
        kind, typ = "a number", number(**bounds)
    else:  # fractional bounds: the int variant takes whole ones
        whole = {"ge": math.ceil, "gt": math.floor, "le": math.floor, "lt": math.ceil}
        typ = number(**bounds)
        typ = Union[integer(**{k: whole[k](v) for k, v in bounds.items()}), typ.__args__[1]]
        kind = "a number"
    if low is not None and high is not None:
        kind += f" in {'[' if low_closed else '('}{_show(low)}, {_show(high)}{']' if high_closed else ')'}"
    elif low is not None:
        kind += f" {'≥' if low_closed else '>'} {_show(low)}"
    elif high is not None:
        kind += f" {'≤' if high_closed else '<'} {_show(high)}"
    return typ, kind


def _words(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def field_of(name: str, constraints: list, default: Any, hint: str = "") -> tuple[Any, Any]:
    """``(annotation, Field)`` of key ``name`` from its scikit-learn ``constraints`` and ``default``."""
    if name in BY_NAME:
        typ, kind = BY_NAME[name]
        return typ, key(_plain(default), kind, hint)
    types, kinds, options, nullable = [], [], [], False
    for c in constraints:
        if c is None:
            nullable = True
        elif isinstance(c, StrOptions):
            # the default first, then the rest in a fixed order
            options += sorted(c.options, key=lambda o: (o != default, o))
        elif isinstance(c, Options) and set(c.type) == {list, tuple} and not c.options:
            types.append(Sizes), kinds.append("a list of integers ≥ 1")
        elif isinstance(c, Interval):
            typ, kind = _interval(c, CAPS.get(name, {}))
            types.append(typ), kinds.append(kind)
        elif c == "boolean":
            types.append(Bool), kinds.append("true or false")
        elif c is str:
            types.append(Str), kinds.append("a string")
        elif c is dict:
            types.append(dict[Str, Any]), kinds.append("a mapping")
    if options:
        types.insert(0, Literal[tuple(options)])
        kinds.insert(0, _words(options) if not kinds else ", ".join(options))
    kind = _words(kinds) if kinds else "a value"
    typ = Union[tuple(types)] if len(types) > 1 else types[0] if types else Any
    if nullable:
        typ = Optional[typ]
        kind = f"null, {kind}" if options and len(kinds) == 1 else f"{kind} or null"
    return typ, key(_plain(default), kind, hint)


def _block(name: str, fields: dict) -> type[Block]:
    return create_model(name, __base__=Block, **fields)


def _title(name: str) -> str:
    return "".join(part.title() for part in name.replace("-", "_").split("_")) + "Params"


def _perturber_fields(spec: AugmenterSpec) -> dict:
    """An audio perturber's keys: finite numbers within the interval of its
    ``_parameter_constraints``; ``copies`` an integer ≥ 1."""
    cls, fields = spec.estimator, {}
    for name, default in defaults_of(cls).items():
        hint = spec.hints.get(name, "")
        if name == "copies":
            fields[name] = (Count, key(default, "an integer ≥ 1", hint))
            continue
        (c,) = [c for c in cls._parameter_constraints[name] if isinstance(c, Interval)]
        # an open end has no bound to include: say so, as scikit-learn's Interval requires
        lo = c.left is not None and c.closed in ("left", "both")
        hi = c.right is not None and c.closed in ("right", "both")
        closed = {(True, True): "both", (True, False): "left", (False, True): "right"}.get((lo, hi), "neither")
        fields[name] = field_of(name, [Interval(numbers.Real, c.left, c.right, closed=closed)], default, hint)
    return fields


def augmenter_block(spec: AugmenterSpec) -> type[Block]:
    """The ``augment.<spec.name>`` block: the sampler's keys, then its model's (``preset`` last)."""
    if spec.kind == "audio":
        return _block(_title(spec.name), _perturber_fields(spec))
    skip = RUN_SET | {MODEL_PARAM} | set(spec.fixed)
    model = {**defaults_of(spec.model), **spec.model_defaults} if spec.model is not None else {}
    sampler = defaults_of(spec.estimator)
    # a key of both goes to the sampler (registry.make_sampler), so the sampler's default and rules hold
    defaults = {**model, **sampler}
    constraints = {**getattr(spec.model, "_parameter_constraints", {}), **spec.estimator._parameter_constraints}
    fields = {n: field_of(n, constraints.get(n, []), defaults[n], spec.hints.get(n, ""))
              for n in dict.fromkeys([*sampler, *model]) if n not in skip}
    if spec.presets:
        names = tuple(spec.presets)
        fields["preset"] = (Literal[names], key(names[0], _words(list(names)), spec.hints.get("preset", "")))
    return _block(_title(spec.name), fields)


def classifier_block(spec: ClassifierSpec) -> type[Block]:
    """The ``classify.<spec.name>`` block: the estimator's keys less those the run sets."""
    cls = spec.estimator
    constraints = getattr(cls, "_parameter_constraints", {})
    fields = {n: field_of(n, constraints.get(n, []), d, spec.hints.get(n, ""))
              for n, d in defaults_of(cls).items() if n not in RUN_SET}
    return _block(_title(spec.name), fields)
