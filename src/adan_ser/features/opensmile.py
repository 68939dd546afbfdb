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

Inside this module ``opensmile`` is the PyPI package (absolute imports), not
this file.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import warnings
from collections import Counter
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
from adan_ser.core.scheduler import TaskRunner, check_scheduler, is_dask_address

__all__ = [
    "FEATURE_SETS",
    "FEATURE_DIMS",
    "check_audio",
    "corpus_rate",
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


class BadAudio(Exception):
    """The audio cannot be described; the message is the reason (no file name): callers add it."""


def _one_line(exc: BaseException) -> str:
    """First non-empty line of an exception's message (library errors can span lines)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def read_mono(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 mono in [-1, 1]; shape ``(samples,)``, rate in Hz.

    Raises ``BadAudio`` with a short reason when the file is unreadable,
    empty, at another rate than ``sample_rate`` (Hz; None: any) or silent;
    reading once here serves both the check and extraction.
    """
    if not os.path.isfile(path):  # libsndfile would call it "System error."
        raise BadAudio("file not found" if not os.path.exists(path) else "not a file")
    try:
        signal, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        raise BadAudio(f"unreadable audio ({_one_line(exc)})") from None
    if signal.shape[0] == 0:
        raise BadAudio("zero samples")
    if sample_rate is not None and int(sr) != int(sample_rate):
        raise BadAudio(
            f"sample rate {int(sr)} Hz differs from the corpus rate {int(sample_rate)} Hz "
            f"(not resampled: convert the file to {int(sample_rate)} Hz)"
        )
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
        raise BadAudio("non-finite samples")
    if peak < SILENCE_PEAK:
        raise BadAudio(f"silent (peak |x| = {peak:.2g} < {SILENCE_PEAK:g})")
    return mono, int(sr)


def check_audio(path: str | os.PathLike, sample_rate: int | None = None) -> None:
    """Raise AdanError naming ``path`` if it is unreadable, has zero samples, is silent, or
    (``sample_rate`` given, Hz) has another rate."""
    try:
        read_mono(path, sample_rate)
    except BadAudio as exc:
        raise AdanError(f"{path}: {exc}") from None


def corpus_rate(paths: Iterable[str | os.PathLike], multichannel: list | None = None) -> int | None:
    """The sample rate (Hz) of most of ``paths``, from their headers; on a tie, that of the first
    such file. Unreadable headers count for no rate; None when no header is readable.
    ``multichannel``: when given, the paths of more than one channel are appended to it."""
    rates: Counter = Counter()
    for path in paths:
        try:
            info = sf.info(str(path))
        except (sf.SoundFileError, RuntimeError, OSError):
            continue
        rates[int(info.samplerate)] += 1
        if multichannel is not None and info.channels > 1:
            multichannel.append(path)
    # most_common sorts stably, so among equal counts the rate seen first wins
    return rates.most_common(1)[0][0] if rates else None


# ----------------------------------------------------------------- workers
# One Smile per thread of each process (pool workers, Dask worker threads, this process), built
# once: construction parses the config and is far too slow to repeat per file, and a Smile is not
# known to be thread-safe.
_THREAD = threading.local()


def smile_for(feature_set: str) -> opensmile.Smile:
    cache = getattr(_THREAD, "smiles", None)
    if cache is None:
        cache = _THREAD.smiles = {}
    if feature_set not in cache:
        cache[feature_set] = _make_smile(feature_set)
    return cache[feature_set]


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


# openSMILE hands each frame of results to a Python callback through ctypes, and ctypes swallows
# what that callback raises (it reports it to sys.unraisablehook and returns). An interrupt
# (Ctrl-C, SIGTERM made an exception) arriving then would leave the file without features, and
# the file would be blamed as one openSMILE cannot describe; so the hook below keeps what a
# callback of this thread swallowed and :func:`_interrupts_kept` raises it again.
_SWALLOWED = threading.local()
_chained_hook = sys.unraisablehook


def _keep_swallowed(unraisable) -> None:
    exc_type = unraisable.exc_type
    if getattr(_SWALLOWED, "active", False) and exc_type is not None and not issubclass(exc_type, Exception):
        _SWALLOWED.exc = unraisable.exc_value if unraisable.exc_value is not None else exc_type()
        return
    _chained_hook(unraisable)


@contextlib.contextmanager
def _interrupts_kept() -> Iterator[None]:
    global _chained_hook
    if sys.unraisablehook is not _keep_swallowed:
        _chained_hook, sys.unraisablehook = sys.unraisablehook, _keep_swallowed
    _SWALLOWED.exc, _SWALLOWED.active = None, True
    try:
        yield
    finally:
        _SWALLOWED.active = False
    swallowed, _SWALLOWED.exc = _SWALLOWED.exc, None
    if swallowed is not None:
        raise swallowed


def describe_signal(smile: opensmile.Smile, signal: np.ndarray, sr: int) -> np.ndarray:
    """Functionals of a (samples,) float signal at ``sr`` Hz, shape ``(D,)`` float32.

    ``BadAudio`` (the reason, no file name) when openSMILE fails or any functional is not finite.
    """
    try:
        # A segment shorter than one analysis window yields no frame: openSMILE then warns and
        # pads with NaN. The NaN check below turns that into a bad file, so the warning is noise.
        with warnings.catch_warnings(), _interrupts_kept():
            warnings.filterwarnings("ignore", message="Segment too short", category=UserWarning)
            values = smile.process_signal(signal, sr).to_numpy(dtype=np.float32)
    except Exception as exc:  # the C engine's errors have no common base class
        raise BadAudio(f"openSMILE failed ({type(exc).__name__}: {_one_line(exc)})") from None
    values = values.reshape(-1)
    finite = np.isfinite(values)
    if not finite.all():
        raise BadAudio(
            f"openSMILE cannot describe it: {int((~finite).sum())} of {values.size} features "
            f"not finite ({signal.size / sr:.3f} s of audio; too short?)"
        )
    return values


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


def resolve_path(file, root: Path | None) -> str:
    path = Path(str(file))
    if not path.is_absolute() and root is not None:
        path = root / path
    return str(path)


def _blocks_in_order(
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
        blocks = _blocks_in_order(feature_set, items, rate, workers, scheduler, chunk_size, bar.update)
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
        if writer is None:  # every file was bad, or there was none: a table of no rows serves no stage
            if bad:
                raise AdanError(f"every file is bad ({len(bad)}), nothing written; first {bad[0][0]}: {bad[0][1]}")
            raise AdanError("the manifest lists no file, nothing written")
    return written, bad


def write_features(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the feature table to parquet atomically (no partial file on failure)."""
    write_parquet(table, path)
