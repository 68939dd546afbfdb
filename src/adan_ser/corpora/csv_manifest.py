"""A generic corpus described by a CSV (file, speaker, emotion and optional gender, session, condition)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from adan_ser.contracts.manifest import REQUIRED_NONEMPTY, normalise_labels, read_table, require_columns
from adan_ser.core.errors import AdanError
from adan_ser.corpora._common import audio_duration, manifest_frame

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
    for column in ("gender", "session", "condition"):
        if column not in table:
            table[column] = ""
    table = normalise_labels(table, csv_path, first_line=2)  # +2: header line, 1-based
    rows, first_line_of = [], {}
    for i, record in enumerate(table.to_dict("records")):
        where = f"{csv_path} line {i + 2}"
        file, speaker, emotion = record["file"], record["speaker"], record["emotion"]
        for column, value in (("file", file), ("speaker", speaker), ("emotion", emotion)):
            if not value:
                raise AdanError(f"empty {column!r} in {where}")
        # caught here, before the manifest is sorted, so both lines are the file's own
        if file in first_line_of:
            raise AdanError(f"file {file!r} listed twice in {csv_path}: lines {first_line_of[file]} and {i + 2}")
        first_line_of[file] = i + 2
        audio = Path(file)
        if not audio.is_absolute():
            audio = base / audio
        rows.append(
            {
                "file": file,
                "speaker": speaker,
                "gender": record["gender"],
                "emotion": emotion,
                "session": record["session"] or speaker,
                "condition": record["condition"],
                "duration": audio_duration(audio),
            }
        )
    return manifest_frame(rows)
