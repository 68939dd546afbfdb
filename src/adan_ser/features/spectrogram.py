"""Spectrogram front end: log spectrograms per utterance, a per-corpus cache, per-fold
normalisation and fixed-length segments.

Shapes: one utterance's spectrogram is ``(T, F)`` float32, ``T`` frames at ``hop_ms`` spacing
(10 ms) and ``F`` frequency bins (linear: 400 bins of 10 Hz from 0 to 3990 Hz; mel: 40 bands).
Values are natural-log magnitudes (linear) or natural-log mel energies (mel).

Two front ends (``kind``):

- ``linear`` (Satt et al. 2017; Li et al. 2018): 40 ms Hamming windows, 10 ms hop, DFT length
  1600 at 16 kHz (10 Hz bins, the window is zero-padded), bins below ``fmax`` = 4 kHz kept →
  400 bins, ``log(|X| + 1e-6)``.
- ``mel`` (Zhou & Liu): 25 ms Hamming windows, 10 ms hop, DFT length 512, power spectrum
  through 40 triangular HTK-mel filters from 0 Hz to Nyquist, ``log(E + 1e-6)``.

Audio is read as mono (channels averaged) and resampled to ``sample_rate`` (16 kHz) with
``scipy.signal.resample_poly`` when the file has another rate (the EmoDB copy is 22.05 kHz), by
:func:`.audio_io.read_audio`, the reader of the openSMILE features too (which refuse such files).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_path
from adan_ser.features.audio_io import BadAudio, read_audio

KINDS = ("linear", "mel")
_EPS = 1e-6  # floor inside the log: digital silence maps to log(1e-6) ≈ -13.8, not -inf

#: Defaults of every front-end parameter (``spectro.frontend`` in params.yaml overrides them).
FRONTEND_DEFAULTS = {
    "kind": "linear",
    "sample_rate": 16000,
    "linear": {"win_ms": 40.0, "hop_ms": 10.0, "n_fft": 1600, "fmax": 4000.0},
    "mel": {"win_ms": 25.0, "hop_ms": 10.0, "n_fft": 512, "n_mels": 40},
}


def frontend_config(params: Optional[dict] = None) -> dict:
    """Defaults merged with ``params`` (same nesting); unknown keys are an error naming them."""
    params = dict(params or {})
    cfg = {"kind": FRONTEND_DEFAULTS["kind"], "sample_rate": FRONTEND_DEFAULTS["sample_rate"]}
    for key in params:
        if key not in FRONTEND_DEFAULTS:
            raise AdanError(f"unknown spectro.frontend parameter {key!r}; known: {', '.join(FRONTEND_DEFAULTS)}")
    cfg["kind"] = params.get("kind", cfg["kind"])
    if cfg["kind"] not in KINDS:
        raise AdanError(f"unknown spectrogram kind {cfg['kind']!r}; known: {', '.join(KINDS)}")
    cfg["sample_rate"] = int(params.get("sample_rate", cfg["sample_rate"]))
    sub = dict(FRONTEND_DEFAULTS[cfg["kind"]])
    for key, value in (params.get(cfg["kind"]) or {}).items():
        if key not in sub:
            raise AdanError(f"unknown spectro.frontend.{cfg['kind']} parameter {key!r}; known: {', '.join(sub)}")
        sub[key] = value
    cfg.update(sub)
    return cfg


# ------------------------------------------------------------------------------- one utterance


def _read(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """(samples,) float32 mono at ``sample_rate`` Hz (resampled if need be); AdanError naming the
    file if unusable."""
    try:
        mono, _ = read_audio(path, sample_rate, other_rate="resample")
    except BadAudio as exc:
        raise AdanError(f"{path}: {exc}") from None
    if not np.isfinite(mono).all():
        raise AdanError(f"{path}: non-finite samples")
    return mono


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangular HTK-mel filters from 0 Hz to Nyquist, peak 1."""
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(sample_rate / 2), n_mels + 2))
    freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    return np.clip(np.minimum(rising, falling), 0.0, None).astype(np.float32)


