"""openSMILE functionals for a manifest of audio files.

The table produced here has one row per utterance: a first column ``file``
(the manifest's string, unchanged) followed by openSMILE's own feature
columns as float32. Shapes below use ``N`` for files and ``D`` for the
feature-set dimension (see :data:`FEATURE_DIMS`).

Inside this module ``opensmile`` is the PyPI package (absolute imports), not
this file.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import opensmile
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf
from tqdm.auto import tqdm

from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_path, write_parquet
from adan_ser.core.scheduler import check_scheduler, dask_client, is_dask_address

__all__ = [
    "FEATURE_SETS",
    "FEATURE_DIMS",
    "check_audio",
    "extract_features",
    "extract_to_parquet",
    "resolve_feature_set",
    "write_features",
]

#: Name used in params.yaml -> openSMILE feature set (functionals level).
FEATURE_SETS: dict[str, opensmile.FeatureSet] = {
    "IS09": opensmile.FeatureSet.IS09,  # IS09_emotion
    "IS10": opensmile.FeatureSet.IS10,  # IS10_paraling_compat
    "IS11": opensmile.FeatureSet.IS11,  # IS11_speaker_state
    "IS13": opensmile.FeatureSet.IS13,  # IS13_ComParE
    "eGeMAPSv02": opensmile.FeatureSet.eGeMAPSv02,
    "ComParE_2016": opensmile.FeatureSet.ComParE_2016,
}

#: Number of functionals per feature set (checked against openSMILE in the tests).
FEATURE_DIMS: dict[str, int] = {
    "IS09": 384,
    "IS10": 1582,
    "IS11": 4368,
    "IS13": 6373,
    "eGeMAPSv02": 88,
    "ComParE_2016": 6373,
}

#: Peak absolute amplitude (full scale = 1.0) below which a file counts as silent.
SILENCE_PEAK = 1e-4


def resolve_feature_set(name: str) -> opensmile.FeatureSet:
    """Map a params name (e.g. ``"IS10"``) to the openSMILE feature set; AdanError if unknown."""
    try:
        return FEATURE_SETS[name]
    except (KeyError, TypeError):
        known = ", ".join(FEATURE_SETS)
        raise AdanError(f"unknown openSMILE feature set {name!r}; known: {known}") from None


def _make_smile(name: str) -> opensmile.Smile:
    return opensmile.Smile(
        feature_set=resolve_feature_set(name),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


class _BadAudio(Exception):
    """Internal: the file cannot be used; the message is the reason (no file name)."""


def _one_line(exc: BaseException) -> str:
    """First non-empty line of an exception's message (library errors can span lines)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _read_mono(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 mono in [-1, 1]; shape ``(samples,)``, rate in Hz.

    Raises ``_BadAudio`` with a short reason when the file is unreadable,
    empty or silent; reading once here serves both the check and extraction.
    """
    try:
        signal, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        raise _BadAudio(f"unreadable audio ({_one_line(exc)})") from None
    if signal.shape[0] == 0:
        raise _BadAudio("zero samples")
    # openSMILE's signal path takes one channel; averaging keeps what every
    # channel carries instead of silently dropping all but the first.
    mono = (
        np.ascontiguousarray(signal[:, 0])
        if signal.shape[1] == 1
        else signal.mean(axis=1, dtype=np.float32)
    )
    # openSMILE scales by 32768 and casts to int16, so a float file reaching 1.0
    # would wrap to -32768; clipping is what a PCM recorder would have done anyway.
    np.clip(mono, -1.0, 32767 / 32768, out=mono)
    peak = float(np.max(np.abs(mono)))
    if not math.isfinite(peak):
        raise _BadAudio("non-finite samples")
    if peak < SILENCE_PEAK:
        raise _BadAudio(f"silent (peak |x| = {peak:.2g} < {SILENCE_PEAK:g})")
    return mono, int(sr)


def check_audio(path: str | os.PathLike) -> None:
    """Raise AdanError naming ``path`` if it is unreadable, has zero samples or is silent."""
    try:
        _read_mono(path)
    except _BadAudio as exc:
        raise AdanError(f"{path}: {exc}") from None


# ----------------------------------------------------------------- workers
# One Smile per process, built by the pool initializer: construction parses the
# config and is far too slow to repeat per file.
_SMILE: opensmile.Smile | None = None


def _package_cache() -> dict | None:
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


def _init_worker(name: str, package_cache: dict | None = None) -> None:
    global _SMILE
    if package_cache:
        try:
            from audobject.core import utils as audobject_utils

            if isinstance(getattr(audobject_utils, "PACKAGES_DISTRIBUTIONS", None), dict):
                audobject_utils.PACKAGES_DISTRIBUTIONS = package_cache
        except ImportError:
            pass
    _SMILE = _make_smile(name)


def _extract_one(smile: opensmile.Smile, path: str) -> np.ndarray:
    """Functionals of one file, shape ``(D,)`` float32; ``_BadAudio`` on a bad file."""
    signal, sr = _read_mono(path)
    try:
        values = smile.process_signal(signal, sr).to_numpy(dtype=np.float32)
    except Exception as exc:  # the C engine's errors have no common base class
        raise _BadAudio(f"openSMILE failed ({type(exc).__name__}: {_one_line(exc)})") from None
    # A too-short segment yields no frame; openSMILE then pads with NaN, which
    # downstream code handles, so only the shape is enforced.
    return values.reshape(-1)


def _run_chunk(
    smile: opensmile.Smile, items: Sequence[tuple[int, str]]
) -> tuple[list[int], np.ndarray, list[tuple[int, str]]]:
    """Process ``items`` of (row, path).

    Returns (good rows, their features ``(len(good), D)`` float32, [(row, reason)]).
    One array per chunk keeps pickling cost per file negligible.
    """
    rows: list[int] = []
    values: list[np.ndarray] = []
    bad: list[tuple[int, str]] = []
    for row, path in items:
        try:
            values.append(_extract_one(smile, path))
            rows.append(row)
        except _BadAudio as exc:
            bad.append((row, str(exc)))
    dim = len(smile.feature_names)
    block = np.vstack(values) if values else np.empty((0, dim), dtype=np.float32)
    return rows, block, bad


def _worker_chunk(items: Sequence[tuple[int, str]]):
    assert _SMILE is not None, "worker initializer did not run"
    return _run_chunk(_SMILE, items)


def _mp_context():
    # Never fork: the parent may hold threads (tqdm monitor, Arrow pools) whose
    # locks a forked child would inherit mid-state. forkserver forks from a clean
    # server that has imported this module once, so workers start fast.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return mp.get_context("spawn")


def _chunks(items: list[tuple[int, str]], size: int) -> Iterable[list[tuple[int, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _resolve(file, root: Path | None) -> str:
    path = Path(str(file))
    if not path.is_absolute() and root is not None:
        path = root / path
    return str(path)


# ------------------------------------------------------------- dask workers
# A Dask worker may run several tasks at once on threads; a Smile is not known to be
# thread-safe, so each thread of each worker process keeps its own, built once.
_THREAD = threading.local()


def _dask_chunk(feature_set: str, items: Sequence[tuple[int, str]]):
    """Task run on a Dask worker: :func:`_run_chunk` with this thread's cached Smile."""
    cache = getattr(_THREAD, "smiles", None)
    if cache is None:
        cache = _THREAD.smiles = {}
    if feature_set not in cache:
        cache[feature_set] = _make_smile(feature_set)
    return _run_chunk(cache[feature_set], items)


