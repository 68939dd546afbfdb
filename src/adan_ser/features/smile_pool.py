"""Extraction on a pool: the task each worker runs over a chunk of files, the start of a worker,
and the results of every chunk in manifest order, whatever the backend.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator, Sequence

import numpy as np
import opensmile

from adan_ser.core.scheduler import TaskRunner
from adan_ser.features.audio_io import BadAudio, read_mono
from adan_ser.features.smile_engine import describe_signal, smile_for


# audobject (under opensmile) caches ``packages_distributions()`` in a module global; the two
# functions below read that global in the parent and set it in each worker. They touch its
# internals only, and fall back to a plain start when its layout changes.
def package_cache() -> dict | None:
    """audobject's cache of ``packages_distributions()``, or None if its layout changed.

    The first ``Smile()`` in a process spends ~0.3-0.5 s scanning every installed
    distribution to fill this cache; handing the parent's copy to each worker removes
    that from pool start-up, which matters for short runs.
    """
    try:
        from audobject.core import utils as audobject_utils

        cache = audobject_utils.PACKAGES_DISTRIBUTIONS
    except (ImportError, AttributeError):
        return None
    return dict(cache) if isinstance(cache, dict) and cache else None


def init_worker(name: str, package_cache: dict | None = None) -> None:
    """Pool worker start: take the parent's package cache, then build this worker's Smile."""
    if package_cache:
        try:
            from audobject.core import utils as audobject_utils

            if isinstance(getattr(audobject_utils, "PACKAGES_DISTRIBUTIONS", None), dict):
                audobject_utils.PACKAGES_DISTRIBUTIONS = package_cache
        except ImportError:
            pass
    smile_for(name)


def _extract_one(smile: opensmile.Smile, path: str, sample_rate: int | None) -> np.ndarray:
    """Functionals of one file, shape ``(D,)`` float32; ``BadAudio`` on a bad file."""
    signal, sr = read_mono(path, sample_rate)
    return describe_signal(smile, signal, sr)


def _run_chunk(
    feature_set: str, sample_rate: int | None, items: Sequence[tuple[int, str]]
) -> tuple[list[int], np.ndarray, list[tuple[int, str]]]:
    """Process ``items`` of (row, path) with this thread's Smile; the task every backend runs.

    Returns (good rows, their features ``(len(good), D)`` float32, [(row, reason)]).
    One array per chunk keeps pickling cost per file negligible.
    """
    smile = smile_for(feature_set)
    rows: list[int] = []
    values: list[np.ndarray] = []
    bad: list[tuple[int, str]] = []
    for row, path in items:
        try:
            values.append(_extract_one(smile, path, sample_rate))
            rows.append(row)
        except BadAudio as exc:
            bad.append((row, str(exc)))
    dim = len(smile.feature_names)
    block = np.vstack(values) if values else np.empty((0, dim), dtype=np.float32)
    return rows, block, bad


def _chunks(items: list[tuple[int, str]], size: int) -> Iterable[list[tuple[int, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def blocks_in_order(
    feature_set: str,
    items: list[tuple[int, str]],
    sample_rate: int | None,
    workers: int,
    scheduler,
    chunk_size: int | None,
    on_chunk,
) -> Iterator[tuple[list[int], np.ndarray, list[tuple[int, str]]]]:
    """Run every chunk of ``items`` on the chosen backend; yield results in manifest order.

    Each yielded item is one chunk's ``(good rows, features (len(rows), D) float32,
    [(row, reason)])``. The backend is a :class:`~adan_ser.core.scheduler.TaskRunner`: this
    process (``workers`` 1), a pool of ``workers`` processes with one Smile each, or Dask; it
    keeps memory bounded whatever ``len(items)`` (a few chunks per worker in flight).
    ``on_chunk(n)`` is called with the file count of each chunk as it finishes.
    """
    n = len(items)
    runner = TaskRunner(scheduler, workers, initializer=init_worker,
                        initargs=(feature_set, package_cache()), preload=[__name__])
    with runner:
        if chunk_size is None:
            chunk_size = max(1, min(16, math.ceil(n / (runner.slots * 32))))
        chunks = list(_chunks(items, chunk_size)) if n else []
        # pure data arguments (no arrays), so Dask sends them inside each task
        tasks = ((feature_set, sample_rate, chunk) for chunk in chunks)
        yield from runner.map(_run_chunk, tasks, on_done=lambda i: on_chunk(len(chunks[i])))
