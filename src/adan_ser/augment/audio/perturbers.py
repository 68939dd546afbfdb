"""Audio-domain augmentation: perturb the waveform, then describe it with the extract stage's openSMILE set.

Three methods, peers of the feature-space augmenters (``augment.methods``), built on
``audiomentations``:

* ``audio_speed``: tempo change (time stretch, pitch kept; the duration changes by 1/rate), the
  rate drawn uniformly in ``[rate_min, rate_max]``;
* ``audio_noise``: additive white Gaussian noise at an SNR (dB, against the file's own RMS) drawn
  uniformly in ``[snr_db_min, snr_db_max]``;
* ``audio_mix``: a fixed-order chain of tempo change, pitch shift (semitones), noise and gain (dB),
  each applied with its own probability (``p_speed``, ``p_pitch``, ``p_noise``, ``p_gain``).

Two more methods make synthetic *speakers* rather than perturbed files (:class:`VoicePerturber`):
one draw of voice parameters per (run seed, source speaker, copy index), shared by every file of
that speaker in that copy, so each copy of a speaker is one new, consistent voice:

* ``audio_voice``: Praat's "Change gender" (through ``praat-parselmouth``): formants scaled by a
  ratio drawn in ``[formant_ratio_min, formant_ratio_max]``, and each file's median F0 times a
  pitch factor drawn in ``[pitch_factor_min, pitch_factor_max]``;
* ``audio_vtlp``: vocal tract length perturbation with the WORLD vocoder (``pyworld``): the
  spectral envelope's frequency axis warped piecewise-linearly by α drawn in
  ``[alpha_min, alpha_max]`` (Jaitly & Hinton 2013), F0 times a pitch factor.

Ratios are drawn log-uniformly (a ratio r and 1/r are equally likely). Their rows carry a synthetic
speaker id (:func:`synthetic_speaker_id`), never a real speaker's.

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

import importlib
import importlib.metadata
import math
import random
import sys
import threading
import time
import types
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from adan_ser.core.errors import AdanError, one_line
from adan_ser.core.scheduler import TaskRunner
from adan_ser.features import opensmile as smile_features

__all__ = [
    "AUDIO_METHODS",
    "AudioPerturber",
    "SpeedPerturber",
    "NoisePerturber",
    "MixPerturber",
    "VoicePerturber",
    "ChangeGenderPerturber",
    "VTLPPerturber",
    "synthetic_speaker_id",
    "synthetic_speaker_ids",
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


# ----------------------------------------------------------------------------- synthetic voices

#: Allowed ranges of the voice parameters (inclusive); params outside them are refused, naming the
#: key. Formant ratio: adult female formants lie ~15-20 % above male ones (Peterson & Barney 1952),
#: so [0.7, 1.4] reaches past either sex without turning adults into children or giants. Pitch
#: factor: one octave either way (adult F0 spans ~80-250 Hz mean per speaker). VTLP α: ±20 %
#: (Jaitly & Hinton 2013 use ±10 %). Defaults (params.yaml) are narrower; docs/methods.md says why.
FORMANT_RATIO_BOUNDS = (0.7, 1.4)
PITCH_FACTOR_BOUNDS = (0.5, 2.0)
VTLP_ALPHA_BOUNDS = (0.8, 1.2)
PITCH_FLOOR_BOUNDS = (30.0, 300.0)
PITCH_CEILING_BOUNDS = (200.0, 1200.0)
#: Hz: VTLP's warp is linear below this frequency (× min(α, 1)), then maps the rest onto Nyquist.
VTLP_F_HI = 4800.0


def synthetic_speaker_id(speaker, seed: int, copy: int) -> str:
    """The id of the synthetic speaker made from real ``speaker`` by copy ``copy`` under run seed ``seed``.

    ``"<speaker>~s<seed>c<copy>"``: one id per draw (the suffix is read back unambiguously from the
    right, so distinct (speaker, seed, copy) give distinct ids); the augment stage refuses a corpus
    where one equals a real speaker's id.
    """
    return f"{speaker}~s{int(seed)}c{int(copy)}"


def synthetic_speaker_ids(speakers: np.ndarray, seed: int, copies: np.ndarray) -> np.ndarray:
    """(n,) str: :func:`synthetic_speaker_id` of each (``speakers`` (n,), ``copies`` (n,)) pair, vectorised."""
    stem = np.char.add(np.asarray(speakers).astype(str), f"~s{int(seed)}c")
    return np.char.add(stem, np.asarray(copies, dtype=np.int64).astype(str)).astype(object).astype(str)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw with log(value) uniform in [log low, log high]: a ratio r and 1/r equally likely."""
    return float(np.exp(rng.uniform(math.log(low), math.log(high))))