class _LocalPool:
    """The ``local`` backend: a process pool of ``workers`` with one Smile per process."""

    def __init__(self, feature_set: str, workers: int):
        self.slots = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_mp_context(),
            initializer=_init_worker,
            initargs=(feature_set, _package_cache()),
        )

    def submit(self, chunk):
        return self.pool.submit(_worker_chunk, chunk)

    def wait_any(self, pending):
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        return done

    def close(self):
        # On an error, queued chunks are dropped rather than run to completion.
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskPool:
    """The Dask backend: chunks become tasks on the cluster at ``address``.

    Workers read the audio paths themselves, so the files must be reachable under the
    same paths on every worker (shared file system).
    """

    def __init__(self, feature_set: str, address: str):
        from distributed import wait as dask_wait

        self.feature_set = feature_set
        self.client = dask_client(address)
        self._wait = dask_wait
        self.slots = max(1, sum(self.client.nthreads().values()))

    def submit(self, chunk):
        # pure=False: a re-run must really run, not reuse a result the scheduler still holds.
        return self.client.submit(_dask_chunk, self.feature_set, chunk, pure=False)

    def wait_any(self, pending):
        with self.client.as_current():  # wait() finds its client there, not in the futures
            return self._wait(list(pending), return_when="FIRST_COMPLETED").done

    def close(self):
        self.client.close()


