"""Source-filter "speech" for the synthetic demo corpus: speaker and emotion prototypes, and the
synthesis of one utterance.

Each utterance is a harmonic glottal source whose f0 follows an intonation contour, cut into
syllable-like voiced stretches, shaped by three moving formant resonances, with aspiration noise.
Speakers differ in f0, vocal-tract length (formant scale) and loudness; emotions shift pitch level
and range, loudness, syllable rate and voice quality.  Per-utterance randomness is deliberately
large so classes overlap: a speaker-independent classifier on openSMILE functionals should be
good, not perfect.  :mod:`.speech_batch` synthesises the shorter utterances of the large-corpus
mode from the same prototypes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

MIN_DURATION_S = 1.0
MAX_DURATION_S = 2.0


@dataclass(frozen=True)
class Emotion:
    """The acoustic prototype of one emotion (units per field)."""

    pitch_st: float  # f0 shift from the speaker's base, semitones
    range_st: float  # size of the syllable pitch accents, semitones
    level_db: float  # peak level, dBFS before the speaker offset
    rate: float  # syllables per second
    tilt_hz: float  # source tilt corner: higher means flatter spectrum, "pressed" voice
    breath: float  # aspiration noise relative to the harmonic source
    jitter: float  # relative period-to-period f0 perturbation
    f1_scale: float  # jaw opening: wider (higher F1) when aroused


# Prototypes follow the usual acoustic-correlate findings (e.g. Juslin & Laukka 2003):
# high-arousal emotions are loud, high, fast and "pressed" (flat tilt); sadness is low,
# monotone, slow, quiet and breathy.
EMOTIONS = {
    "angry": Emotion(3.5, 2.5, -3.0, 5.5, 3000.0, 0.03, 0.022, 1.12),
    "happy": Emotion(5.0, 8.0, -6.0, 4.8, 1100.0, 0.05, 0.010, 1.04),
    "neutral": Emotion(0.0, 2.5, -9.0, 4.1, 750.0, 0.06, 0.008, 1.00),
    "sad": Emotion(-2.5, 1.2, -13.0, 3.2, 400.0, 0.15, 0.014, 0.95),
    # Extra emotions for callers who ask for more classes; placed among the four above.
    "fearful": Emotion(5.0, 4.0, -7.0, 5.5, 800.0, 0.10, 0.025, 1.00),
    "calm": Emotion(-1.0, 1.8, -10.0, 3.6, 550.0, 0.08, 0.008, 0.98),
    "surprised": Emotion(6.0, 8.0, -5.0, 4.5, 1300.0, 0.05, 0.012, 1.08),
    "disgust": Emotion(-1.0, 3.0, -8.0, 3.5, 900.0, 0.08, 0.016, 0.97),
    "bored": Emotion(-1.5, 1.0, -11.0, 3.4, 500.0, 0.09, 0.010, 0.96),
}

# Male vowel formants F1-F3 in Hz (Peterson & Barney averages); syllables draw one each.
VOWELS = np.array(
    [
        [730.0, 1090.0, 2440.0],  # a
        [530.0, 1840.0, 2480.0],  # e
        [270.0, 2290.0, 3010.0],  # i
        [570.0, 840.0, 2410.0],  # o
        [300.0, 870.0, 2240.0],  # u
    ]
)
BANDWIDTHS = np.array([70.0, 100.0, 150.0])

# Resonator coefficients are held constant over blocks this long (seconds): formants move
# slowly enough that 20 ms steps sound continuous, and it keeps the lfilter call count low.
_BLOCK_S = 0.020
# Harmonics stop below this fraction of the sample rate (anti-aliasing margin for the
# fractional top harmonic, which may overshoot the limit by a factor (K+1)/K).
HARMONIC_LIMIT = 0.40
# Corner of the fixed glottal-pulse low-pass; above it the source falls at -6 dB/octave
# until the emotion-dependent tilt corner, then at -12 dB/octave.
GLOTTAL_CORNER_HZ = 150.0


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: identity and voice offsets (units per field)."""

    name: str
    gender: str
    f0: float  # base f0, Hz
    formant_scale: float  # shorter vocal tract -> higher formants
    level_db: float  # loudness offset, dB
    rate_scale: float
    tilt_scale: float
    breath_scale: float


