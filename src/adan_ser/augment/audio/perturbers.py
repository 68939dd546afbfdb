"""Waveform perturbations: the seeded base every audio method shares, and tempo, noise and a mix.

Three methods, peers of the feature-space augmenters, built on ``audiomentations``:

* ``audio_speed``: tempo change (time stretch, pitch kept; the duration changes by 1/rate), the
  rate drawn uniformly in ``[rate_min, rate_max]``;
* ``audio_noise``: additive white Gaussian noise at an SNR (dB, against the file's own RMS) drawn
  uniformly in ``[snr_db_min, snr_db_max]``;
* ``audio_mix``: a fixed-order chain of tempo change, pitch shift (semitones), noise and gain (dB),
  each applied with its own probability (``p_speed``, ``p_pitch``, ``p_noise``, ``p_gain``).

The synthetic-speaker methods are in :mod:`adan_ser.augment.audio.voices`, the run over a corpus
(perturb, then describe with openSMILE) in :mod:`adan_ser.augment.audio.describe`.

A perturbed copy is a function of (source file, method parameters, run seed, copy index) alone:
before each file's transform, Python's ``random`` and NumPy's global generator (which
audiomentations draws from) are seeded from ``np.random.default_rng([seed, crc32(file), copy])``,
where ``file`` is the manifest's string. So the copy does not depend on the fold, the worker, the
order of work or the other files.
"""

from __future__ import annotations

import math
import random
import threading
import zlib
from typing import Optional

import numpy as np

from adan_ser.contracts.manifest import one_line
from adan_ser.core.errors import AdanError

__all__ = ["GLOBAL_RNG_LOCK", "AudioPerturber", "SpeedPerturber", "NoisePerturber", "MixPerturber", "copies_for"]

#: Held while a process-wide generator (Python's, NumPy's, Praat's) is seeded for one perturbation.
GLOBAL_RNG_LOCK = threading.Lock()


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
    #: key → (lowest, highest) allowed value, both included
    _bounds: dict[str, tuple[float, float]] = {}
    #: True: one draw per (run seed, source speaker, copy), shared by all that speaker's files
    speaker_level = False

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
        for name, (lowest, highest) in self._bounds.items():
            if not lowest <= params[name] <= highest:
                raise AdanError(f"{where}.{name}: {params[name]!r} is not a number in [{lowest:g}, {highest:g}]")
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

    def perturb_file(self, signal: np.ndarray, sample_rate: int, file: str, speaker: str, copy: int,
                     seed: int) -> np.ndarray:
        """What :func:`perturb_features` calls per (file, copy): :meth:`perturb`; ``speaker`` (the
        file's manifest speaker) matters only to speaker-level perturbers."""
        return self.perturb(signal, sample_rate, file, copy, seed)

    def perturb(self, signal: np.ndarray, sample_rate: int, file: str, copy: int, seed: int) -> np.ndarray:
        """Copy ``copy`` of ``signal`` ((samples,) float32 mono in [-1, 1], ``sample_rate`` Hz) from
        ``file`` (the manifest's string) under run seed ``seed``: (samples',) float32."""
        key = np.random.default_rng([int(seed), zlib.crc32(str(file).encode()), int(copy)])
        draw = int(key.integers(0, 2**32))
        transform = self._transform()
        # audiomentations draws from the process-wide generators: hold them while seeded, so two
        # perturbations in threads of one process cannot interleave draws, and give the caller
        # back its own state.
        with GLOBAL_RNG_LOCK:
            saved = random.getstate(), np.random.get_state()
            try:
                random.seed(draw)
                np.random.seed(draw)
                out = transform(samples=np.ascontiguousarray(signal, dtype=np.float32), sample_rate=int(sample_rate))
            finally:
                random.setstate(saved[0])
                np.random.set_state(saved[1])
        return np.asarray(out, dtype=np.float32).reshape(-1)


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