def spectrogram(signal: np.ndarray, cfg: dict) -> np.ndarray:
    """(T, F) float32 log spectrogram of a (samples,) signal at ``cfg['sample_rate']``.

    Frames are whole windows inside the signal (no centring), so T = 1 + (samples − win) // hop;
    a signal shorter than one window is zero-padded to one frame.
    """
    sr = int(cfg["sample_rate"])
    win = int(round(cfg["win_ms"] * sr / 1000))
    hop = int(round(cfg["hop_ms"] * sr / 1000))
    n_fft = int(cfg["n_fft"])
    if win > n_fft:
        raise AdanError(f"spectrogram window {win} samples is longer than n_fft {n_fft}")
    x = torch.as_tensor(np.ascontiguousarray(signal, dtype=np.float32))
    if len(x) < win:
        x = torch.nn.functional.pad(x, (0, win - len(x)))
    frames = x.unfold(0, win, hop) * torch.hamming_window(win, periodic=False)
    mag = torch.fft.rfft(frames, n=n_fft).abs()  # (T, n_fft // 2 + 1); zero-padding sets the bin width
    if cfg["kind"] == "linear":
        n_bins = int(np.ceil(cfg["fmax"] * n_fft / sr))  # bins k with k · sr / n_fft < fmax
        out = torch.log(mag[:, :n_bins] + _EPS)
    else:
        fb = torch.as_tensor(mel_filterbank(int(cfg["n_mels"]), n_fft, sr))
        out = torch.log(mag.pow(2) @ fb + _EPS)
    return out.numpy().astype(np.float32)


# ------------------------------------------------------------------------------ corpus cache


@dataclass
class SpectrogramSet:
    """Variable-length spectrograms of a corpus, stored back to back.

    ``files``: (n,) manifest file strings; ``offsets``: (n + 1,) frame offsets, utterance i is
    ``frames[offsets[i]:offsets[i + 1]]``; ``frames``: (sum T_i, F) float32; ``config``: front end.
    """

    files: np.ndarray
    offsets: np.ndarray
    frames: np.ndarray
    config: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.frames[self.offsets[i] : self.offsets[i + 1]]

    def lookup(self, files: Sequence[str]) -> list[np.ndarray]:
        """Spectrograms of ``files`` in that order; AdanError naming the first missing file."""
        index = {f: i for i, f in enumerate(self.files.tolist())}
        missing = [f for f in files if f not in index]
        if missing:
            raise AdanError(f"no cached spectrogram for {missing[0]} (re-run the spectrogram stage)")
        return [self[index[f]] for f in files]


