"""Per-utterance predictions on disk: ``results/predictions/``, one parquet file per combination × seed.

Each file holds the results key columns (``KEY``, and ``train_fraction`` where the run used a
training fraction other than 1, see :mod:`adan_ser.contracts.results`), ``seed``, ``fold``, ``file``, ``speaker``, ``true``, ``pred``
and one ``score_<class>`` column per class (the classifier's ``decision_function``), so every
figure of the report can be recomputed without training again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from adan_ser.contracts.results import combination_name, fill_fraction, key_columns
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir

#: Columns every predictions file has (besides the key columns).
REQUIRED = ["seed", "fold", "file", "true", "pred"]


def file_name(order: int, row) -> str:
    """``<order>-<classifier>-<head>-<method>-<train_data>[-fraction<f>]-seed<k>.parquet``; ``order`` (3 digits)
    numbers the combinations as evaluate produced them, so reading the files back in name order
    keeps the table's row order."""
    return f"{order:03d}-{combination_name(row)}-seed{int(row['seed'])}.parquet"


def write_predictions(predictions: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write one parquet file per combination × seed into ``out_dir`` (replaced as a whole)."""
    cols = key_columns(predictions)
    missing = [c for c in cols + REQUIRED if c not in predictions.columns]
    if missing:
        raise AdanError(f"predictions lack column {missing[0]!r}")
    written = []
    order = {k: i for i, k in enumerate(predictions.groupby(cols, sort=False).groups)}
    with atomic_dir(out_dir) as tmp:
        for key, part in predictions.groupby(cols + ["seed"], sort=False):
            name = file_name(order[tuple(key[:-1])], part.iloc[0])
            part.reset_index(drop=True).to_parquet(tmp / name, index=False)
            written.append(Path(out_dir) / name)
    return written


def _read(path: Path) -> pd.DataFrame:
    """One predictions file; not parquet, or a required column missing → AdanError naming the file."""
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise AdanError(f"{path}: not a predictions parquet file ({type(exc).__name__})") from None
    missing = [c for c in key_columns(table) + REQUIRED if c not in table.columns]
    if missing:
        raise AdanError(f"{path}: not a predictions file, it lacks column {missing[0]!r}")
    return table


def load_predictions(path: str | Path) -> pd.DataFrame:
    """All predictions under ``path`` (a folder of parquet files, or one parquet file) as one table;
    a file that is not one of evaluate's → AdanError naming it and what it lacks."""
    path = Path(path)
    if path.is_file():
        return fill_fraction(_read(path))
    files = sorted(path.glob("*.parquet")) if path.is_dir() else []
    if not files:
        raise AdanError(f"predictions not found: {path} (run the evaluate stage)")
    return fill_fraction(pd.concat([_read(f) for f in files], ignore_index=True))


def load_all(paths) -> pd.DataFrame:
    """The predictions under every path of ``paths`` (each as :func:`load_predictions` reads it)
    pooled into one table; an empty table (evaluate-spectro without models) adds no rows."""
    tables = [load_predictions(path) for path in paths]
    tables = [t for t in tables if len(t)] or tables[:1]
    return fill_fraction(pd.concat(tables, ignore_index=True))
