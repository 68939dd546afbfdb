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

import hashlib
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from adan_ser.core.errors import AdanError, one_line
from adan_ser.core.io import write_csv

MANIFEST_COLUMNS = ["file", "speaker", "gender", "emotion", "session", "condition", "duration"]
REQUIRED_NONEMPTY = ("file", "speaker", "emotion")  # a corpus CSV must give these
NONEMPTY = REQUIRED_NONEMPTY + ("session",)  # a manifest must hold these in every row
GENDERS = ("f", "m", "unknown")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV as strings, empty cells kept as "" (never NaN)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise AdanError(f"cannot read CSV {path} ({one_line(exc)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _gender(value: object) -> str | None:
    word = str(value).strip().lower()
    if word in ("f", "female", "w", "woman"):
        return "f"
    if word in ("m", "male", "man"):
        return "m"
    if word in ("", "unknown", "u", "nan", "none", "na", "n/a", "?"):
        return "unknown"
    return None


def gender_word(value: str, where: str) -> str:
    """Normalise a gender given as f/m/female/male (any case) or empty."""
    gender = _gender(value)
    if gender is None:
        raise AdanError(f"unrecognised gender {value!r} in {where} (expected f, m or unknown)")
    return gender


def normalise_labels(df: pd.DataFrame, source: object = "manifest", first_line: int | None = None) -> pd.DataFrame:
    """The one spelling of a manifest's labels, for a corpus CSV read by ``adan prepare`` and a
    manifest given with ``-m`` alike (a copy of ``df``; absent columns stay absent).

    ``file``, ``speaker``, ``session`` and ``condition`` lose surrounding space (" 03" is speaker
    "03", not a fold of its own), ``file`` is a posix path ("./a//b.wav" is "a/b.wav"), ``emotion``
    is stripped and lower-cased ("Anger" and "anger" are one class), ``gender`` is f, m or unknown
    (:func:`gender_word`; an unknown word names ``source`` and the row or, with ``first_line``,
    the file line).
    """
    df = df.copy()
    for column in ("file", "speaker", "session", "condition", "emotion"):
        if column in df:
            df[column] = df[column].map(lambda v: v.strip() if isinstance(v, str) else v)
    if "file" in df:
        df["file"] = df["file"].map(lambda v: Path(v).as_posix() if isinstance(v, str) and v else v)
    if "emotion" in df:
        df["emotion"] = df["emotion"].map(lambda v: v.lower() if isinstance(v, str) else v)
    if "gender" in df:
        genders = [_gender(v) for v in df["gender"]]
        if None in genders:
            i = genders.index(None)
            row = f"row {i}" if first_line is None else f"line {i + first_line}"
            file = f", file {df['file'].iloc[i]!r}" if "file" in df else ""
            raise AdanError(f"gender must be f, m or unknown, got {df['gender'].iloc[i]!r} in {source} ({row}{file})")
        df["gender"] = genders
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], source: object) -> None:
    for column in columns:
        if column not in df.columns:
            raise AdanError(f"missing column {column!r} in {source}")


def validate_manifest(df: pd.DataFrame, source: object = "manifest", first_line: int | None = None) -> None:
    """Raise AdanError unless ``df`` is a usable manifest; the one-line message names ``source``
    and the offending row.

    Checked: every manifest column present; no empty ``file``, ``speaker``, ``emotion`` or
    ``session`` (an empty speaker or session would become a fold named ""); genders f, m or
    unknown; durations finite and positive; no file listed twice. Rows are named by position
    (``row 0`` is the first), or, with ``first_line`` (the file line of the first row, 2 for a
    CSV with a header), as ``line N`` of the file.
    """
    require_columns(df, MANIFEST_COLUMNS, source)

    def where(position: int) -> str:
        row = f"row {position}" if first_line is None else f"line {position + first_line}"
        return f"{source} ({row}, file {df['file'].iloc[position]!r})"

    for column in NONEMPTY:
        values = df[column].astype(str).str.strip()
        empty = (df[column].isna() | (values == "")).to_numpy()
        if empty.any():
            raise AdanError(f"empty {column!r} in {where(int(empty.argmax()))}")
    bad_gender = (~df["gender"].isin(GENDERS)).to_numpy()
    if bad_gender.any():
        row = int(bad_gender.argmax())
        raise AdanError(f"gender must be f, m or unknown, got {df['gender'].iloc[row]!r} in {where(row)}")
    duration = pd.to_numeric(df["duration"], errors="coerce").to_numpy(dtype=float)
    bad_duration = ~(np.isfinite(duration) & (duration > 0))
    if bad_duration.any():
        row = int(bad_duration.argmax())
        raise AdanError(f"duration must be a positive number of seconds, got {df['duration'].iloc[row]!r} "
                        f"in {where(row)}")
    duplicated = df["file"].duplicated().to_numpy()
    if duplicated.any():
        row = int(duplicated.argmax())
        first = int((df["file"] == df["file"].iloc[row]).to_numpy().argmax())
        label = "row" if first_line is None else "line"
        first_at = first if first_line is None else first + first_line
        raise AdanError(f"file listed twice in {where(row)}: first at {label} {first_at}")


