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
from numbers import Real
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_parameter_constraints

from adan_ser.core.errors import InputError, one_line

__all__ = ["GLOBAL_RNG_LOCK", "Number", "FINITE", "POSITIVE", "PROBABILITY", "COPIES", "AudioPerturber", "SpeedPerturber", "NoisePerturber", "MixPerturber", "copies_for"]

#: Held while a process-wide generator (Python's, NumPy's, Praat's) is seeded for one perturbation.
GLOBAL_RNG_LOCK = threading.Lock()


class Number(Interval):
    """Parameter constraint: a finite real number (not a bool) in an interval, worded as the
    project's messages word it (``a number in [0.7, 1.4]``, ``a number > 0``, ``a finite number``).

    ``integer``: whole values only (``2.0`` passes, as a count read from YAML may be a float);
    ``words`` replaces the wording. An :class:`~sklearn.utils._param_validation.Interval`, so
    scikit-learn's validation and whatever reads the bounds (``left``, ``right``, ``closed``) take it.
    """

    def __init__(self, left=None, right=None, *, closed="both", integer=False, words=None):
        super().__init__(Real, left, right, closed=closed)
        self.integer = integer
        self.words = words

    def is_satisfied_by(self, val):
        if isinstance(val, bool) or not isinstance(val, Real) or not math.isfinite(val):
            return False
        return (not self.integer or float(val).is_integer()) and val in self

    def __str__(self):
        if self.words is not None:
            return self.words
        if self.left is None and self.right is None:
            return "a finite number"
        if self.right is None:
            return f"a number {'≥' if self.closed in ('left', 'both') else '>'} {self.left:g}"
        return f"a number in [{self.left:g}, {self.right:g}]"


#: The constraints most parameters of a perturber take.
FINITE = Number()
POSITIVE = Number(0, None, closed="neither")
PROBABILITY = Number(0, 1, words="a probability in [0, 1]")
COPIES = Number(1, None, closed="left", integer=True, words="an integer ≥ 1")


class AudioPerturber(BaseEstimator):
    """Base: a seeded waveform perturbation; subclasses give :meth:`_transform` and their parameters.

    scikit-learn conventions: the constructor stores its parameters as given, each constrained by
    ``_parameter_constraints`` (scikit-learn's); :meth:`check` validates them and the pairs of
    ``_ranges`` (low ≤ high). A bad value is an :class:`~adan_ser.core.errors.InputError` (a
    ``ValueError``) naming ``augment.<method>.<key>``. Nothing is fitted: :meth:`perturb` is a
    function of (signal, file, copy, run seed) and the parameters.

    Parameters
    ----------
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Attributes
    ----------
    method : str
        The method's name in ``params.yaml``.
    speaker_level : bool
        True: one draw per (run seed, source speaker, copy), shared by all that speaker's files.

    Examples
    --------
    See :class:`NoisePerturber`.
    """

    method = ""
    _parameter_constraints: dict = {"copies": [COPIES]}
    #: (low key, high key) pairs that must satisfy low ≤ high
    _ranges: tuple[tuple[str, str], ...] = ()
    #: True: one draw per (run seed, source speaker, copy), shared by all that speaker's files
    speaker_level = False

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, in its signature's order."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def check(self) -> "AudioPerturber":
        """``self`` once every parameter meets its constraint, every range is ordered and
        audiomentations accepts the values; InputError naming the key otherwise."""
        where = f"augment.{self.method}"
        params = self.get_params()
        for name, value in params.items():
            constraints = self._parameter_constraints[name]
            try:
                validate_parameter_constraints({name: constraints}, {name: value}, caller_name=type(self).__name__)
            except InvalidParameterError:
                reason = FINITE if not FINITE.is_satisfied_by(value) else " or ".join(map(str, constraints))
                raise InputError(f"{where}.{name}: {value!r} is not {reason}") from None
        for low, high in self._ranges:
            if params[low] > params[high]:
                raise InputError(f"{where}: {low} {params[low]!r} exceeds {high} {params[high]!r}")
        try:
            self._transform()  # audiomentations' own limits (e.g. a tempo rate of at most 10)
        except (ValueError, AssertionError) as exc:
            raise InputError(f"{where}: {one_line(exc)}") from None
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
    """Tempo change: time stretch by a rate in ``[rate_min, rate_max]`` (> 1 faster), pitch kept.

    Parameters
    ----------
    rate_min, rate_max : float
        Range of the rate, drawn uniformly (defaults 0.9 and 1.1; > 0, at most 10).
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    >>> y = SpeedPerturber(rate_min=2.0, rate_max=2.0).check().perturb(x, 16000, "a.wav", copy=0, seed=0)
    >>> y.dtype, len(y) < len(x)
    (dtype('float32'), True)
    """

    method = "audio_speed"
    _parameter_constraints: dict = {**AudioPerturber._parameter_constraints,
                                    "rate_min": [POSITIVE], "rate_max": [POSITIVE]}
    _ranges = (("rate_min", "rate_max"),)

    def __init__(self, rate_min: float = 0.9, rate_max: float = 1.1, copies: int = 1):
        self.rate_min = rate_min
        self.rate_max = rate_max
        self.copies = copies

    def _transform(self):
        from audiomentations import TimeStretch

        return TimeStretch(min_rate=self.rate_min, max_rate=self.rate_max, leave_length_unchanged=False, p=1.0)


