"""The results schema: what identifies a combination, and the names derived from it.

A *combination* is one row of ``results.csv``: a corpus, feature set, augmentation method, use of its
synthetic rows, classifier and head. Every per-utterance prediction carries the ``KEY`` columns plus
``seed``, ``fold``, ``file``, ``speaker``, ``true``, ``pred``, ``val_uar`` and ``score_<class>``.

The training fraction (``cv.train_fraction``, the share of each training fold's rows used, see
:func:`adan_ser.contracts.folds.train_subset`) is a key column too, but an *optional* one,
:data:`FRACTION`: a table has it exactly when its run used some fraction other than 1, and a table
without it means fraction 1 on every row. So a run on whole training folds writes the same
predictions, results and file names as before fractions existed, while a learning-curve run
(``[0.25, 0.5, 1.0]``) carries the column on every row, 1.0 included, and every grouping, pairing and
file name then tells its fractions apart. Code that groups by combination takes its columns from
:func:`key_columns`, never from ``KEY`` alone. (A column always present, 1.0 by default, would have
changed every default output; a fraction encoded in the ``train_data`` text would have broken the
pairing of ``real`` rows, which must pair within a fraction.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from adan_ser.contracts.folds import fraction_name
from adan_ser.contracts.names import REFERENCE_METHOD

#: One row of results.csv per distinct value of these (and of FRACTION where a table has it).
KEY = ["corpus", "feature_set", "method", "train_data", "classifier", "head"]

#: The optional key column: share (0, 1] of each training fold's rows the combination trained on.
FRACTION = "train_fraction"


def key_columns(table) -> list[str]:
    """The key columns of ``table`` (a DataFrame or its columns): ``KEY``, then :data:`FRACTION`
    where the table has it."""
    columns = getattr(table, "columns", table)
    return KEY + [FRACTION] if FRACTION in columns else list(KEY)


def fill_fraction(table):
    """``table`` with :data:`FRACTION` 1.0 where it is missing (rows pooled from a run without the
    column, e.g. the spectrogram stage's); unchanged when it has no such column."""
    if FRACTION not in table.columns or not table[FRACTION].isna().any():
        return table
    return table.assign(**{FRACTION: table[FRACTION].fillna(1.0).astype(float)})


def fraction_suffix(row) -> str:
    """``-fraction0.25`` for a row of a fraction other than 1; empty for fraction 1 or no column."""
    value = row.get(FRACTION) if hasattr(row, "get") else None
    if value is None or value != value or float(value) == 1.0:
        return ""
    return "-" + fraction_name(value)


@dataclass(frozen=True)
class Combination:
    """The key columns of one combination, as a record: what a results row and each of its fold
    jobs are made for.

    ``method`` is the name results give the augmentation method (its label, e.g. ``adan[validated]``;
    :data:`~adan_ser.contracts.names.REFERENCE_METHOD` for real data alone). ``fraction``: the
    training fraction, or None for a table without the :data:`FRACTION` column (a run on whole
    training folds only).
    """

    corpus: str
    feature_set: str
    method: str
    train_data: str
    classifier: str
    head: str
    fraction: Optional[float] = None

    def columns(self) -> dict:
        """``{column: value}`` in table order: ``KEY``, then :data:`FRACTION` when it is set."""
        values = {column: getattr(self, column) for column in KEY}
        return values if self.fraction is None else {**values, FRACTION: self.fraction}

    @property
    def name(self) -> str:
        """:func:`combination_name` of this combination."""
        return combination_name(self.columns())


def safe_name(text: str) -> str:
    """``text`` usable in a file name: ``+`` (as in ``arcface+focal``) becomes ``_plus_``."""
    return str(text).replace("+", "_plus_")


def combination_name(row) -> str:
    """Short name of a combination for metrics keys and plot file names; a training fraction other
    than 1 adds ``-fraction<f>``, so fraction-1 names are the same in every run."""
    return safe_name(f"{row['classifier']}-{row['head']}-{row['method']}-{row['train_data']}"
                     f"{fraction_suffix(row)}")


def run_name(method: str, train_data: str) -> str:
    """The training-log folder of one (method, train data) use: ``real`` or ``<method>-<use>``."""
    return "real" if method == REFERENCE_METHOD else safe_name(f"{method}-{train_data}")


def fit_log_dir(root: str | Path, *parts: str, seed: int, fold: str) -> Path:
    """``root/<part>/.../seed<k>/<fold>``: the dvclive folder of one fold model's training curves."""
    return Path(root).joinpath(*map(safe_name, parts), f"seed{int(seed)}", str(fold))
