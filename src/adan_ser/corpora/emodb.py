"""Berlin EmoDB: wavs named ``SSTTTEV.wav`` (speaker, text, emotion letter, version)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import (
    audio_duration,
    audio_files,
    manifest_frame,
    relative,
)

EMODB_EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
EMODB_MALE = frozenset({"03", "10", "11", "12", "15"})
EMODB_FEMALE = frozenset({"08", "09", "13", "14", "16"})


def read_emodb(root: str | os.PathLike) -> pd.DataFrame:
    """Berlin EmoDB: wavs named ``SSTTTEV.wav`` (e.g. ``03a01Fa.wav``) anywhere under ``root``.

    speaker = SS, emotion from the 6th character E, session = speaker, condition "".
    """
    root = Path(root)
    rows = []
    for path in audio_files(root, (".wav",)):
        stem = path.stem
        if len(stem) < 6 or not stem[:2].isdigit():
            raise AdanError(f"not an EmoDB file name (expected e.g. 03a01Fa.wav): {path}")
        speaker, code = stem[:2], stem[5]
        if code not in EMODB_EMOTIONS:
            raise AdanError(
                f"unknown EmoDB emotion code {code!r} in {path} (known: {''.join(EMODB_EMOTIONS)})"
            )
        gender = "m" if speaker in EMODB_MALE else "f" if speaker in EMODB_FEMALE else "unknown"
        rows.append(
            {
                "file": relative(path, root),
                "speaker": speaker,
                "gender": gender,
                "emotion": EMODB_EMOTIONS[code],
                "session": speaker,
                "condition": "",
                "duration": audio_duration(path),
            }
        )
    return manifest_frame(rows)