def _import(module: str, package: str, method: str):
    """``module`` imported, or a one-line AdanError naming the pip package ``method`` needs."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == "pkg_resources" and module == "pyworld":
            return _import_pyworld()
        if exc.name != module:
            raise
        raise AdanError(f"{method} needs the package {package}: pip install {package} "
                        f"(or pip install 'adan-ser[voices]')") from None


def _import_pyworld():
    """pyworld ≤ 0.3.5 reads its own version through ``pkg_resources``, which setuptools ≥ 81 no
    longer ships: import it with a stand-in that answers from importlib.metadata, then drop it."""
    stub = types.ModuleType("pkg_resources")
    stub.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))
    sys.modules["pkg_resources"] = stub
    try:
        return importlib.import_module("pyworld")
    finally:
        if sys.modules.get("pkg_resources") is stub:
            del sys.modules["pkg_resources"]


class VoicePerturber(AudioPerturber):
    """Base of the synthetic-speaker methods: one voice draw per (run seed, source speaker, copy).

    :meth:`draw` gives a dict of the voice parameters, :meth:`apply` transforms one signal with it.
    Every file of a speaker in one copy gets the same draw, so a copy is one new speaker, whose rows
    carry :func:`synthetic_speaker_id`. The only per-file randomness (Praat's PSOLA picks random
    stretches of unvoiced sound) is seeded from (run seed, file, copy), as for the other methods, so
    a copy is a function of (file, speaker, parameters, run seed, copy) alone.
    """

    speaker_level = True
    _positive: tuple[str, ...] = ()

    def _transform(self):
        return None  # no audiomentations transform; check() validates through _bounds

    def draw(self, speaker, copy: int, seed: int) -> dict:
        """Voice parameters of the synthetic speaker (``speaker``, ``copy``) under run seed ``seed``."""
        rng = np.random.default_rng([int(seed), zlib.crc32(str(speaker).encode()), int(copy)])
        return self._draw(rng)

    def _draw(self, rng: np.random.Generator) -> dict:
        raise NotImplementedError

    def apply(self, signal: np.ndarray, sample_rate: int, voice: dict, key: int = 0) -> np.ndarray:
        """(samples,) float32 in [-1, 1] at ``sample_rate`` Hz → (samples',) in the voice ``voice``;
        ``key``: seed of any per-file randomness."""
        raise NotImplementedError

    def perturb(self, signal, sample_rate, file, copy, seed, speaker=None):
        if speaker is None:
            raise AdanError(f"{file}: {self.method} draws one voice per source speaker; the speaker is needed")
        voice = self.draw(speaker, copy, seed)
        key = int(np.random.default_rng([int(seed), zlib.crc32(str(file).encode()), int(copy)]).integers(1, 2**31))
        try:
            out = self.apply(signal, sample_rate, voice, key)
        except AdanError:
            raise
        except Exception as exc:  # Praat's or WORLD's refusal of this signal: named with the file
            raise smile_features.BadAudio(f"{self.method} failed: {one_line(exc)}") from None
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def perturb_file(self, signal, sample_rate, file, speaker, copy, seed):
        return self.perturb(signal, sample_rate, file, copy, seed, speaker=speaker)


class ChangeGenderPerturber(VoicePerturber):
    """Praat's "Change gender": formants × ``formant_ratio``, each file's median F0 × ``pitch_factor``.

    Praat resamples to shift every formant by the ratio and restores the pitch contour by PSOLA; the
    new pitch median is the file's own median F0 (Praat pitch, ``pitch_floor`` .. ``pitch_ceiling``
    Hz) times the speaker's factor, so the pitch level differences between a speaker's emotions
    survive (a fixed target in Hz would flatten them). Pitch range factor 1, duration factor 1 (same
    length). A file without a voiced frame keeps its pitch (only the formants move).
    """

    method = "audio_voice"
    _ranges = (("formant_ratio_min", "formant_ratio_max"), ("pitch_factor_min", "pitch_factor_max"),
               ("pitch_floor", "pitch_ceiling"))
    _bounds = {"formant_ratio_min": FORMANT_RATIO_BOUNDS, "formant_ratio_max": FORMANT_RATIO_BOUNDS,
               "pitch_factor_min": PITCH_FACTOR_BOUNDS, "pitch_factor_max": PITCH_FACTOR_BOUNDS,
               "pitch_floor": PITCH_FLOOR_BOUNDS, "pitch_ceiling": PITCH_CEILING_BOUNDS}

    def __init__(self, formant_ratio_min: float = 0.85, formant_ratio_max: float = 1.18,
                 pitch_factor_min: float = 0.8, pitch_factor_max: float = 1.25,
                 pitch_floor: float = 75.0, pitch_ceiling: float = 600.0, copies: int = 1):
        self.formant_ratio_min = formant_ratio_min
        self.formant_ratio_max = formant_ratio_max
        self.pitch_factor_min = pitch_factor_min
        self.pitch_factor_max = pitch_factor_max
        self.pitch_floor = pitch_floor
        self.pitch_ceiling = pitch_ceiling
        self.copies = copies

    def _draw(self, rng):
        return {"formant_ratio": _log_uniform(rng, self.formant_ratio_min, self.formant_ratio_max),
                "pitch_factor": _log_uniform(rng, self.pitch_factor_min, self.pitch_factor_max)}

    def apply(self, signal, sample_rate, voice, key=0):
        parselmouth = _import("parselmouth", "praat-parselmouth", self.method)
        sound = parselmouth.Sound(np.asarray(signal, dtype=np.float64), sampling_frequency=float(sample_rate))
        f0 = sound.to_pitch(pitch_floor=self.pitch_floor, pitch_ceiling=self.pitch_ceiling).selected_array["frequency"]
        voiced = f0[f0 > 0]
        median = float(np.median(voiced)) * voice["pitch_factor"] if voiced.size else 0.0  # 0: keep
        # Praat's generator is process-wide: seed it under the lock the audiomentations methods hold
        # for theirs, and leave it unpredictable again for anyone else
        with _GLOBAL_RNG:
            parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({int(key)})")
            try:
                out = parselmouth.praat.call(sound, "Change gender", float(self.pitch_floor),
                                             float(self.pitch_ceiling), voice["formant_ratio"], median, 1.0, 1.0)
            finally:
                parselmouth.praat.run("random_initializeSafelyAndUnpredictably ()")
        return out.values[0]


class VTLPPerturber(VoicePerturber):
    """Vocal tract length perturbation with the WORLD vocoder: envelope warped by α, F0 × pitch factor.

    WORLD (DIO + StoneMask F0, CheapTrick envelope, D4C aperiodicity, 5 ms frames) splits the signal
    into source and filter; the envelope's frequency axis is warped piecewise-linearly (Jaitly &
    Hinton 2013): f → α f up to ``VTLP_F_HI`` · min(α, 1) / α, then linearly onto Nyquist, so
    formants move by α and nothing falls off the band. F0 is scaled by the pitch factor, the
    aperiodicity (a source property) is kept, and WORLD resynthesises (deterministic: WORLD reseeds
    its noise at every synthesis).
    """

    method = "audio_vtlp"
    _ranges = (("alpha_min", "alpha_max"), ("pitch_factor_min", "pitch_factor_max"))
    _bounds = {"alpha_min": VTLP_ALPHA_BOUNDS, "alpha_max": VTLP_ALPHA_BOUNDS,
               "pitch_factor_min": PITCH_FACTOR_BOUNDS, "pitch_factor_max": PITCH_FACTOR_BOUNDS}

    def __init__(self, alpha_min: float = 0.9, alpha_max: float = 1.1, pitch_factor_min: float = 0.8,
                 pitch_factor_max: float = 1.25, copies: int = 1):
        self.alpha_min = alpha_min
        self.alpha_max = alpha_max
        self.pitch_factor_min = pitch_factor_min
        self.pitch_factor_max = pitch_factor_max
        self.copies = copies

    def _draw(self, rng):
        return {"alpha": _log_uniform(rng, self.alpha_min, self.alpha_max),
                "pitch_factor": _log_uniform(rng, self.pitch_factor_min, self.pitch_factor_max)}

    def apply(self, signal, sample_rate, voice, key=0):
        pw = _import("pyworld", "pyworld", self.method)
        x = np.asarray(signal, dtype=np.float64)
        f0, sp, ap = pw.wav2world(x, int(sample_rate))
        sp = warp_envelope(sp, voice["alpha"], sample_rate)
        return pw.synthesize(f0 * voice["pitch_factor"], sp, ap, int(sample_rate))


def warp_envelope(sp: np.ndarray, alpha: float, sample_rate: int, f_hi: float = VTLP_F_HI) -> np.ndarray:
    """Spectral envelope ``sp`` (frames, bins) power over 0 .. Nyquist, with formants moved by ``alpha``.

    Output bin at frequency g takes the input at w⁻¹(g), w the piecewise-linear VTLP warp (see
    :class:`VTLPPerturber`); linear interpolation of log power between bins. Vectorised over frames.
    """
    nyquist = sample_rate / 2.0
    bins = sp.shape[1]
    g = np.linspace(0.0, nyquist, bins)
    knee = min(f_hi * min(alpha, 1.0) / alpha, nyquist * 0.99)  # the warp is f → αf below the knee
    source = np.interp(g, [0.0, alpha * knee, nyquist], [0.0, knee, nyquist])  # w⁻¹(g)
    pos = np.clip(source / nyquist * (bins - 1), 0, bins - 1)
    lo = np.minimum(np.floor(pos).astype(np.int64), bins - 2)
    frac = pos - lo
    log_sp = np.log(np.maximum(sp, 1e-300))
    warped = log_sp[:, lo] * (1.0 - frac) + log_sp[:, lo + 1] * frac
    return np.ascontiguousarray(np.exp(warped))


#: Method name (params.yaml) → perturber class.
AUDIO_METHODS: dict[str, type[AudioPerturber]] = {
    cls.method: cls for cls in (SpeedPerturber, NoisePerturber, MixPerturber, ChangeGenderPerturber,
                VTLPPerturber)
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
