"""CREMA-D: ``1001_DFA_ANG_XX.wav`` (actor, sentence, emotion, intensity), genders from its demographics table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from adan_ser.contracts.manifest import read_table, require_columns
from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import (
    audio_duration,
    audio_files,
    manifest_frame,
    relative,
)

CREMAD_EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
CREMAD_DEMOGRAPHICS = "VideoDemographics.csv"

_CREMAD_NAME = re.compile(r"^(\d+)_([A-Za-z]+)_([A-Za-z]{3})_([A-Za-z]+)$")


def _cremad_genders(root: Path) -> dict[str, str]:
    path = root / CREMAD_DEMOGRAPHICS
    if not path.is_file():
        return {}
    table = read_table(path)
    require_columns(table, ("ActorID", "Sex"), path)
    sex = {"male": "m", "female": "f"}
    return {
        actor.strip(): sex.get(value.strip().lower(), "unknown")
        for actor, value in zip(table["ActorID"], table["Sex"])
    }


def read_cremad(root: str | os.PathLike) -> pd.DataFrame:
    """CREMA-D: ``1001_DFA_ANG_XX.wav`` anywhere under ``root`` (usually ``AudioWAV/``).

    speaker = the actor id, session = speaker, condition = intensity code lower-cased
    (lo/md/hi/xx). Gender comes from ``VideoDemographics.csv`` in ``root`` if present
    (columns ActorID, Sex), else "unknown".
    """
    root = Path(root)
    genders = _cremad_genders(root)
    rows = []
    for path in audio_files(root, (".wav",)):
        match = _CREMAD_NAME.match(path.stem)
        if not match:
            raise AdanError(f"not a CREMA-D file name (expected e.g. 1001_DFA_ANG_XX.wav): {path}")
        speaker, _, code, intensity = match.groups()
        if code.upper() not in CREMAD_EMOTIONS:
            raise AdanError(f"unknown CREMA-D emotion code {code!r} in {path}")
        rows.append(
            {
                "file": relative(path, root),
                "speaker": speaker,
                "gender": genders.get(speaker, "unknown"),
                "emotion": CREMAD_EMOTIONS[code.upper()],
                "session": speaker,
                "condition": intensity.lower(),
                "duration": audio_duration(path),
            }
        )
    return manifest_frame(rows)
