"""Helpers shared by the corpus readers: finding audio, reading durations, building the frame."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pandas as pd
import soundfile as sf

from adan_ser.contracts.manifest import MANIFEST_COLUMNS
from adan_ser.core.errors import AdanError, one_line


def audio_files(root: Path, suffixes: Iterable[str]) -> list[Path]:
    """Audio files under ``root`` (recursive), sorted; hidden files are skipped because
    macOS copies of corpora are littered with ``._name.wav`` resource forks."""
    wanted = {s.lower() for s in suffixes}
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in wanted:
                found.append(Path(dirpath) / name)
    return sorted(found)


def audio_duration(path: str | os.PathLike) -> float:
    """Duration in seconds from the audio header (no decoding). Unreadable or empty → AdanError."""
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile raises several types; all mean "not readable audio"
        raise AdanError(f"cannot read audio header: {path} ({one_line(exc)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AdanError(f"empty audio file: {path}")
    return float(info.frames) / float(info.samplerate)


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def manifest_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts with the manifest columns) as a manifest: MANIFEST_COLUMNS, sorted by file."""
    df = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    df["duration"] = df["duration"].astype(float)
    return df.sort_values("file", kind="stable").reset_index(drop=True)