#: Bytes read from the start of each file of an equal-size group before whole files are hashed:
#: different recordings almost always differ there, so only true copies are read in full.
_HEAD_BYTES = 1 << 16


def _digest(path: str, limit: int | None) -> bytes | None:
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            if limit is not None:
                h.update(fh.read(limit))
            else:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    except OSError:
        return None  # unreadable: the stage reading it names it
    return h.digest()


def same_audio(files: Iterable[str], root: str | os.PathLike | None) -> list[tuple[int, int, str]]:
    """Pairs of positions of ``files`` (paths relative to ``root``, or absolute) that are one
    recording, and why: ``"the same file"`` (one path resolved: a ``..`` alias, a symbolic link,
    a second spelling) or ``"identical bytes"`` (a copy, e.g. in a subfolder); each file pairs with
    the first of its kind, in order of position.

    Copies are found without reading every file: only files of equal size are compared, first by
    a hash of their first 64 KiB, then in full. Missing files are skipped (their reader names them).
    """
    paths = [str(Path(root) / f) if root is not None and not Path(f).is_absolute() else str(f) for f in files]
    pairs = []
    seen: dict = {}
    by_size: dict = {}
    for i, path in enumerate(paths):
        real = os.path.realpath(path)
        if real in seen:
            pairs.append((seen[real], i, "the same file"))
            continue
        seen[real] = i
        try:
            by_size.setdefault(os.path.getsize(real), []).append(i)
        except OSError:
            continue
    for group in by_size.values():
        if len(group) < 2:
            continue
        heads: dict = {}
        for i in group:
            heads.setdefault(_digest(paths[i], _HEAD_BYTES), []).append(i)
        for head, same_head in heads.items():
            if head is None or len(same_head) < 2:
                continue
            full: dict = {}
            for i in same_head:
                digest = _digest(paths[i], None)
                if digest is not None and digest in full:
                    pairs.append((full[digest], i, "identical bytes"))
                full.setdefault(digest, i)
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


def check_same_audio(files: Sequence[str], root: str | os.PathLike | None, source: object, where=repr) -> None:
    """Refuse a recording listed twice: one file under two paths, or a copy of one under the same
    name (a copy in a subfolder) → AdanError naming ``source`` and both, as ``where(i)`` names position
    ``i`` (default: the file's ``repr``).

    Identical bytes under two different names only warn (naming both): a corpus may ship such a
    pair (the RAVDESS copy here has one, two repetitions of one actor's sentence), and refusing
    would make it unusable unedited; the two rows then count as two utterances.
    """
    files = list(files)
    pairs = same_audio(files, root)
    for i, j, why in pairs:
        if why == "the same file" or Path(files[i]).name == Path(files[j]).name:
            raise AdanError(f"{source}: {where(i)} and {where(j)} are one recording ({why}); remove one")
    if pairs:
        i, j, _ = pairs[0]
        warnings.warn(f"{source}: {len(pairs)} pair(s) of audio files hold identical bytes under different names, "
                      f"first {where(i)} and {where(j)}; each counts as an utterance of its own", stacklevel=2)


def write_manifest(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Validate ``df`` and write it atomically as CSV (manifest columns first)."""
    validate_manifest(df, f"manifest for {path}")
    extra = [c for c in df.columns if c not in MANIFEST_COLUMNS]
    write_csv(df[MANIFEST_COLUMNS + extra], path)


def load_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a manifest written by ``write_manifest`` (or by hand).

    Every column except ``duration`` stays a string ("03" stays "03", an empty condition
    stays ""); ``duration`` is float seconds. Labels are spelled as ``adan prepare`` spells them
    (:func:`normalise_labels`). Anything :func:`validate_manifest` rejects → AdanError naming the
    file and its line.
    """
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"manifest not found: {path}")
    df = read_table(path)
    require_columns(df, MANIFEST_COLUMNS, path)
    if df.empty:
        raise AdanError(f"manifest {path} has no rows (a header only)")
    df = normalise_labels(df, path, first_line=2)  # line 1 is the header
    validate_manifest(df, path, first_line=2)
    df["duration"] = df["duration"].astype(float)
    return df
