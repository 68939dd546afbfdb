"""Synthetic speakers in the audio domain: new voices rather than perturbed files.

One draw of voice parameters per (run seed, source speaker, copy index), shared by every file of
that speaker in that copy, so each copy of a speaker is one new, consistent voice
(:class:`VoicePerturber`):

* ``audio_voice``: Praat's "Change gender" (through ``praat-parselmouth``): formants scaled by a
  ratio drawn in ``[formant_ratio_min, formant_ratio_max]``, and each file's median F0 times a
  pitch factor drawn in ``[pitch_factor_min, pitch_factor_max]``;
* ``audio_vtlp``: vocal tract length perturbation with the WORLD vocoder (``pyworld``): the
  spectral envelope's frequency axis warped piecewise-linearly by α drawn in
  ``[alpha_min, alpha_max]`` (Jaitly & Hinton 2013), F0 times a pitch factor.

Ratios are drawn log-uniformly (a ratio r and 1/r are equally likely). Their rows carry a synthetic
speaker id (:func:`synthetic_speaker_id`), never a real speaker's.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import math
import sys
import types
import zlib

import numpy as np

from adan_ser.augment.audio.perturbers import GLOBAL_RNG_LOCK, AudioPerturber, Number
from adan_ser.core.errors import one_line
from adan_ser.core.errors import AdanError, InputError
from adan_ser.features import opensmile as smile_features

__all__ = ["FORMANT_RATIO_BOUNDS", "PITCH_FACTOR_BOUNDS", "VTLP_ALPHA_BOUNDS", "PITCH_FLOOR_BOUNDS",
           "PITCH_CEILING_BOUNDS", "VTLP_F_HI", "synthetic_speaker_id", "synthetic_speaker_ids",
           "VoicePerturber", "ChangeGenderPerturber", "VTLPPerturber", "warp_envelope"]

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

    Parameters
    ----------
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Attributes
    ----------
    method : str
        The method's name in ``params.yaml``.
    speaker_level : bool
        True: the stage passes each file's speaker.

    Examples
    --------
    See :class:`VTLPPerturber`.
    """

    speaker_level = True

    def _transform(self):
        return None  # no audiomentations transform: the constraints are all there is to check

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
            raise InputError(f"{file}: {self.method} draws one voice per source speaker; the speaker is needed")
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

    Parameters
    ----------
    formant_ratio_min, formant_ratio_max : float
        Range of the formant ratio, drawn log-uniformly (defaults 0.85 and 1.18; within
        ``FORMANT_RATIO_BOUNDS``).
    pitch_factor_min, pitch_factor_max : float
        Range of the pitch factor, drawn log-uniformly (defaults 0.8 and 1.25; within
        ``PITCH_FACTOR_BOUNDS``).
    pitch_floor, pitch_ceiling : float
        Praat's pitch range in Hz (defaults 75 and 600).
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    >>> p = ChangeGenderPerturber().check()
    >>> sorted(p.draw("spk03", copy=0, seed=0))
    ['formant_ratio', 'pitch_factor']
    >>> p.perturb_file(x, 16000, "a.wav", "spk03", 0, 0).shape  # doctest: +SKIP
    (8000,)
    """

    method = "audio_voice"
    _ranges = (("formant_ratio_min", "formant_ratio_max"), ("pitch_factor_min", "pitch_factor_max"),
               ("pitch_floor", "pitch_ceiling"))
    _parameter_constraints: dict = {
        **AudioPerturber._parameter_constraints,
        "formant_ratio_min": [Number(*FORMANT_RATIO_BOUNDS)], "formant_ratio_max": [Number(*FORMANT_RATIO_BOUNDS)],
        "pitch_factor_min": [Number(*PITCH_FACTOR_BOUNDS)], "pitch_factor_max": [Number(*PITCH_FACTOR_BOUNDS)],
        "pitch_floor": [Number(*PITCH_FLOOR_BOUNDS)], "pitch_ceiling": [Number(*PITCH_CEILING_BOUNDS)],
    }

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
        with GLOBAL_RNG_LOCK:
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

    Parameters
    ----------
    alpha_min, alpha_max : float
        Range of α, drawn log-uniformly (defaults 0.9 and 1.1; within ``VTLP_ALPHA_BOUNDS``).
    pitch_factor_min, pitch_factor_max : float
        Range of the pitch factor, drawn log-uniformly (defaults 0.8 and 1.25).
    copies : int, default=1
        Perturbed copies of each training file (copy indices ``0 .. copies-1``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> x = (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32)
    >>> p = VTLPPerturber(copies=2).check()
    >>> p.draw("spk03", copy=1, seed=0) == p.draw("spk03", copy=1, seed=0)
    True
    >>> p.perturb_file(x, 16000, "a.wav", "spk03", 1, 0).shape  # doctest: +SKIP
    (8000,)
    """

    method = "audio_vtlp"
    _ranges = (("alpha_min", "alpha_max"), ("pitch_factor_min", "pitch_factor_max"))
    _parameter_constraints: dict = {
        **AudioPerturber._parameter_constraints,
        "alpha_min": [Number(*VTLP_ALPHA_BOUNDS)], "alpha_max": [Number(*VTLP_ALPHA_BOUNDS)],
        "pitch_factor_min": [Number(*PITCH_FACTOR_BOUNDS)], "pitch_factor_max": [Number(*PITCH_FACTOR_BOUNDS)],
    }

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