def make_speakers(n: int, seed: int) -> list[Speaker]:
    """``n`` speakers ``spk01``.. alternating f, m; speaker ``i`` is seeded by ``(seed, i)`` alone."""
    speakers = []
    for i in range(n):
        rng = np.random.default_rng([seed, 1, i])
        female = i % 2 == 0  # spk01 f, spk02 m, ...
        speakers.append(
            Speaker(
                name=f"spk{i + 1:02d}",
                gender="f" if female else "m",
                f0=(200.0 if female else 110.0) * float(np.exp(rng.normal(0.0, 0.10))),
                formant_scale=(1.17 if female else 1.0) * float(np.exp(rng.normal(0.0, 0.04))),
                level_db=float(rng.normal(0.0, 2.0)),
                rate_scale=float(np.exp(rng.normal(0.0, 0.10))),
                tilt_scale=float(np.exp(rng.normal(0.0, 0.15))),
                breath_scale=float(np.exp(rng.normal(0.0, 0.3))),
            )
        )
    return speakers


def _held_noise(rng: np.random.Generator, n: int, hold: int) -> np.ndarray:
    """Gaussian noise of length ``n`` held constant over ``hold`` samples (period-scale jitter)."""
    values = rng.standard_normal(n // hold + 1)
    return np.repeat(values, hold)[:n]


def bandlimited_pulses(phase: np.ndarray, n_harmonics: np.ndarray) -> np.ndarray:
    """sum_{k=1..K} cos(k*phase) + frac * cos((K+1)*phase), with K = floor(n_harmonics).

    ``phase`` (radians) and ``n_harmonics`` (real-valued, >= 1) have shape (n,); returns (n,).
    """
    whole = np.floor(n_harmonics)
    frac = n_harmonics - whole
    half = 0.5 * np.mod(phase, 2.0 * np.pi)
    denom = np.sin(half)
    near_zero = np.abs(denom) < 1e-9
    # Dirichlet kernel minus the DC term; its limit at phase = 0 (mod 2 pi) is K.
    safe = np.where(near_zero, 1.0, 2.0 * denom)
    kernel = np.where(near_zero, whole, np.sin((2.0 * whole + 1.0) * half) / safe - 0.5)
    return kernel + frac * np.cos((whole + 1.0) * phase)


def _one_pole_lowpass(x: np.ndarray, corner_hz: float, sample_rate: int) -> np.ndarray:
    """y[n] = (1 - p) x[n] + p y[n-1]: unit DC gain, -6 dB/octave above ``corner_hz``."""
    p = float(np.exp(-2.0 * np.pi * corner_hz / sample_rate))
    return lfilter([1.0 - p], [1.0, -p], x)


def _formant_cascades(freqs: np.ndarray, bandwidths: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Cascades of two-pole resonators, one per row of ``freqs`` (n_blocks, n_formants) Hz.

    Each resonator has unit gain at DC, which keeps the level of the cascade independent of
    where the formants sit. Returns gains ``b0`` (n_blocks,) and denominators ``a``
    (n_blocks, 2 * n_formants + 1), for lfilter([b0[i]], a[i], x).
    """
    r = np.exp(-np.pi * bandwidths / sample_rate)
    a1 = -2.0 * r * np.cos(2.0 * np.pi * freqs / sample_rate)
    a2 = np.broadcast_to(r * r, a1.shape)
    a = np.ones((len(freqs), 1))
    for j in range(freqs.shape[1]):  # polynomial product, vectorised over blocks
        nxt = np.zeros((len(a), a.shape[1] + 2))
        nxt[:, :-2] += a
        nxt[:, 1:-1] += a * a1[:, j : j + 1]
        nxt[:, 2:] += a * a2[:, j : j + 1]
        a = nxt
    return np.prod(1.0 + a1 + a2, axis=1), a


def _state_matrices(a: np.ndarray) -> np.ndarray:
    """Maps from past outputs to transposed-direct-form state for all-pole filters ``[b0] / a``.

    ``a`` has shape (n_blocks, order + 1); returns M (n_blocks, order, order) such that
    ``zi = M[i] @ [y[n-1], y[n-2], ...]`` is the state scipy.signal.lfilter continues from,
    since z_m = -sum_{k=m+1..order} a_k * y[n-(k-m)].
    """
    order = a.shape[1] - 1
    m = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    k = m + 1 + j  # coefficient index feeding state m from output y[n-1-j]
    valid = k <= order
    return -np.where(valid, a[:, np.minimum(k, order)], 0.0)



def synthesize_utterance(
    speaker: Speaker, emotion: str, rng: np.random.Generator, sample_rate: int = 16000
) -> np.ndarray:
    """Synthesize one utterance.

    Returns a float64 mono signal of shape (n_samples,), 1.0-2.0 s long, peak-normalised to
    a speaker/emotion-dependent level between -24 and -1 dBFS (never silent, never clipped).
    """
    emo = EMOTIONS[emotion]
    sr = sample_rate

    duration = rng.uniform(MIN_DURATION_S, MAX_DURATION_S)
    n = int(round(duration * sr))
    t_end = n / sr - rng.uniform(0.04, 0.10)

    # Per-utterance variation: large relative to the gaps between emotion prototypes, so
    # neighbouring classes (angry/happy, neutral/sad) overlap.
    base_st = emo.pitch_st + rng.normal(0.0, 1.5)
    range_st = emo.range_st * np.exp(rng.normal(0.0, 0.3))
    level_db = emo.level_db + speaker.level_db + rng.normal(0.0, 2.0)
    rate = emo.rate * speaker.rate_scale * np.exp(rng.normal(0.0, 0.12))
    tilt_hz = emo.tilt_hz * speaker.tilt_scale * np.exp(rng.normal(0.0, 0.25))
    breath = emo.breath * speaker.breath_scale * np.exp(rng.normal(0.0, 0.45))
    jitter = emo.jitter * np.exp(rng.normal(0.0, 0.35))
    f1_scale = emo.f1_scale * np.exp(rng.normal(0.0, 0.04))
    declination_st = rng.uniform(1.0, 4.0)

    # Syllable layout: voiced stretches separated by short pauses, with occasional phrase breaks.
    starts, ends = [], []
    t = rng.uniform(0.03, 0.12)
    while True:
        period = np.exp(rng.normal(0.0, 0.15)) / rate
        voiced = period * rng.uniform(0.55, 0.8)
        if t + voiced > t_end and len(starts) >= 2:
            break
        starts.append(t)
        ends.append(min(t + voiced, t_end))
        t += period + (rng.uniform(0.1, 0.25) if rng.random() < 0.12 else 0.0)
    starts_a = np.array(starts)
    ends_a = np.array(ends)
    centres = 0.5 * (starts_a + ends_a)
    n_syl = len(starts)

    times = np.arange(n) / sr

    # Voicing envelope: raised-cosine onset/offset per syllable, with random stress.
    env = np.zeros(n)
    stress = rng.uniform(0.55, 1.0, n_syl)
    for s0, s1, gain in zip(starts_a, ends_a, stress):
        i0, i1 = int(s0 * sr), int(s1 * sr)
        length = i1 - i0
        if length < 4:
            continue
        ramp = max(2, int(0.3 * length))
        seg = np.ones(length)
        seg[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        seg[-ramp:] = seg[:ramp][::-1]
        env[i0:i1] = gain * seg

    # Intonation: declining baseline plus per-syllable accents, interpolated between syllables.
    accents = range_st * rng.uniform(-0.4, 1.0, n_syl)
    accent_track = np.interp(times, centres, accents)
    semitones = base_st + accent_track - declination_st * times / max(times[-1], 1e-9)
    f0 = speaker.f0 * 2.0 ** (semitones / 12.0)
    hold = max(1, int(sr / 150.0))  # ~ one glottal period
    f0 *= 1.0 + jitter * _held_noise(rng, n, hold)
    f0 = np.clip(f0, 50.0, 0.2 * sr)

    # Harmonic source: equal-amplitude cosine harmonics up to a band limit, summed in closed
    # form (Dirichlet kernel) so the cost is O(n) rather than O(n * n_harmonics). The top
    # harmonic is faded in by its fractional part, so nothing clicks as f0 moves and nothing
    # aliases. The spectral tilt is applied afterwards by one-pole low-pass filters.
    phase = 2.0 * np.pi * np.cumsum(f0) / sr
    harmonic = bandlimited_pulses(phase, HARMONIC_LIMIT * sr / f0)
    harmonic = _one_pole_lowpass(harmonic, GLOTTAL_CORNER_HZ, sr)
    harmonic = _one_pole_lowpass(harmonic, tilt_hz, sr)
    harmonic /= np.abs(harmonic).max() + 1e-12
    shimmer = 1.0 + 2.0 * jitter * _held_noise(rng, n, hold)

    # Aspiration noise is pulsed with the glottal cycle, as in real breathy voice.
    pulse = 0.6 + 0.4 * np.cos(phase)
    aspiration = breath * 3.0 * rng.standard_normal(n) * pulse
    source = env * (harmonic * shimmer + aspiration)

    # Formant tracks: one vowel target per syllable centre, approached from a consonant-like
    # locus at the syllable onset (low F1, F2 pulled toward ~1.7 kHz), as in CV transitions.
    vowel_idx = rng.integers(0, len(VOWELS), n_syl)
    targets = VOWELS[vowel_idx] * speaker.formant_scale
    targets *= np.exp(rng.normal(0.0, 0.05, targets.shape))
    targets[:, 0] *= f1_scale
    loci = targets.copy()
    loci[:, 0] *= 0.6
    loci[:, 1] = 0.5 * (loci[:, 1] + 1700.0 * speaker.formant_scale)
    knot_times = np.concatenate([starts_a, centres])
    by_time = np.argsort(knot_times, kind="stable")
    knots = np.concatenate([loci, targets])[by_time]
    knot_times = knot_times[by_time]

    block = max(1, int(_BLOCK_S * sr))
    block_starts = np.arange(0, n, block)
    block_times = (block_starts + block / 2) / sr
    tracks = np.stack([np.interp(block_times, knot_times, knots[:, j]) for j in range(3)], axis=1)
    tracks = np.minimum(tracks, 0.45 * sr)
    bandwidths = BANDWIDTHS * (1.0 + 2.0 * breath)

    # Cascade of resonators, merged into one 6th-order filter per block (a third of the
    # lfilter calls), coefficients stepped per block. At each step the filter state is
    # rebuilt from the last outputs for the NEW coefficients (direct-form-I semantics): the
    # transposed-form state of the old coefficients would click when the formants jump.
    # Blocks with no input and a decayed output (pauses) are skipped: they are silent.
    gains, denominators = _formant_cascades(tracks, bandwidths, sr)
    to_state = _state_matrices(denominators)
    order = denominators.shape[1] - 1
    out = np.zeros(n + order)  # leading zeros: the past of the first block
    for b, i0 in enumerate(block_starts):
        x = source[i0 : i0 + block]
        past = out[i0 : i0 + order][::-1]  # y[i0-1], y[i0-2], ... in signal time
        if not x.any() and np.abs(past).max() < 1e-12:
            continue
        y, _ = lfilter(gains[b : b + 1], denominators[b], x, zi=to_state[b] @ past)
        out[order + i0 : order + i0 + len(x)] = y
    out = out[order:]

    # First difference approximates lip radiation (+6 dB/octave) and removes DC.
    out = np.diff(out, prepend=0.0)
    out /= np.abs(out).max() + 1e-12
    # A faint room-noise floor, so pauses are never digital silence.
    out += 10 ** (-55.0 / 20.0) * rng.standard_normal(n)

    level = float(np.clip(level_db, -24.0, -1.0))
    return out * (10 ** (level / 20.0) / np.abs(out).max())

