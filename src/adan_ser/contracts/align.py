"""Feature tables: reading one back, and meeting the manifest (rows in manifest order, as a finite
float matrix)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from adan_ser.core.errors import AdanError, one_line


def check_finite(X, names: Optional[Sequence[str]] = None, what: str = "features") -> np.ndarray:
    """Return X as a float (n_samples, n_features) array; AdanError if it holds NaN or ±inf.

    The message names the first (lowest-index) offending column, by ``names[j]`` when given
    (or the DataFrame's column names), else by its index, and the first row where it happens.
    """
    if names is None and hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AdanError(f"{what}: not numeric ({exc})") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise AdanError(f"{what}: expected a 2-D (samples, features) array, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, col])
        label = f"{names[col]!r} (index {col})" if names is not None else f"index {col}"
        raise AdanError(
            f"{what}: column {label} has {len(rows)} NaN/inf value(s), first at row {int(rows[0])}"
        )
    return arr



def align(manifest: pd.DataFrame, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Manifest rows that have features, and their (n, d) float matrix in the same order.

    Rows dropped by ``extract --skip-bad`` are dropped here too; a feature row whose file is not in
    the manifest means the two files come from different runs, which is an error.
    """
    if "file" not in features.columns:
        raise AdanError("features table has no 'file' column")
    names = [c for c in features.columns if c != "file"]
    unknown = set(features["file"]) - set(manifest["file"])
    if unknown:
        raise AdanError(f"features hold a file the manifest lacks: {sorted(unknown)[0]} (re-run extract)")
    twice = features["file"].duplicated().to_numpy()
    if twice.any():
        row = int(twice.argmax())
        file = features["file"].iloc[row]
        first = int((features["file"] == file).to_numpy().argmax())
        raise AdanError(f"features hold file {file!r} twice (rows {first} and {row}; re-run extract)")
    merged = manifest.merge(features, on="file", how="inner", validate="one_to_one")
    if merged.empty:
        raise AdanError("no manifest row has features")
    missing = len(manifest) - len(merged)
    if missing:
        absent = manifest.loc[~manifest["file"].isin(features["file"]), "file"].iloc[0]
        warnings.warn(f"{missing} of {len(manifest)} manifest rows have no features (first {absent!r}: "
                      f"skipped by extract --skip-bad?); they are left out", stacklevel=2)
    X = merged[names].to_numpy(dtype=np.float64)
    check_finite(X, names)
    classes = merged["emotion"].unique() if "emotion" in merged else None
    if classes is not None and len(classes) < 2:
        raise AdanError(f"the manifest rows with features hold one emotion ({classes[0]!r}); "
                        "recognising emotions needs two or more")
    if len(X) > 1 and X.shape[1] and not (X != X[0]).any():
        raise AdanError(f"every feature is constant over the {len(X)} rows (features of identical or "
                        "silent audio?): nothing to learn from")
    return merged[list(manifest.columns)].reset_index(drop=True), X, names


def load_features(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`adan_ser.features.opensmile.write_features`: ``(N, 1 + D)``, ``file`` then numbers.

    Raises AdanError naming ``path`` if it is missing, unreadable, lacks ``file``, or has
    a non-numeric column other than ``file``.
    """
    path = Path(path)
    if not path.is_file():
        raise AdanError(f"{path}: feature file not found")
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise AdanError(f"{path}: unreadable parquet ({one_line(exc)})") from None
    if "file" not in table.columns:
        raise AdanError(f"{path}: no 'file' column")
    non_numeric = [
        str(c) for c in table.columns
        if c != "file" and not pd.api.types.is_numeric_dtype(table[c])
    ]
    if non_numeric:
        shown = ", ".join(non_numeric[:5]) + (" ..." if len(non_numeric) > 5 else "")
        raise AdanError(f"{path}: non-numeric feature column(s): {shown}")
    return table
