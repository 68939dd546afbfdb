"""The results schema: what identifies a combination, and the names derived from it.

A *combination* is one row of ``results.csv``: a corpus, feature set, augmentation method, use of its
synthetic rows, classifier and head. Every per-utterance prediction carries the ``KEY`` columns plus
``seed``, ``fold``, ``file``, ``speaker``, ``true``, ``pred``, ``val_uar`` and ``score_<class>``.
"""

from __future__ import annotations

from pathlib import Path

#: One row of results.csv per distinct value of these.
KEY = ["corpus", "feature_set", "method", "train_data", "classifier", "head"]

#: Columns every prediction table has besides ``KEY`` (``score_<class>`` columns follow).
PREDICTION_COLUMNS = ["seed", "fold", "file", "speaker", "true", "pred"]


def safe_name(text: str) -> str:
    """``text`` usable in a file name: ``+`` (as in ``arcface+focal``) becomes ``_plus_``."""
    return str(text).replace("+", "_plus_")


def combination_name(row) -> str:
    """Short name of a combination for metrics keys and plot file names."""
    return safe_name(f"{row['classifier']}-{row['head']}-{row['method']}-{row['train_data']}")


def run_name(method: str, train_data: str) -> str:
    """The training-log folder of one (method, train data) use: ``real`` or ``<method>-<use>``."""
    return "real" if method == "none" else safe_name(f"{method}-{train_data}")


def fit_log_dir(root: str | Path, *parts: str, seed: int, fold: str) -> Path:
    """``root/<part>/.../seed<k>/<fold>``: the dvclive folder of one fold model's training curves."""
    return Path(root).joinpath(*map(safe_name, parts), f"seed{int(seed)}", str(fold))