def compute_spectrograms(
    manifest: pd.DataFrame, root: str | os.PathLike, cfg: dict, progress: bool = True
) -> SpectrogramSet:
    """Spectrogram of every manifest row (``file`` relative to ``root``), in manifest order."""
    root = Path(root)
    if not root.is_dir():
        raise AdanError(f"corpus folder not found: {root}")
    specs = []
    for file in tqdm(manifest["file"].tolist(), desc="spectrograms", disable=not progress, leave=False):
        path = Path(file) if Path(file).is_absolute() else root / file
        specs.append(spectrogram(_read(path, int(cfg["sample_rate"])), cfg))
    lengths = np.array([len(s) for s in specs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    frames = np.concatenate(specs) if specs else np.zeros((0, 0), np.float32)
    return SpectrogramSet(manifest["file"].to_numpy().astype(str), offsets, frames, dict(cfg))


def save_spectrograms(specs: SpectrogramSet, path: str | os.PathLike) -> None:
    """One ``.npz``: frames stored as float16 (log values; ~3 significant digits, half the disk)."""
    with atomic_path(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                files=specs.files.astype(str),
                offsets=specs.offsets,
                frames=specs.frames.astype(np.float16),
                config=np.array(json.dumps(specs.config, sort_keys=True)),
            )


def load_spectrograms(path: str | os.PathLike) -> SpectrogramSet:
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"spectrogram cache not found: {path} (run the spectrogram stage)")
    with np.load(path, allow_pickle=False) as z:
        missing = {"files", "offsets", "frames", "config"} - set(z.files)
        if missing:
            raise AdanError(f"spectrogram cache {path} lacks {sorted(missing)[0]!r}")
        return SpectrogramSet(
            z["files"].astype(str), z["offsets"].astype(np.int64), z["frames"].astype(np.float32),
            json.loads(str(z["config"])),
        )


# --------------------------------------------------------------------- normalisation, segments


class FrameNormalizer:
    """Per-frequency-bin z-normalisation fitted on the frames of training utterances only.

    ``fit(specs)``: specs a sequence of (T_i, F) arrays, statistics over all their frames.
    ``transform`` maps each (T_i, F) to (x − mean_) / std_. Takes no parameters.

    Attributes
    ----------
    mean_ : ndarray of shape (F,)
        float32 mean of every bin over the training frames (spectrogram units, e.g. log magnitude).
    std_ : ndarray of shape (F,)
        float32 standard deviation of every bin, floored at 1e-5 so a constant bin stays finite.
    n_features_in_ : int
        F, the number of frequency bins.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> specs = [rng.normal(size=(t, 4)).astype(np.float32) for t in (10, 7)]
    >>> norm = FrameNormalizer().fit(specs)
    >>> norm.mean_.shape, norm.std_.dtype, [s.shape for s in norm.transform(specs)]
    ((4,), dtype('float32'), [(10, 4), (7, 4)])
    """

    def fit(self, specs: Sequence[np.ndarray]) -> "FrameNormalizer":
        if len(specs) == 0:
            raise AdanError("frame normaliser: no training spectrograms")
        frames = np.concatenate([np.asarray(s, dtype=np.float64) for s in specs])
        self.mean_ = frames.mean(axis=0).astype(np.float32)
        self.std_ = np.maximum(frames.std(axis=0), 1e-5).astype(np.float32)
        self.n_features_in_ = frames.shape[1]
        return self

    def transform(self, specs: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = []
        for s in specs:
            if s.ndim != 2 or s.shape[1] != self.n_features_in_:
                raise AdanError(f"spectrogram has shape {s.shape}, expected (T, {self.n_features_in_})")
            out.append((s - self.mean_) / self.std_)
        return out


def segment_starts(n_frames: int, seg: int, hop: int) -> np.ndarray:
    """Start frames of the segments of an utterance of ``n_frames`` frames.

    Segments of ``seg`` frames start every ``hop`` frames. A tail left after the last whole
    segment is covered by one more, end-aligned segment when it is at least ``hop / 2`` frames
    long, otherwise dropped (so at most hop / 2 frames are lost). An utterance shorter than one
    segment gives one segment at 0, padded by :func:`segment`.
    """
    if seg < 1 or hop < 1:
        raise AdanError(f"segment length and hop must be ≥ 1 frame, got {seg} and {hop}")
    if n_frames <= seg:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_frames - seg + 1, hop, dtype=np.int64)
    tail = n_frames - (starts[-1] + seg)
    if tail * 2 >= hop:
        starts = np.append(starts, n_frames - seg)
    return starts


def segment(specs: Sequence[np.ndarray], seg: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut (T_i, F) spectrograms into segments: ((S, seg, F) float32, (S,) owner index).

    Call on normalised spectrograms: an utterance shorter than ``seg`` frames is padded at the
    end with zeros, i.e. with the training-fold mean of every bin, which carries no energy cue.
    Every segment belongs to (inherits the label of) ``owner[s]``.
    """
    if len(specs) == 0:
        raise AdanError("no spectrograms to segment")
    n_bins = specs[0].shape[1]
    parts, owners = [], []
    for i, s in enumerate(specs):
        if len(s) < seg:
            s = np.concatenate([s, np.zeros((seg - len(s), n_bins), dtype=s.dtype)])
        starts = segment_starts(len(s), seg, hop)
        # sliding_window_view is a view: one gather per utterance, no per-segment Python copy
        windows = np.lib.stride_tricks.sliding_window_view(s, seg, axis=0)  # (T - seg + 1, F, seg)
        parts.append(windows[starts].transpose(0, 2, 1))
        owners.append(np.full(len(starts), i, dtype=np.int64))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32), np.concatenate(owners)


def average_by_owner(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """(n, k) mean of the (S, k) segment ``values`` of each owner 0..n−1 (utterance logits)."""
    owner = np.asarray(owner)
    counts = np.bincount(owner, minlength=n).astype(np.float64)
    if (counts == 0).any():
        raise AdanError(f"utterance {int(np.argmin(counts))} has no segment")
    sums = np.zeros((n, values.shape[1]), dtype=np.float64)
    np.add.at(sums, owner, values)
    return (sums / counts[:, None]).astype(values.dtype)
