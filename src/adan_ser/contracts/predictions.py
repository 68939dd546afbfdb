"""Per-utterance predictions on disk: ``results/predictions/``, one parquet file per combination × seed.

Each file holds the results KEY columns, ``seed``, ``fold``, ``file``, ``speaker``, ``true``, ``pred``
and one ``score_<class>`` column per class (the classifier's ``decision_function``), so every
figure of the report can be recomputed without training again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from adan_ser.contracts.results import KEY, combination_name
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir


def file_name(order: int, row) -> str:
    """``<order>-<classifier>-<head>-<method>-<train_data>-seed<k>.parquet``; ``order`` (3 digits)
    numbers the combinations as evaluate produced them, so reading the files back in name order
    keeps the table's row order."""
    return f"{order:03d}-{combination_name(row)}-seed{int(row['seed'])}.parquet"


def write_predictions(predictions: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write one parquet file per combination × seed into ``out_dir`` (replaced as a whole)."""
    missing = [c for c in KEY + ["seed", "fold", "file", "true", "pred"] if c not in predictions.columns]
    if missing:
        raise AdanError(f"predictions lack column {missing[0]!r}")
    written = []
    order = {key: i for i, key in enumerate(predictions.groupby(KEY, sort=False).groups)}
    with atomic_dir(out_dir) as tmp:
        for key, part in predictions.groupby(KEY + ["seed"], sort=False):
            name = file_name(order[tuple(key[:-1])], part.iloc[0])
            part.reset_index(drop=True).to_parquet(tmp / name, index=False)
            written.append(Path(out_dir) / name)
    return written


def load_predictions(path: str | Path) -> pd.DataFrame:
    """All predictions under ``path`` (a folder of parquet files, or one parquet file) as one table."""
    path = Path(path)
    if path.is_file():
        return pd.read_parquet(path)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else []
    if not files:
        raise AdanError(f"predictions not found: {path} (run the evaluate stage)")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
