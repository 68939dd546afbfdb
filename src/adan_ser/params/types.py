"""Value types and the block base class of the params schema.

A field is written ``name: <type> = key(default, kind, hint)``: ``kind`` completes "<value> is
not ..." in an error, ``hint`` says what the key does.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)


def number(**bounds):
    """An int or a finite float (kept as given; a bool or a string is not a number) within ``bounds``."""
    return Union[Annotated[StrictInt, Field(**bounds)], Annotated[StrictFloat, Field(allow_inf_nan=False, **bounds)]]


def integer(**bounds):
    return Annotated[StrictInt, Field(**bounds)]


Count = integer(ge=1)
Natural = integer(ge=0)
Positive = number(gt=0)
NonNegative = number(ge=0)
Share = number(gt=0, lt=1)
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
Seed = integer(ge=0, lt=2**32)
SEED_KIND = "an integer in [0, 2^32)"
Seeds = Annotated[Union[Seed, list[Seed]], AfterValidator(_seeds)]


def _not_one(value: list) -> list:
    if len(set(value)) == 1 or len(set(value)) != len(value):
        raise ValueError("one class, or a class twice")
    return value


class Reason(ValueError):
    """A validator's refusal whose message is shown after the key (what exactly is wrong)."""


def _device(value: str) -> str:
    if value in ("auto", "cpu"):
        return value  # no device query for the common case
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise Reason("not a torch device name") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise Reason("torch sees no CUDA device on this machine; use auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise Reason(f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise Reason("torch sees no MPS device on this machine; use auto or cpu")
    elif device.type != "cpu":
        raise Reason("not a device the models run on")
    return value


Device = Annotated[StrictStr, AfterValidator(_device)]
DEVICE_KIND = "a device available here"


def _fractions(value):
    fractions = value if isinstance(value, list) else [value]
    if not fractions or len(set(fractions)) != len(fractions):
        raise ValueError("not distinct or empty")
    return value


Fraction = number(gt=0, le=1)
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

