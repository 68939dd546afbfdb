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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The path already exists as an empty file (mode from the umask); ``suffix`` (default ``.tmp``)
    ends its name, for writers that pick a format by extension.
    """
    path = Path(path)
    suffix = suffix or ".tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
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
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
