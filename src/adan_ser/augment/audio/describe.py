"""The run over a corpus: perturbed copies of its files, described by the extract stage's openSMILE set.

Each file is perturbed once per (run seed, copy) and shared by every fold whose augmenter-training
rows hold it (see :func:`adan_ser.augment.stage.augment_folds`); a copy does not depend on the
worker or the order of work (see :mod:`adan_ser.augment.audio.perturbers`).

The perturbed signal is clipped to the int16 range openSMILE reads (as the extract stage does), and
a perturbation that yields silence, non-finite samples or a feature row with NaN/inf is an
:class:`~adan_ser.core.errors.AdanError` naming the file, the method, the copy and the seed:
``audio/x.wav, audio_noise copy 0 (seed 0): openSMILE cannot describe it: ...``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from adan_ser.augment.audio.perturbers import AudioPerturber
from adan_ser.core.errors import AdanError
from adan_ser.core.scheduler import TaskRunner
from adan_ser.features import opensmile as smile_features

__all__ = ["Perturbed", "perturb_features"]


def _describe(smile, signal: np.ndarray, sample_rate: int) -> np.ndarray:
    """openSMILE functionals (D,) float32 of a perturbed signal; ``BadAudio`` with the reason."""
    bad = smile_features.BadAudio
    # openSMILE casts to int16: clip as the extract stage does for its own input
    signal = np.clip(signal, -1.0, 32767 / 32768)
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    if not math.isfinite(peak):
        raise bad("non-finite samples after perturbation")
    if peak < smile_features.SILENCE_PEAK:
        raise bad(f"silent after perturbation (peak |x| = {peak:.2g} < {smile_features.SILENCE_PEAK:g})")
    return smile_features.describe_signal(smile, signal, sample_rate)


def _perturb_chunk(feature_set: str, sample_rate: Optional[int], perturber: AudioPerturber, seed: int,
                   items: Sequence[tuple[int, str, str, int, str]]):
    """Perturb and describe ``items`` of (key, manifest file, path, copy, speaker); the task every backend runs.

    Returns (done keys, features (len(done), D) float32, first failure as (file, copy, reason,
    perturbed?) or None). A failure stops the chunk: the stage stops at it anyway.
    """
    smile = smile_features.smile_for(feature_set)
    keys, values = [], []
    for key, file, path, copy, speaker in items:
        try:
            signal, sr = smile_features.read_mono(path, sample_rate)
        except smile_features.BadAudio as exc:
            return keys, _stack(values, smile), (file, copy, str(exc), False)
        try:
            values.append(_describe(smile, perturber.perturb_file(signal, sr, file, speaker, copy, seed), sr))
        except smile_features.BadAudio as exc:
            return keys, _stack(values, smile), (file, copy, str(exc), True)
        keys.append(key)
    return keys, _stack(values, smile), None


def _stack(values: list, smile) -> np.ndarray:
    return np.vstack(values) if values else np.empty((0, len(smile.feature_names)), dtype=np.float32)


@dataclass
class Perturbed:
    """Features of perturbed copies: ``rows`` (n,) manifest row positions, ``copies`` (n,) copy
    indices, ``X`` (n, D) float32 in openSMILE's column order ``names``; ``seconds`` of work."""

    rows: np.ndarray
    copies: np.ndarray
    X: np.ndarray
    names: list[str]
    seconds: float

    @property
    def files_per_s(self) -> float:
        return len(self.rows) / self.seconds if self.seconds > 0 else float("nan")


def perturb_features(
    manifest: pd.DataFrame,
    root,
    feature_set: str,
    perturber: AudioPerturber,
    seed: int,
    pairs: Optional[np.ndarray] = None,
    workers: int = 1,
    progress: bool = True,
) -> Perturbed:
    """openSMILE ``feature_set`` functionals of perturbed copies of ``manifest``'s files under run seed ``seed``.

    ``pairs``: (n, 2) int (manifest row position, copy index) to make, in that order; None: every
    row × ``range(perturber.copies)``, row-major. ``root``: folder the manifest's relative paths hang
    from. ``workers``: 1 runs here, more a local process pool with one Smile per worker; the result
    does not depend on it. There is no Dask backend: audiomentations draws from the process-wide
    generators, which a Dask worker's own threads draw from too, so the same seed would not give
    the same copies. Source files must be at the corpus sample rate (the most common one among
    ``manifest``'s files). Speaker-level perturbers (``audio_voice``, ``audio_vtlp``) read each file's
    voice from its ``speaker`` column.
    """
    perturber.check()
    smile = smile_features.smile_for(feature_set)  # validates the name; gives the columns
    if pairs is None:
        pairs = np.array([(r, c) for r in range(len(manifest)) for c in range(int(perturber.copies))],
                         dtype=np.int64).reshape(-1, 2)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    root_ = Path(root) if root is not None else None
    files = manifest["file"].astype(str).tolist()
    paths = [smile_features.resolve_path(f, root_) for f in files]
    rate = smile_features.corpus_rate(paths)
    speakers = (manifest["speaker"].astype(str).tolist() if "speaker" in manifest.columns
                else [None] * len(files))  # speaker-level perturbers refuse None, naming the file
    items = [(k, files[r], paths[r], int(c), speakers[r]) for k, (r, c) in enumerate(pairs)]
    n = len(items)
    workers = min(int(workers), max(n, 1))
    start = time.perf_counter()
    done_keys, blocks = [], []
    with TaskRunner(None, workers, initializer=smile_features.init_worker,
                    initargs=(feature_set, smile_features.package_cache()),
                    preload=[smile_features.__name__, __name__]) as runner, \
            tqdm(total=n, disable=not progress, desc=f"{perturber.method} seed {seed}", unit="file") as bar:
        size = max(1, min(16, math.ceil(n / (runner.slots * 32)))) if n else 1
        chunks = [items[i:i + size] for i in range(0, n, size)]
        tasks = ((feature_set, rate, perturber, int(seed), chunk) for chunk in chunks)
        results = runner.map(_perturb_chunk, tasks, on_done=lambda i: bar.update(len(chunks[i])))
        for keys, block, failure in results:
            if failure is not None:
                results.close()  # cancels the chunks still in flight
                file, copy, reason, perturbed = failure
                where = f"{file}, {perturber.method} copy {copy} (seed {seed})" if perturbed else file
                raise AdanError(f"{where}: {reason}")
            done_keys += keys
            blocks.append(block)
    seconds = time.perf_counter() - start
    order = np.asarray(done_keys, dtype=np.int64)
    X = np.vstack(blocks) if blocks else _stack([], smile)
    return Perturbed(rows=pairs[order, 0], copies=pairs[order, 1], X=X,
                     names=list(smile.feature_names), seconds=seconds)
