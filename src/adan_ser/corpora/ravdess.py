"""RAVDESS speech: ``03-01-EE-II-SS-RR-AA`` file names (modality, channel, emotion, intensity, ...)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import (
    audio_duration,
    audio_files,
    manifest_frame,
    relative,
)

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
RAVDESS_INTENSITY = {"01": "normal", "02": "strong"}

_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def read_ravdess(root: str | os.PathLike) -> pd.DataFrame:
    """RAVDESS speech: ``03-01-EE-II-SS-RR-AA.wav`` or ``.flac`` anywhere under ``root``.

    speaker = "A" + AA, gender m for odd actors and f for even, session = speaker,
    condition = intensity ("normal"/"strong"). Song (03-02-...) and video files are skipped.
    """
    root = Path(root)
    rows = []
    for path in audio_files(root, (".wav", ".flac")):
        match = _RAVDESS_NAME.match(path.stem)
        if not match:
            raise AdanError(f"not a RAVDESS file name (expected e.g. 03-01-05-01-02-01-12.wav): {path}")
        modality, channel, emo, intensity, _, _, actor = match.groups()
        if modality != "03" or channel != "01":
            continue  # only audio-only speech; song is a different task
        if emo not in RAVDESS_EMOTIONS:
            raise AdanError(f"unknown RAVDESS emotion code {emo!r} in {path}")
        if intensity not in RAVDESS_INTENSITY:
            raise AdanError(f"unknown RAVDESS intensity code {intensity!r} in {path}")
        speaker = f"A{actor}"
        rows.append(
            {
                "file": relative(path, root),
                "speaker": speaker,
                "gender": "m" if int(actor) % 2 == 1 else "f",
                "emotion": RAVDESS_EMOTIONS[emo],
                "session": speaker,
                "condition": RAVDESS_INTENSITY[intensity],
                "duration": audio_duration(path),
            }
        )
    return manifest_frame(rows)
