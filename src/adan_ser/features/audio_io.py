"""Audio files as the feature extractors read them: mono float32 signals, the corpus sample rate,
and the checks that name a file no extractor can describe.

A bad file raises :class:`BadAudio` carrying the reason only; the caller adds the file name, so
that every message reads ``<file>: <reason>`` on one line.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from math import gcd
from pathlib import Path
from typing import Iterable

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from adan_ser.core.errors import AdanError, one_line

#: Peak absolute amplitude (full scale = 1.0) below which a file counts as silent.
SILENCE_PEAK = 1e-4


class BadAudio(Exception):
    """The audio cannot be described; the message is the reason (no file name): callers add it."""


#: What :func:`read_audio` may do with a file at another sample rate than the one asked for.
RATE_POLICIES = ("refuse", "resample")


def read_audio(
    path: str | os.PathLike, sample_rate: int | None = None, *, other_rate: str = "refuse"
) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 mono: shape ``(samples,)``, and its rate in Hz.

    Several channels are averaged (keeping what every channel carries); samples come as read,
    neither clipped nor checked for finiteness, which is each caller's own policy.

    ``other_rate`` says what becomes of a file not at ``sample_rate`` Hz (None: any rate is
    kept): ``"refuse"`` raises :class:`BadAudio` naming both rates; ``"resample"`` resamples it
    to ``sample_rate`` with ``scipy.signal.resample_poly``.

    Raises ``BadAudio`` with a short reason when the file is missing, unreadable, empty, or
    (``"refuse"``) at another rate.
    """
    if other_rate not in RATE_POLICIES:
        raise ValueError(f"other_rate must be one of {RATE_POLICIES}, got {other_rate!r}")
    if not os.path.isfile(path):  # libsndfile would call it "System error."
        raise BadAudio("file not found" if not os.path.exists(path) else "not a file")
    try:
        signal, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        raise BadAudio(f"unreadable audio ({one_line(exc, first=True)})") from None
    if signal.shape[0] == 0:
        raise BadAudio("zero samples")
    sr = int(sr)
    other = sample_rate is not None and sr != int(sample_rate)
    if other and other_rate == "refuse":
        raise BadAudio(
            f"sample rate {sr} Hz differs from the corpus rate {int(sample_rate)} Hz "
            f"(not resampled: convert the file to {int(sample_rate)} Hz)"
        )
    mono = (
        np.ascontiguousarray(signal[:, 0])
        if signal.shape[1] == 1
        else signal.mean(axis=1, dtype=np.float32)
    )
    if other:
        g = gcd(sr, int(sample_rate))
        mono = resample_poly(mono, int(sample_rate) // g, sr // g).astype(np.float32)
        sr = int(sample_rate)
    return mono, sr


def read_mono(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read ``path`` as openSMILE's input: float32 mono in [-1, 1]; shape ``(samples,)``, rate in Hz.

    Raises ``BadAudio`` with a short reason when the file is unreadable, empty, at another rate
    than ``sample_rate`` (Hz; None: any; never resampled, see :mod:`.opensmile`) or silent;
    reading once here serves both the check and extraction.
    """
    mono, sr = read_audio(path, sample_rate, other_rate="refuse")
    # openSMILE scales by 32768 and casts to int16, so a float file reaching 1.0
    # would wrap to -32768; clipping is what a PCM recorder would have done anyway.
    np.clip(mono, -1.0, 32767 / 32768, out=mono)
    peak = float(np.max(np.abs(mono)))
    if not math.isfinite(peak):
        raise BadAudio("non-finite samples")
    if peak < SILENCE_PEAK:
        raise BadAudio(f"silent (peak |x| = {peak:.2g} < {SILENCE_PEAK:g})")
    return mono, sr


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


def resolve_path(file, root: Path | None) -> str:
    """A manifest ``file`` entry as a path string: relative entries hang from ``root`` (None: as is)."""
    path = Path(str(file))
    if not path.is_absolute() and root is not None:
        path = root / path
    return str(path)

