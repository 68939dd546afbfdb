"""A generic corpus described by a CSV (file, speaker, emotion and optional gender, session, condition)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from adan_ser.contracts.manifest import REQUIRED_NONEMPTY, read_table, require_columns
from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import audio_duration, gender_word, manifest_frame

CSV_MANIFEST_NAME = "manifest.csv"


def csv_manifest_path(path: Path) -> Path:
    """The CSV itself, or ``manifest.csv`` in the folder ``path``."""
    return path / CSV_MANIFEST_NAME if path.is_dir() else path


def read_csv_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """A generic corpus: a CSV (or a folder holding ``manifest.csv``) with columns
    ``file, speaker, emotion`` and optionally ``gender, session, condition``.

    ``file`` is relative to the CSV's folder unless absolute. Defaults: gender "unknown",
    session = speaker, condition "". Emotions are lower-cased and stripped; any other
    columns (including a stale ``duration``) are ignored and duration is re-read.
    """
    csv_path = csv_manifest_path(Path(path))
    if not csv_path.is_file():
        raise AdanError(f"CSV manifest not found: {csv_path}")
    base = csv_path.parent
    table = read_table(csv_path)
    require_columns(table, REQUIRED_NONEMPTY, csv_path)
    rows = []
    for i, record in enumerate(table.to_dict("records")):
        where = f"{csv_path} row {i + 2}"  # +2: header line, 1-based
        file = record["file"].strip()
        speaker = record["speaker"].strip()
        emotion = record["emotion"].strip().lower()
        for column, value in (("file", file), ("speaker", speaker), ("emotion", emotion)):
            if not value:
                raise AdanError(f"empty {column!r} in {where}")
        audio = Path(file)
        if not audio.is_absolute():
            audio = base / audio
        session = record.get("session", "").strip() or speaker
        rows.append(
            {
                "file": Path(file).as_posix(),
                "speaker": speaker,
                "gender": gender_word(record.get("gender", ""), where),
                "emotion": emotion,
                "session": session,
                "condition": record.get("condition", "").strip(),
                "duration": audio_duration(audio),
            }
        )
    return manifest_frame(rows)
