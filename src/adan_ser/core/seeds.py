"""Run seeds: the one check every stage that trains applies to ``eval.seeds``."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from adan_ser.core.errors import AdanError


def as_seeds(seeds: int | Sequence[int]) -> list[int]:
    """``seeds`` as a non-empty list of distinct ints (an int is one seed)."""
    seeds = [seeds] if isinstance(seeds, (int, np.integer)) else list(seeds)
    if not seeds:
        raise AdanError("eval.seeds is empty: give at least one run seed")
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise AdanError(f"eval.seeds must be integers, got {seeds!r}") from None
    if any(s < 0 for s in out) or len(set(out)) != len(out):
        raise AdanError(f"eval.seeds must be distinct non-negative integers, got {out}")
    return out
