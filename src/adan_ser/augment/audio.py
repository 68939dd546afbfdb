"""Audio-domain augmentation: perturb the waveform, then describe it with the extract stage's openSMILE set.

Three methods, peers of the feature-space augmenters (``augment.methods``), built on
``audiomentations``:

* ``audio_speed``: tempo change (time stretch, pitch kept; the duration changes by 1/rate), the
  rate drawn uniformly in ``[rate_min, rate_max]``;
* ``audio_noise``: additive white Gaussian noise at an SNR (dB, against the file's own RMS) drawn
  uniformly in ``[snr_db_min, snr_db_max]``;
* ``audio_mix``: a fixed-order chain of tempo change, pitch shift (semitones), noise and gain (dB),
  each applied with its own probability (``p_speed``, ``p_pitch``, ``p_noise``, ``p_gain``).

A perturbed copy is a function of (source file, method parameters, run seed, copy index) alone:
before each file's transform, Python's ``random`` and NumPy's global generator (which
audiomentations draws from) are seeded from ``np.random.default_rng([seed, crc32(file), copy])``,
where ``file`` is the manifest's string. So the copy does not depend on the fold, the worker, the
order of work or the other files, and each file is perturbed once per run seed and shared by every
fold whose augmenter-training rows hold it (see :func:`adan_ser.augment.stage.augment_folds`).

The perturbed signal is clipped to the int16 range openSMILE reads (as the extract stage does), and
a perturbation that yields silence, non-finite samples or a feature row with NaN/inf is an
:class:`~adan_ser.core.errors.AdanError` naming the file, the method, the copy and the seed:
``audio/x.wav, audio_noise copy 0 (seed 0): openSMILE cannot describe it: ...``.
"""

from __future__ import annotations

import math
import random
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from adan_ser.contracts.manifest import one_line
from adan_ser.core.errors import AdanError
from adan_ser.core.scheduler import TaskRunner
from adan_ser.features import opensmile as smile_features

__all__ = [
    "AUDIO_METHODS",
    "AudioPerturber",
    "SpeedPerturber",
    "NoisePerturber",
    "MixPerturber",
    "Perturbed",
    "copies_for",
    "perturb_features",
]


class AudioPerturber:
    """Base: a seeded waveform perturbation; subclasses give :meth:`_transform` and their ranges.

    scikit-learn conventions: the constructor stores its parameters as given; :meth:`check`
    validates them (AdanError naming ``augment.<method>.<key>``). ``copies``: perturbed copies of
    each training file (copy indices ``0 .. copies-1``).
    """

    method = ""
    #: (low key, high key) pairs that must satisfy low ≤ high
    _ranges: tuple[tuple[str, str], ...] = ()
    _probabilities: tuple[str, ...] = ()
    _positive: tuple[str, ...] = ()

    def get_params(self, deep: bool = False) -> dict:
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def check(self) -> "AudioPerturber":
        where = f"augment.{self.method}"
        params = self.get_params()
        for name, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise AdanError(f"{where}.{name}: {value!r} is not a finite number")
        copies = params["copies"]
        if int(copies) != copies or copies < 1:
            raise AdanError(f"{where}.copies: {copies!r} is not an integer ≥ 1")
        for name in self._positive:
            if params[name] <= 0:
                raise AdanError(f"{where}.{name}: {params[name]!r} is not a number > 0")
        for name in self._probabilities:
            if not 0 <= params[name] <= 1:
                raise AdanError(f"{where}.{name}: {params[name]!r} is not a probability in [0, 1]")
        for low, high in self._ranges:
            if params[low] > params[high]:
                raise AdanError(f"{where}: {low} {params[low]!r} exceeds {high} {params[high]!r}")
        try:
            self._transform()  # audiomentations' own limits (e.g. a tempo rate of at most 10)
        except (ValueError, AssertionError) as exc:
            raise AdanError(f"{where}: {one_line(exc)}") from None
        return self

    def _transform(self):
        raise NotImplementedError

    def perturb(self, signal: np.ndarray, sample_rate: int, file: str, copy: int, seed: int) -> np.ndarray:
        """Copy ``copy`` of ``signal`` ((samples,) float32 mono in [-1, 1], ``sample_rate`` Hz) from
        ``file`` (the manifest's string) under run seed ``seed``: (samples',) float32."""
        key = np.random.default_rng([int(seed), zlib.crc32(str(file).encode()), int(copy)])
        draw = int(key.integers(0, 2**32))
        transform = self._transform()
        # audiomentations draws from the process-wide generators: hold them while seeded, so two
        # perturbations in threads of one process cannot interleave draws, and give the caller
        # back its own state.
        with _GLOBAL_RNG:
            saved = random.getstate(), np.random.get_state()
            try:
                random.seed(draw)
                np.random.seed(draw)
                out = transform(samples=np.ascontiguousarray(signal, dtype=np.float32), sample_rate=int(sample_rate))
            finally:
                random.setstate(saved[0])
                np.random.set_state(saved[1])
        return np.asarray(out, dtype=np.float32).reshape(-1)


_GLOBAL_RNG = threading.Lock()


class SpeedPerturber(AudioPerturber):
    """Tempo change: time stretch by a rate in ``[rate_min, rate_max]`` (> 1 faster), pitch kept."""

    method = "audio_speed"
    _ranges = (("rate_min", "rate_max"),)
    _positive = ("rate_min", "rate_max")

    def __init__(self, rate_min: float = 0.9, rate_max: float = 1.1, copies: int = 1):
        self.rate_min = rate_min
        self.rate_max = rate_max
        self.copies = copies

    def _transform(self):
        from audiomentations import TimeStretch

        return TimeStretch(min_rate=self.rate_min, max_rate=self.rate_max, leave_length_unchanged=False, p=1.0)


