"""Atomic output helpers: every file is written under a temporary name, then renamed.

A crash or a bad input therefore never leaves a half-written output behind. The temporary file
or folder sits beside its target (a rename never crosses file systems) and its name always
matches :data:`TEMP_GLOB`, ``.adan-tmp-*``, which ``.gitignore`` and ``.dvcignore`` ignore: a
process killed mid-write (``kill -9``, power loss) leaves debris that neither Git nor DVC sees,
so ``dvc status`` does not report a folder holding it as changed. The next write of the same
target removes such debris first (:func:`remove_stale_temps`).

Outputs get the mode a plain ``open()`` would give them (``0o666`` or ``0o777`` less the umask,
typically 0644 / 0755), not ``mkstemp``'s private 0600.

CSV files (:func:`write_csv`) hold float64 columns at :data:`FLOAT_DIGITS` significant digits, so
a value whose last bits differ between machines (BLAS, CPU) still prints the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from adan_ser.core.errors import AdanError
from adan_ser.core.lifecycle import pid_alive

#: Every temporary name starts so; ``.gitignore`` and ``.dvcignore`` carry this pattern.
TEMP_PREFIX = ".adan-tmp-"
TEMP_GLOB = TEMP_PREFIX + "*"

#: Significant digits of float64 values written by :func:`write_csv`.
FLOAT_DIGITS = 10

# .adan-tmp-<pid>-<8 hex>-<target name><suffix>: the pid tells a stale temp (its writer is gone)
# from one another live process is writing right now.
_TEMP_NAME = re.compile(r"^" + re.escape(TEMP_PREFIX) + r"(\d+)-[0-9a-f]{8}-(.*)$", re.DOTALL)


def _temp_name(target: Path, suffix: str) -> str:
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{target.name}{suffix}"


def remove_stale_temps(path: str | os.PathLike, suffix: str = "") -> list[Path]:
    """Remove the temporaries a killed writer of ``path`` left beside it; returns what was removed.

    Only names of the form written for this very target (same name, same ``suffix``) whose writing
    process is no longer alive are removed; a concurrent write by a live process is left alone.
    """
    path = Path(path)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return removed
    wanted = path.name + suffix
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or match.group(2) != wanted or pid_alive(int(match.group(1))):
            continue
        stale = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        removed.append(stale)
    return removed


def _make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; returns them, deepest first."""
    made = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        made.append(folder)
        folder = folder.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    return made


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove folders :func:`_make_parents` made that hold nothing (the write failed): a failed
    command leaves no empty folder behind; one that now holds an output stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (the output, or another writer's), or gone already
            return


@contextlib.contextmanager
def _output_errors(path: Path) -> Iterator[None]:
    """An OSError while creating or renaming ``path``'s temporary (no permission, a file where a
    folder is needed, a full disk) is bad output, named in one line."""
    try:
        yield
    except OSError as exc:
        raise AdanError(f"cannot write {path} ({exc.strerror or type(exc).__name__})") from None


def check_output(path: str | os.PathLike, *, folder: bool = False, inputs: dict | None = None,
                 option: str = "output") -> None:
    """AdanError naming ``option`` unless ``path`` can be written as a file (``folder``: a folder)
    without destroying an input; checked before any work, so a long run never ends in a refusal.

    Refused: an empty path; a file output that is an existing folder, a folder output that is an
    existing file; a path under an existing file; a folder that is not writable; and a path that
    is one of ``inputs`` ({what: path or None}), or (``folder``, which is replaced whole) holds one.
    """
    text = "" if path is None else os.fspath(path)
    if not str(text).strip():
        raise AdanError(f"{option} is empty: give a {'folder' if folder else 'file'} to write")
    path = Path(text)
    if path.is_dir() and not folder:
        raise AdanError(f"{option} {path} is a folder: give a file to write")
    if path.exists() and not path.is_dir() and folder:
        raise AdanError(f"{option} {path} is a file: give a folder to write")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise AdanError(f"{option} {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise AdanError(f"{option} {path}: {ancestor} is not writable")
    target = os.path.realpath(path)
    for what, source in (inputs or {}).items():
        if source is None or not str(source).strip():
            continue
        real = os.path.realpath(source)
        if real == target or (folder and real.startswith(target.rstrip(os.sep) + os.sep)):
            held = "is" if real == target else "holds"
            raise AdanError(f"{option} {path} {held} the {what} {source}, which writing it would destroy; "
                            f"write elsewhere")


@contextlib.contextmanager
def staged_files(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside the folder ``path``; when the block succeeds, every
    file written under it moves to the same place under ``path`` (replacing a file there, leaving
    the rest of ``path`` alone), else nothing under ``path`` changes.

    For outputs of several files sharing a folder with other stages' files (the report):
    nothing is moved before every file is complete, and each move is one rename.
    """
    path = Path(path)
    check_output(path, folder=True)
    with _output_errors(path):
        made = _make_parents(path)
        remove_stale_temps(path, ".staged")
        staging = path.parent / _temp_name(path, ".staged")
        staging.mkdir(0o777)
    try:
        yield staging
        moves = [(f, path / f.relative_to(staging)) for f in sorted(staging.rglob("*")) if not f.is_dir()]
        for _, target in moves:
            check_output(target)
        with _output_errors(path):
            for source, target in moves:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(made)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The path already exists as an empty file (mode from the umask); ``suffix`` (default ``.tmp``)
    ends its name, for writers that pick a format by extension.
    """
    path = Path(path)
    suffix = suffix or ".tmp"
    check_output(path)
    with _output_errors(path):
        made = _make_parents(path)
        remove_stale_temps(path, suffix)
        while True:
            tmp_path = path.parent / _temp_name(path, suffix)
            try:
                # O_EXCL with 0o666: the kernel applies the umask, as for any new file
                os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                continue
    try:
        yield tmp_path
        with _output_errors(path):
            os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        _remove_if_empty(made)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    check_output(path, folder=True)
    with _output_errors(path):
        made = _make_parents(path)
        remove_stale_temps(path)
        while True:
            tmp = path.parent / _temp_name(path, "")
            try:
                tmp.mkdir(0o777)  # umask applies
                break
            except FileExistsError:
                continue
    try:
        yield tmp
        with _output_errors(path):
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_if_empty(made)


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path, ".parquet") as tmp:
        df.to_parquet(tmp, index=False)


def _fixed_floats(values: np.ndarray) -> np.ndarray:
    """float64 ``values`` (n,) as text of FLOAT_DIGITS significant digits, object array (NaN kept
    as NaN so the CSV's empty cell stays); a whole number keeps its ``.0``, as pandas writes it."""
    text = np.char.mod(f"%.{FLOAT_DIGITS}g", values)
    whole = np.char.isdigit(np.char.lstrip(text, "-"))
    text = np.where(whole, np.char.add(text, ".0"), text).astype(object)
    text[np.isnan(values)] = np.nan
    return text


def write_csv(df: pd.DataFrame, path: str | os.PathLike, **kwargs) -> None:
    """``df.to_csv`` without the index, atomically.

    float64 columns are written at FLOAT_DIGITS significant digits (values of at most that many
    digits, e.g. tables rounded to 2 decimals, are written exactly as pandas would); other
    columns, float32 included (already at their own precision), as pandas writes them. A
    ``float_format`` given in ``kwargs`` replaces this rule.
    """
    if "float_format" not in kwargs:
        floats = [i for i, dtype in enumerate(df.dtypes) if dtype == np.float64]
        if floats:
            df = df.copy(deep=False)
            for i in floats:  # by position: column names may repeat
                df.isetitem(i, _fixed_floats(df.iloc[:, i].to_numpy()))
    with atomic_path(path, ".csv") as tmp:
        df.to_csv(tmp, index=False, **kwargs)


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(obj, path: str | os.PathLike) -> None:
    write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", path)