def _blocks_in_order(
    smile: opensmile.Smile,
    feature_set: str,
    items: list[tuple[int, str]],
    workers: int,
    scheduler,
    chunk_size: int | None,
    on_chunk,
) -> Iterator[tuple[list[int], np.ndarray, list[tuple[int, str]]]]:
    """Run every chunk of ``items`` on the chosen backend; yield results in manifest order.

    Each yielded item is one chunk's ``(good rows, features (len(rows), D) float32,
    [(row, reason)])``. Memory stays bounded whatever ``len(items)``: at most ``4 x slots``
    chunks are in flight, and a finished chunk waits in the reorder buffer only while an
    earlier one is still running; new chunks are submitted no further than ``8 x slots``
    ahead of the next one due, so that buffer is bounded too.
    """
    n = len(items)
    backend = None
    if is_dask_address(scheduler):
        backend = _DaskPool(feature_set, scheduler)
    elif workers > 1:
        backend = _LocalPool(feature_set, workers)
    slots = backend.slots if backend is not None else 1
    if chunk_size is None:
        chunk_size = max(1, min(16, math.ceil(n / (slots * 32))))
    chunks = list(_chunks(items, chunk_size)) if n else []

    if backend is None:
        for chunk in chunks:
            yield _run_chunk(smile, chunk)
            on_chunk(len(chunk))
        return

    in_flight, window = 4 * slots, 8 * slots
    pending: dict = {}  # future -> chunk index
    done_buffer: dict[int, tuple] = {}
    next_submit = next_due = 0
    try:
        while next_due < len(chunks):
            while (next_submit < len(chunks) and len(pending) < in_flight
                   and next_submit < next_due + window):
                pending[backend.submit(chunks[next_submit])] = next_submit
                next_submit += 1
            for fut in backend.wait_any(pending):
                idx = pending.pop(fut)
                done_buffer[idx] = fut.result()
                on_chunk(len(chunks[idx]))
            while next_due in done_buffer:
                yield done_buffer.pop(next_due)
                next_due += 1
    finally:
        for fut in pending:
            fut.cancel()
        backend.close()


def _start(manifest: pd.DataFrame, root, feature_set: str, workers, chunk_size, scheduler):
    """Validate the arguments; return (smile, files, items)."""
    smile = _make_smile(feature_set)  # validates the name before any work; gives columns
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
    items = [(i, _resolve(f, root_)) for i, f in enumerate(files)]
    return smile, files, items


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
    smile, files, items = _start(manifest, root, feature_set, workers, chunk_size, scheduler)
    columns = list(smile.feature_names)
    workers = min(int(workers), max(len(items), 1))
    with tqdm(total=len(items), disable=not progress, desc=f"openSMILE {feature_set}", unit="file") as bar:
        blocks = _blocks_in_order(smile, feature_set, items, workers, scheduler, chunk_size, bar.update)
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
    columns = list(_make_smile(feature_set).feature_names)
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
        skip_bad: drop and list bad files instead of raising on the first one.
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


#: Rows per parquet row group written by :func:`extract_to_parquet`: large enough that the
#: per-column metadata stays small next to the data (IS11: 1024 rows x 4368 floats = 17 MiB).
ROW_GROUP_ROWS = 1024


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

    Rows are appended as row groups of :data:`ROW_GROUP_ROWS` while chunks arrive, so this
    process holds at most a row group plus the chunks in flight, not the whole table. The
    file is built beside ``path`` and renamed onto it only when every row is in (no partial
    output on an error); :func:`adan_ser.contracts.align.load_features` reads it back equal to
    :func:`extract_features`'s table. Arguments as there.

    Returns:
        ``(rows written, bad)`` with ``bad`` as in :func:`extract_features`.
    """
    bad: list[tuple[str, str]] = []
    # closing(): on an error below, the pool or the cluster's tasks are released now.
    tables = contextlib.closing(_iter_tables(manifest, root, feature_set, workers, skip_bad,
                                             progress, chunk_size, scheduler, bad))
    written = 0
    with tables as stream, atomic_path(path, ".parquet") as tmp:
        writer = None  # opened on the first rows, whose column types make the schema
        buffer: list[pd.DataFrame] = []
        buffered = 0

        def flush(part: pd.DataFrame) -> None:
            nonlocal writer
            arrow = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, arrow.schema)
            writer.write_table(arrow.cast(writer.schema), row_group_size=ROW_GROUP_ROWS)

        try:
            for table in stream:
                if not len(table):
                    continue
                buffer.append(table)
                buffered += len(table)
                written += len(table)
                # Row groups are cut at fixed row counts, not chunk edges, so the file's
                # layout (and bytes) do not depend on the backend or the chunk size.
                if buffered >= ROW_GROUP_ROWS:
                    merged = pd.concat(buffer, ignore_index=True)
                    cut = (buffered // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
                    flush(merged.iloc[:cut])
                    rest = merged.iloc[cut:].reset_index(drop=True)
                    buffer, buffered = ([rest] if len(rest) else []), len(rest)
            if buffered:
                flush(pd.concat(buffer, ignore_index=True))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # every file was bad: an empty table with the right columns
            _empty_table(feature_set).to_parquet(tmp, index=False)
    return written, bad


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the feature table to parquet atomically (no partial file on failure)."""
    write_parquet(table, path)