class NoisePerturber(AudioPerturber):
    """Additive Gaussian noise at an SNR (dB) drawn in ``[snr_db_min, snr_db_max]``.

    Parameters
    ----------
    snr_db_min, snr_db_max : float
        Range of the signal-to-noise ratio in dB, against the file's own RMS (defaults 15 and 30).
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    >>> p = NoisePerturber(snr_db_min=10.0, snr_db_max=10.0).check()
    >>> a = p.perturb(x, 16000, "a.wav", copy=0, seed=0)
    >>> a.shape, np.array_equal(a, p.perturb(x, 16000, "a.wav", copy=0, seed=0))
    ((8000,), True)
    """

    method = "audio_noise"
    _parameter_constraints: dict = {**AudioPerturber._parameter_constraints,
                                    "snr_db_min": [FINITE], "snr_db_max": [FINITE]}
    _ranges = (("snr_db_min", "snr_db_max"),)

    def __init__(self, snr_db_min: float = 15.0, snr_db_max: float = 30.0, copies: int = 1):
        self.snr_db_min = snr_db_min
        self.snr_db_max = snr_db_max
        self.copies = copies

    def _transform(self):
        from audiomentations import AddGaussianSNR

        return AddGaussianSNR(min_snr_db=self.snr_db_min, max_snr_db=self.snr_db_max, p=1.0)


class MixPerturber(AudioPerturber):
    """Tempo change, pitch shift, Gaussian noise and gain, in this order, each with its probability.

    Parameters
    ----------
    rate_min, rate_max : float
        Range of the tempo rate (defaults 0.9 and 1.1; > 0).
    p_speed : float, default=0.5
        Probability of the tempo change.
    semitones_min, semitones_max : float
        Range of the pitch shift in semitones (defaults −2 and 2).
    p_pitch : float, default=0.5
        Probability of the pitch shift.
    snr_db_min, snr_db_max : float
        Range of the noise's SNR in dB (defaults 15 and 30).
    p_noise : float, default=0.5
        Probability of the noise.
    gain_db_min, gain_db_max : float
        Range of the gain in dB (defaults −6 and 6).
    p_gain : float, default=0.5
        Probability of the gain.
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    >>> p = MixPerturber(p_speed=0.0, p_pitch=0.0, p_noise=1.0, p_gain=1.0).check()
    >>> p.perturb(x, 16000, "a.wav", copy=1, seed=0).shape
    (8000,)
    """

    method = "audio_mix"
    _parameter_constraints: dict = {
        **AudioPerturber._parameter_constraints,
        "rate_min": [POSITIVE], "rate_max": [POSITIVE], "p_speed": [PROBABILITY],
        "semitones_min": [FINITE], "semitones_max": [FINITE], "p_pitch": [PROBABILITY],
        "snr_db_min": [FINITE], "snr_db_max": [FINITE], "p_noise": [PROBABILITY],
        "gain_db_min": [FINITE], "gain_db_max": [FINITE], "p_gain": [PROBABILITY],
    }
    _ranges = (("rate_min", "rate_max"), ("semitones_min", "semitones_max"),
               ("snr_db_min", "snr_db_max"), ("gain_db_min", "gain_db_max"))

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
    is an InputError (which one wins would be a guess). A fractional ``ratio`` (e.g. 1.5) is an
    InputError too: audio methods add whole copies of each file; set ``augment.ratio`` to a whole
    number, or to null and give ``copies``.
    """
    given = dict(params or {}).get("copies")
    if ratio is None:
        return int(given) if given is not None else 1
    if isinstance(ratio, bool) or float(ratio) != math.floor(float(ratio)) or float(ratio) < 1:
        raise InputError(f"augment.ratio {ratio!r} is not a whole number ≥ 1, which {method} needs (whole "
                         f"perturbed copies of each file); set it to 1, 2, ... or null and give "
                         f"augment.{method}.copies")
    if given is not None and given != int(ratio):
        raise InputError(f"augment.{method}.copies {given!r} differs from augment.ratio {ratio!r}; "
                         f"drop one (augment.ratio null lets copies decide)")
    return int(ratio)
