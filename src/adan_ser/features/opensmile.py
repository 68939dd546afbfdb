"""openSMILE functionals for a manifest of audio files.

The table produced here has one row per utterance: a first column ``file``
(the manifest's string, unchanged) followed by openSMILE's own feature
columns as float32. Shapes below use ``N`` for files and ``D`` for the
feature-set dimension (see :data:`FEATURE_DIMS`).

Bad input (one line naming the file; ``skip_bad`` lists and drops such files instead):
unreadable audio, zero samples, silence, non-finite samples, a sample rate other than the
corpus's, and audio openSMILE cannot describe (too short for one analysis window, or any
non-finite feature: openSMILE pads a too-short segment with NaN).

Sample rates: openSMILE's functionals depend on the sample rate (a 48 kHz copy of a 16 kHz file
changes about a third of the eGeMAPS features by more than 10 %), so one table must come from
one rate. A file at another rate than the corpus's (the rate of most of its files; on a tie,
the rate of the first such file in manifest order) is refused as bad input, naming the file,
its rate and the corpus rate; it is not resampled. Resampling would make a file's features
depend on a resampler's choices and, worse, on the other files of the manifest (the majority
can change when files are added), and the target rate would be a guess; converting the odd
files once (e.g. ``sox in.wav -r 16000 out.wav``) keeps every feature a function of its own
file. The rates are read from the audio headers before extraction; a file whose header cannot
be read here counts for no rate (it is reported as unreadable when its turn comes).

The audio checks are :mod:`.audio_io`'s, the openSMILE engine :mod:`.smile_engine`'s, the
workers :mod:`.smile_pool`'s and the streamed output :mod:`.parquet_stream`'s; this module
runs them over a manifest.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from adan_ser.core.errors import AdanError
from adan_ser.core.io import write_parquet
from adan_ser.core.scheduler import check_scheduler, is_dask_address
from adan_ser.features.audio_io import (
    SILENCE_PEAK,
    BadAudio,
    check_audio,
    corpus_rate,
    read_mono,
    resolve_path,
)
from adan_ser.features.parquet_stream import stream_to_parquet
from adan_ser.features.smile_engine import (
    FEATURE_DIMS,
    FEATURE_SETS,
    describe_signal,
    resolve_feature_set,
    smile_for,
)
from adan_ser.features.smile_pool import blocks_in_order, init_worker, package_cache

__all__ = [
    "FEATURE_SETS",
    "FEATURE_DIMS",
    "check_audio",
    "corpus_rate",
    "extract_features",
    "extract_to_parquet",
    "resolve_feature_set",
    "write_features",
    # what the audio-domain augmenters run through the same extraction
    "SILENCE_PEAK",
    "BadAudio",
    "describe_signal",
    "init_worker",
    "package_cache",
    "read_mono",
    "resolve_path",
    "smile_for",
]


def _start(manifest: pd.DataFrame, root, feature_set: str, workers, chunk_size, scheduler):
    """Validate the arguments; return (smile, files, items, corpus sample rate)."""
    smile = smile_for(feature_set)  # validates the name before any work; gives columns
    if "file" not in manifest.columns:
        raise AdanError("manifest has no 'file' column")
    if int(workers) < 1:
        raise AdanError(f"workers must be >= 1, got {workers}")
    if chunk_size is not None and int(chunk_size) < 1:
        raise AdanError(f"chunk_size must be >= 1, got {chunk_size}")
    check_scheduler(scheduler)
    files = manifest["file"].tolist()
    root_ = Path(root) if root is not None else None
    if is_dask_address(scheduler):
        # Dask workers run in their own folder (on other machines, too): give them absolute paths.
        root_ = (root_ or Path.cwd()).resolve()
    items = [(i, resolve_path(f, root_)) for i, f in enumerate(files)]
    multichannel: list = []
    rate = corpus_rate((path for _, path in items), multichannel)
    if multichannel:  # said once here, not by every worker for every file
        warnings.warn(f"{len(multichannel)} of {len(items)} files have more than one channel (first "
                      f"{multichannel[0]}); each is described as the mean of its channels", stacklevel=2)
    return smile, files, items, rate


def _iter_tables(
    manifest: pd.DataFrame,
    root,
    feature_set: str,
    workers: int,
    skip_bad: bool,
    progress: bool,
    chunk_size: int | None,
    scheduler,
    bad_out: list[tuple[str, str]],
) -> Iterator[pd.DataFrame]:
    """Feature tables of consecutive manifest slices, in manifest order (``file`` + D columns).

    Bad files are appended to ``bad_out`` as ``(file, reason)`` (``skip_bad``) or raise.
    """
    smile, files, items, rate = _start(manifest, root, feature_set, workers, chunk_size, scheduler)
    columns = list(smile.feature_names)
    workers = min(int(workers), max(len(items), 1))
    with tqdm(total=len(items), disable=not progress, desc=f"openSMILE {feature_set}", unit="file") as bar:
        blocks = blocks_in_order(feature_set, items, rate, workers, scheduler, chunk_size, bar.update)
        for rows, block, bad in blocks:
            for row, reason in bad:
                if not skip_bad:
                    blocks.close()  # cancels the chunks still in flight
                    raise AdanError(f"{files[row]}: {reason}")
                bad_out.append((files[row], reason))
            table = pd.DataFrame(block, columns=columns)
            table.insert(0, "file", [files[r] for r in rows])
            yield table


def _empty_table(feature_set: str) -> pd.DataFrame:
    columns = list(smile_for(feature_set).feature_names)
    table = pd.DataFrame(np.empty((0, len(columns)), dtype=np.float32), columns=columns)
    table.insert(0, "file", pd.Series([], dtype=object))
    return table


def extract_features(
    manifest: pd.DataFrame,
    root: str | os.PathLike | None,
    feature_set: str,
    workers: int = 1,
    skip_bad: bool = False,
    progress: bool = True,
    chunk_size: int | None = None,
    scheduler: str | None = "local",
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """openSMILE functionals for every file of ``manifest``, held in memory.

    For corpora whose table does not fit in memory use :func:`extract_to_parquet`, which
    streams the same rows to disk.

    Args:
        manifest: DataFrame with a ``file`` column: paths relative to ``root`` or absolute.
        root: folder the relative paths hang from (``None``: current directory).
        feature_set: a key of :data:`FEATURE_SETS`.
        workers: processes of the ``local`` backend; 1 runs in this process without a pool.
        skip_bad: drop and list bad files (see the module docstring) instead of raising on
            the first one.
        progress: show a tqdm bar over files.
        chunk_size: files per task sent to a worker (default: about 32 tasks per worker,
            at most 16 files each: IPC costs ~1 ms per task against 30-100 ms per file,
            while small tasks keep the last busy worker from finishing long after the rest).
        scheduler: ``"local"`` (or None) for the process pool of ``workers``, or the address
            of a Dask scheduler (``tcp://host:8786``): chunks then run as tasks on its
            workers (one per worker thread; ``workers`` is ignored), which must see the
            audio under the same paths. The result does not depend on the backend.

    Returns:
        ``(table, bad)``: ``table`` has shape ``(N_good, 1 + D)`` with ``file`` first (the
        manifest's value, unchanged) then float32 features in openSMILE's column order,
        rows in manifest order, fresh RangeIndex; ``bad`` lists ``(file, reason)`` for
        skipped files in manifest order (empty unless ``skip_bad``).

    Raises:
        AdanError: unknown feature set, no ``file`` column, bad ``workers``/``chunk_size``/
            ``scheduler``, an unreachable scheduler, or (``skip_bad=False``) the first bad
            file found, named in the message.
    """
    bad: list[tuple[str, str]] = []
    parts = list(_iter_tables(manifest, root, feature_set, workers, skip_bad, progress,
                              chunk_size, scheduler, bad))
    parts = [p for p in parts if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else _empty_table(feature_set)
    return table, bad


def extract_to_parquet(
    manifest: pd.DataFrame,
    root: str | os.PathLike | None,
    feature_set: str,
    path: str | os.PathLike,
    workers: int = 1,
    skip_bad: bool = False,
    progress: bool = True,
    chunk_size: int | None = None,
    scheduler: str | None = "local",
) -> tuple[int, list[tuple[str, str]]]:
    """:func:`extract_features` streamed to one parquet file at ``path``; memory stays flat.

    Rows are appended as row groups of :data:`.parquet_stream.ROW_GROUP_ROWS` while chunks
    arrive, so this process holds at most a row group plus the chunks in flight, not the whole
    table. The
    file is built beside ``path`` and renamed onto it only when every row is in (no partial
    output on an error); :func:`adan_ser.contracts.align.load_features` reads it back equal to
    :func:`extract_features`'s table. Arguments as there.

    Returns:
        ``(rows written, bad)`` with ``bad`` as in :func:`extract_features`.
    """
    bad: list[tuple[str, str]] = []
    tables = _iter_tables(manifest, root, feature_set, workers, skip_bad, progress, chunk_size, scheduler, bad)

    def nothing_written() -> AdanError:  # every file was bad, or there was none
        if bad:
            return AdanError(f"every file is bad ({len(bad)}), nothing written; first {bad[0][0]}: {bad[0][1]}")
        return AdanError("the manifest lists no file, nothing written")

    written = stream_to_parquet(tables, path, nothing_written)
    return written, bad


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the feature table to parquet atomically (no partial file on failure)."""
    write_parquet(table, path)
