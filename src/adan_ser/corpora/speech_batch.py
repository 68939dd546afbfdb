"""The large-corpus mode of the demo corpus: shorter, simpler utterances synthesised a batch at a time.

Utterances are 0.5-1.0 s, one vowel each, with syllables as a smooth on/off pattern, and every
filter is applied in the frequency domain, so 10^4-10^5 files take minutes, not hours.  The
speaker and emotion prototypes are those of :mod:`.speech`.
"""

from __future__ import annotations

import numpy as np

from adan_ser.corpora.speech import (
    BANDWIDTHS,
    EMOTIONS,
    GLOTTAL_CORNER_HZ,
    HARMONIC_LIMIT,
    VOWELS,
    Speaker,
    bandlimited_pulses,
)

SHORT_MIN_S = 0.5
SHORT_MAX_S = 1.0
# Zero padding before the FFT filtering, so the filters' decaying tails do not wrap around.
_PAD = 2048


def _resonator_response(freqs: np.ndarray, bandwidths: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unit-DC-gain cascade of two-pole resonators on the unit circle.

    ``freqs`` (B, K) and ``bandwidths`` (K,) in Hz divided by the sample rate (cycles/sample),
    ``w`` (F,) radians/sample; returns the complex response (B, F).
    """
    r = np.exp(-np.pi * bandwidths)[None, :, None]
    a1 = -2.0 * r * np.cos(2.0 * np.pi * freqs[:, :, None])
    a2 = r * r
    z1 = np.exp(-1j * w)[None, None, :]
    return np.prod((1.0 + a1 + a2) / (1.0 + a1 * z1 + a2 * z1 * z1), axis=1)


def synthesize_batch(
    speakers: list[Speaker],
    emotions: list[str],
    rng: np.random.Generator,
    sample_rate: int = 16000,
) -> list[np.ndarray]:
    """Synthesize ``len(speakers)`` short utterances at once (``emotions[i]`` by ``speakers[i]``).

    Returns float64 mono signals, each (n_i,) with n_i / sample_rate in [0.5, 1.0] s,
    peak-normalised to -24..-1 dBFS. Same emotion cues as :func:`.speech.synthesize_utterance`
    (pitch level and range, loudness, rate, tilt, breathiness, jitter, jaw opening).
    """
    sr = sample_rate
    b = len(speakers)
    emo = [EMOTIONS[e] for e in emotions]

    def col(values) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[:, None]  # (B, 1), broadcasts over time

    lengths = np.round(rng.uniform(SHORT_MIN_S, SHORT_MAX_S, b) * sr).astype(int)
    n = int(SHORT_MAX_S * sr)
    t = np.arange(n)[None, :] / sr
    duration = col(lengths / sr)

    base_st = col([e.pitch_st for e in emo]) + rng.normal(0.0, 1.5, (b, 1))
    range_st = col([e.range_st for e in emo]) * np.exp(rng.normal(0.0, 0.3, (b, 1)))
    level_db = col([e.level_db + s.level_db for e, s in zip(emo, speakers)]) + rng.normal(0.0, 2.0, (b, 1))
    rate = col([e.rate * s.rate_scale for e, s in zip(emo, speakers)]) * np.exp(rng.normal(0.0, 0.12, (b, 1)))
    tilt_hz = col([e.tilt_hz * s.tilt_scale for e, s in zip(emo, speakers)]) * np.exp(rng.normal(0.0, 0.25, (b, 1)))
    breath = col([e.breath * s.breath_scale for e, s in zip(emo, speakers)]) * np.exp(rng.normal(0.0, 0.45, (b, 1)))
    jitter = col([e.jitter for e in emo]) * np.exp(rng.normal(0.0, 0.35, (b, 1)))
    f1_scale = col([e.f1_scale for e in emo]) * np.exp(rng.normal(0.0, 0.04, (b, 1)))
    phase0 = rng.uniform(0.0, 2.0 * np.pi, (b, 1))

    # Syllables: a raised sine at the syllable rate, faded in and out at the utterance edges.
    syllable = np.clip(np.sin(2.0 * np.pi * rate * t + phase0), 0.0, None) ** 0.6
    edges = np.clip(np.minimum(t - 0.03, duration - 0.05 - t) / 0.03, 0.0, 1.0)
    env = syllable * edges

    # Intonation: one accent per two syllables on a declining baseline, plus held jitter.
    semitones = base_st + range_st * 0.5 * np.sin(np.pi * rate * t + phase0) - 2.5 * t / duration
    f0 = col([s.f0 for s in speakers]) * 2.0 ** (semitones / 12.0)
    hold = max(1, int(sr / 150.0))
    held = np.repeat(rng.standard_normal((b, n // hold + 1)), hold, axis=1)[:, :n]
    f0 = np.clip(f0 * (1.0 + jitter * held), 50.0, 0.2 * sr)
    phase = 2.0 * np.pi * np.cumsum(f0, axis=1) / sr
    harmonic = bandlimited_pulses(phase, HARMONIC_LIMIT * sr / f0)
    aspiration = breath * 3.0 * rng.standard_normal((b, n)) * (0.6 + 0.4 * np.cos(phase))
    source = env * (harmonic + aspiration)

    # Filters in the frequency domain: glottal low-pass, emotion tilt, one vowel's formants,
    # lip radiation (first difference).
    spectrum = np.fft.rfft(source, n + _PAD, axis=1)
    freqs_hz = np.fft.rfftfreq(n + _PAD, 1.0 / sr)
    w = 2.0 * np.pi * freqs_hz / sr
    z1 = np.exp(-1j * w)[None, :]

    def one_pole(corner_hz: np.ndarray) -> np.ndarray:
        p = np.exp(-2.0 * np.pi * corner_hz / sr)
        return (1.0 - p) / (1.0 - p * z1)

    scale = col([s.formant_scale for s in speakers])
    formants = VOWELS[rng.integers(0, len(VOWELS), b)] * scale
    formants = formants * np.exp(rng.normal(0.0, 0.05, formants.shape))
    formants[:, :1] *= f1_scale
    formants = np.minimum(formants, 0.45 * sr)
    response = (
        one_pole(np.full((b, 1), GLOTTAL_CORNER_HZ))
        * one_pole(tilt_hz)
        * _resonator_response(formants / sr, BANDWIDTHS * 1.5 / sr, w)
        * (1.0 - z1)
    )
    out = np.fft.irfft(spectrum * response, n + _PAD, axis=1)[:, :n]
    out /= np.abs(out).max(axis=1, keepdims=True) + 1e-12
    out += 10 ** (-55.0 / 20.0) * rng.standard_normal((b, n))  # room-noise floor: never silent
    level = 10 ** (np.clip(level_db, -24.0, -1.0) / 20.0)
    signals = []
    for i, length in enumerate(lengths):  # per utterance only to cut and scale its own length
        x = out[i, :length]
        signals.append(x * (level[i, 0] / np.abs(x).max()))
    return signals