class NoisePerturber(AudioPerturber):
    """Additive Gaussian noise at an SNR (dB) drawn in ``[snr_db_min, snr_db_max]``."""

    method = "audio_noise"
    _ranges = (("snr_db_min", "snr_db_max"),)

    def __init__(self, snr_db_min: float = 15.0, snr_db_max: float = 30.0, copies: int = 1):
        self.snr_db_min = snr_db_min
        self.snr_db_max = snr_db_max
        self.copies = copies

    def _transform(self):
        from audiomentations import AddGaussianSNR

        return AddGaussianSNR(min_snr_db=self.snr_db_min, max_snr_db=self.snr_db_max, p=1.0)


class MixPerturber(AudioPerturber):
    """Tempo change, pitch shift, Gaussian noise and gain, in this order, each with its probability."""

    method = "audio_mix"
    _ranges = (("rate_min", "rate_max"), ("semitones_min", "semitones_max"),
               ("snr_db_min", "snr_db_max"), ("gain_db_min", "gain_db_max"))
    _positive = ("rate_min", "rate_max")
    _probabilities = ("p_speed", "p_pitch", "p_noise", "p_gain")

    def __init__(self, rate_min: float = 0.9, rate_max: float = 1.1, p_speed: float = 0.5,
                 semitones_min: float = -2.0, semitones_max: float = 2.0, p_pitch: float = 0.5,
                 snr_db_min: float = 15.0, snr_db_max: float = 30.0, p_noise: float = 0.5,
                 gain_db_min: float = -6.0, gain_db_max: float = 6.0, p_gain: float = 0.5,
                 copies: int = 1):
        self.rate_min = rate_min
        self.rate_max = rate_max
        self.p_speed = p_speed
        self.semitones_min = semitones_min
        self.semitones_max = semitones_max
        self.p_pitch = p_pitch
        self.snr_db_min = snr_db_min
        self.snr_db_max = snr_db_max
        self.p_noise = p_noise
        self.gain_db_min = gain_db_min
        self.gain_db_max = gain_db_max
        self.p_gain = p_gain
        self.copies = copies

    def _transform(self):
        from audiomentations import (
            AddGaussianSNR,
            Compose,
            Gain,
            PitchShift,
            TimeStretch,
        )

        return Compose([
            TimeStretch(min_rate=self.rate_min, max_rate=self.rate_max, leave_length_unchanged=False,
                        p=self.p_speed),
            PitchShift(min_semitones=self.semitones_min, max_semitones=self.semitones_max, p=self.p_pitch),
            AddGaussianSNR(min_snr_db=self.snr_db_min, max_snr_db=self.snr_db_max, p=self.p_noise),
            Gain(min_gain_db=self.gain_db_min, max_gain_db=self.gain_db_max, p=self.p_gain),
        ])


#: Method name (params.yaml) → perturber class.
AUDIO_METHODS: dict[str, type[AudioPerturber]] = {
    cls.method: cls for cls in (SpeedPerturber, NoisePerturber, MixPerturber)
}


def copies_for(method: str, params: Optional[dict], ratio: Optional[float]) -> int:
    """Perturbed copies per training file: ``augment.ratio`` when it is a whole number, else the block's.

    ``ratio`` None: ``params["copies"]`` (default 1). A whole ``ratio`` (1, 2.0, ...) is the copy count,
    so every method adds the same volume; the block may repeat it, but a different ``copies`` there
    is an AdanError (which one wins would be a guess). A fractional ``ratio`` (e.g. 1.5) is an
    AdanError too: audio methods add whole copies of each file; set ``augment.ratio`` to a whole
    number, or to null and give ``copies``.
    """
    given = dict(params or {}).get("copies")
    if ratio is None:
        return int(given) if given is not None else 1
    if isinstance(ratio, bool) or float(ratio) != math.floor(float(ratio)) or float(ratio) < 1:
        raise AdanError(f"augment.ratio {ratio!r} is not a whole number ≥ 1, which {method} needs (whole "
                        f"perturbed copies of each file); set it to 1, 2, ... or null and give "
                        f"augment.{method}.copies")
    if given is not None and given != int(ratio):
        raise AdanError(f"augment.{method}.copies {given!r} differs from augment.ratio {ratio!r}; "
                        f"drop one (augment.ratio null lets copies decide)")
    return int(ratio)


# ----------------------------------------------------------------------------------- workers


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
                   items: Sequence[tuple[int, str, str, int]]):
    """Perturb and describe ``items`` of (key, manifest file, path, copy); the task every backend runs.

    Returns (done keys, features (len(done), D) float32, first failure as (file, copy, reason,
    perturbed?) or None). A failure stops the chunk: the stage stops at it anyway.
    """
    smile = smile_features.smile_for(feature_set)
    keys, values = [], []
    for key, file, path, copy in items:
        try:
            signal, sr = smile_features.read_mono(path, sample_rate)
        except smile_features.BadAudio as exc:
            return keys, _stack(values, smile), (file, copy, str(exc), False)
        try:
            values.append(_describe(smile, perturber.perturb(signal, sr, file, copy, seed), sr))
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
    ``manifest``'s files).
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
    items = [(k, files[r], paths[r], int(c)) for k, (r, c) in enumerate(pairs)]
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
