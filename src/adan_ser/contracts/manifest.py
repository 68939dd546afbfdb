"""The manifest: one row per utterance, the table every stage reads.

A manifest has exactly ``MANIFEST_COLUMNS``, one row per utterance, sorted by ``file``:

- ``file``: audio path relative to the corpus root (posix), so ``Path(root) / file`` finds
  it; a generic CSV manifest may also give absolute paths.
- ``speaker``: speaker id (string, e.g. "03", "Ses01M", "A07").
- ``gender``: "f", "m" or "unknown".
- ``emotion``: lower-case emotion word.
- ``session``: the group left out together in leave-one-session-out (string).
- ``condition``: recording condition, e.g. "improvised"/"scripted" or an intensity; else "".
- ``duration``: seconds (float), from the audio header (no decoding).

``write_manifest`` and ``load_manifest`` store and restore a manifest as CSV with the types intact;
both validate, so a hand-edited manifest given with ``-m`` is checked like one from ``adan prepare``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from adan_ser.core.errors import AdanError
from adan_ser.core.io import write_csv

MANIFEST_COLUMNS = ["file", "speaker", "gender", "emotion", "session", "condition", "duration"]
REQUIRED_NONEMPTY = ("file", "speaker", "emotion")
GENDERS = ("f", "m", "unknown")


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) folded to one space."""
    return " ".join(str(text).split())


def read_table(path: Path) -> pd.DataFrame:
    """A CSV as strings, empty cells kept as "" (never NaN)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise AdanError(f"cannot read CSV {path} ({one_line(exc)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], source: object) -> None:
    for column in columns:
        if column not in df.columns:
            raise AdanError(f"missing column {column!r} in {source}")


def validate_manifest(df: pd.DataFrame, source: object = "manifest") -> None:
    """Raise AdanError unless ``df`` has every manifest column, no empty file/speaker/emotion,
    known genders and no file listed twice. ``source`` names the manifest in the message."""
    require_columns(df, MANIFEST_COLUMNS, source)
    for column in REQUIRED_NONEMPTY:
        values = df[column].astype(str).str.strip()
        empty = df[column].isna() | (values == "")
        if empty.any():
            row = int(empty.to_numpy().argmax())
            raise AdanError(f"empty {column!r} in {source} (row {row}, file {df['file'].iloc[row]!r})")
    bad_gender = ~df["gender"].isin(GENDERS)
    if bad_gender.any():
        row = int(bad_gender.to_numpy().argmax())
        raise AdanError(f"gender must be f, m or unknown in {source}: {df['gender'].iloc[row]!r} for {df['file'].iloc[row]}")
    duplicated = df["file"].duplicated()
    if duplicated.any():
        raise AdanError(f"file listed twice in {source}: {df['file'][duplicated].iloc[0]}")


def write_manifest(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Validate ``df`` and write it atomically as CSV (manifest columns first)."""
    validate_manifest(df, f"manifest for {path}")
    extra = [c for c in df.columns if c not in MANIFEST_COLUMNS]
    write_csv(df[MANIFEST_COLUMNS + extra], path)


def load_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read a manifest written by ``write_manifest``.

    Every column except ``duration`` stays a string ("03" stays "03", an empty condition
    stays ""); ``duration`` is float seconds. A missing column → AdanError naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"manifest not found: {path}")
    df = read_table(path)
    require_columns(df, MANIFEST_COLUMNS, path)
    try:
        df["duration"] = df["duration"].astype(float)
    except ValueError as exc:
        raise AdanError(f"non-numeric duration in {path} ({one_line(exc)})") from None
    return df
