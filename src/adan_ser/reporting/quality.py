"""The augment stages' quality tables in the report: reading each stage's quality.csv, and the
per-method summary of ``metrics.json`` and results.md."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.core.errors import AdanError, one_line
from adan_ser.reporting.metrics import scores
from adan_ser.contracts.names import REFERENCE_METHOD

#: What a quality.csv of the augment stage holds at least, and its columns that must be numbers.
QUALITY_COLUMNS = ("seed", "fold", "method")
QUALITY_MEASURES = ("two_sample_acc", "nn_ratio", "copies_pct", "spread_ratio", "n_synthetic")


def read_quality(path: Path) -> pd.DataFrame:
    """One augment stage's quality.csv; a file that is not one is an error naming it, rather than a
    table that silently leaves the report."""
    try:
        table = pd.read_csv(path)
    except Exception as exc:  # pandas' parser errors share no base class with its decode errors
        raise AdanError(f"cannot read {path} ({one_line(exc)})") from None
    missing = [c for c in QUALITY_COLUMNS if c not in table]
    if missing:
        raise AdanError(f"{path} is not an augment quality table: no column {missing[0]!r}")
    for column in QUALITY_MEASURES:
        if column in table and not pd.api.types.is_numeric_dtype(table[column]):
            raise AdanError(f"{path}: column {column!r} holds text, not numbers (line "
                            f"{int(pd.to_numeric(table[column], errors='coerce').isna().to_numpy().argmax()) + 2})")
    return table


def quality_summary(quality: pd.DataFrame, predictions: pd.DataFrame, classes: Sequence[str]) -> dict:
    """Per method: mean over seeds × folds of the synthetic-data quality measures, and train-on-synthetic /
    test-on-real UAR of each classifier (the ``synthetic`` train-data rows). Of a learning-curve
    run, both at its largest training fraction only."""
    quality, predictions = _largest_fraction(quality), _largest_fraction(predictions)
    out = {}
    evaluated = set(predictions["method"]) - {REFERENCE_METHOD}
    for method, part in quality[quality["method"].isin(evaluated)].groupby("method"):
        entry = {k: round(float(part[k].mean()), 2) for k in ("two_sample_acc", "nn_ratio", "copies_pct", "spread_ratio") if k in part}
        tstr = predictions[(predictions["method"] == method) & (predictions["train_data"] == "synthetic")]
        for clf, p in tstr.groupby("classifier"):
            entry[f"tstr_uar_{clf}"] = round(scores(p["true"], p["pred"], classes)["uar"], 2)
        out[method] = entry
    return out


def _largest_fraction(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` at its largest ``train_fraction``; all of them without that column."""
    if FRACTION not in table:
        return table
    return table[table[FRACTION] == table[FRACTION].max()]
