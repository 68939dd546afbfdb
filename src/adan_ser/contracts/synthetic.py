"""The synthetic-set store: where the augment stage puts each seed × fold set, and how it is read.

Layout of one method's folder (a DVC output, e.g. ``data/synthetic/smote``):
``seed<k>/<fold>.parquet``: feature columns (openSMILE names, feature units), ``emotion``,
``synthetic`` = 1, and for the synthetic-speaker methods (``audio_voice``, ``audio_vtlp``, ``speaker_*``, ``adan_speaker``)
``synthetic_speaker``, the id of the synthetic speaker each row belongs to (never a real speaker's;
sets without it read as before); ``seed<k>/<fold>.pt``: the fitted latent model of that seed and fold, if any.
Those are the sets learnt from whole training folds (``cv.train_fraction`` 1). A set learnt from a
share f < 1 of them (:func:`adan_ser.contracts.folds.train_subset`) lies one level down, in
``fraction<f>/seed<k>/`` (e.g. ``fraction0.25/seed0/03.parquet``), so a run with fraction 1 alone
writes exactly the folders it wrote before fractions existed.

A method run under a preset that swaps its algorithm (``augment.adan.preset: validated``) is reported
under another name than its folder's, e.g. ``adan[validated]``: the folder then holds ``label.txt``,
that name and a newline (:func:`write_label`), and the evaluate stage writes it in the ``method``
column (:func:`read_label`). A folder without the file is reported under its own name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from adan_ser.contracts.folds import fraction_name
from adan_ser.core.errors import AdanError

#: Columns of a method's quality.csv (augment stage) measured on the fold's inner-validation speakers:
#: UAR (%) of a linear SVM trained on the synthetic set, on the augmenter's real rows, and on both;
#: written by :func:`adan_ser.augment.measures.diagnostics.validation_measures`, read by the report's
#: augmenter choice (:mod:`adan_ser.reporting.augmenter_choice`).
VALIDATION_COLUMNS = ("val_synth_svm_uar", "val_real_svm_uar", "val_mixed_svm_uar")

#: Column of the synthetic speaker id of each row (synthetic-speaker methods only).
SPEAKER_COLUMN = "synthetic_speaker"

#: File of a method's folder naming the method as results report it, when that is not the folder's name.
LABEL_FILE = "label.txt"


def write_label(out_dir: str | Path, label: str) -> None:
    """Record ``label``, the name results give the sets of ``out_dir``, beside them."""
    (Path(out_dir) / LABEL_FILE).write_text(f"{label}\n", encoding="utf-8")


def read_label(out_dir: str | Path, default: str) -> str:
    """The name results give the sets of ``out_dir``: its :data:`LABEL_FILE`, else ``default``
    (the method the folder is named after)."""
    path = Path(out_dir) / LABEL_FILE
    if not path.is_file():
        return default
    label = path.read_text(encoding="utf-8").strip()
    if not label:
        raise AdanError(f"{path} is empty; it should name the method (re-run the augment stage)")
    return label


def synthetic_frame(X_syn: np.ndarray, y_syn: np.ndarray, feature_names: list[str],
                    speakers: Optional[np.ndarray] = None) -> pd.DataFrame:
    """(m, d) synthetic vectors → the exported table: features, ``emotion``, ``synthetic`` = 1, and
    ``synthetic_speaker`` when ``speakers`` (m,) gives each row's synthetic speaker id."""
    df = pd.DataFrame(np.asarray(X_syn, dtype=np.float64), columns=feature_names)
    df["emotion"] = np.asarray(y_syn).astype(str)
    df["synthetic"] = 1
    if speakers is not None:
        df[SPEAKER_COLUMN] = np.asarray(speakers).astype(str)
    return df


def seed_dir(out_dir: str | Path, seed: int, fraction: float = 1.0) -> Path:
    """The sub-folder of one run seed: ``out_dir/seed<k>``, or ``out_dir/fraction<f>/seed<k>`` for
    sets learnt from a training fraction f < 1."""
    base = Path(out_dir) if float(fraction) == 1.0 else Path(out_dir) / fraction_name(fraction)
    return base / f"seed{int(seed)}"


def load_synthetic(
    out_dir: str | Path, fold: str, feature_names: list[str], seed: Optional[int] = None,
    fraction: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(X_syn (m, d), y_syn (m,)) of one seed's fold, columns in ``feature_names`` order.

    ``seed`` None reads ``out_dir/<fold>.parquet`` (a folder holding one set, e.g. one seed's);
    ``fraction``: the training fraction the set was learnt from (see :func:`seed_dir`).
    """
    base = Path(out_dir) if seed is None else seed_dir(out_dir, seed, fraction)
    path = base / f"{fold}.parquet"
    if not path.is_file():
        raise AdanError(f"synthetic set not found: {path} (re-run the augment stage)")
    df = pd.read_parquet(path)
    missing = [c for c in feature_names if c not in df.columns]
    if missing:
        raise AdanError(f"synthetic set {path} lacks feature {missing[0]!r} (made from other features?)")
    return df[feature_names].to_numpy(dtype=np.float64), df["emotion"].to_numpy().astype(str)


def load_synthetic_speakers(
    out_dir: str | Path, fold: str, seed: Optional[int] = None, fraction: float = 1.0,
) -> Optional[np.ndarray]:
    """(m,) str synthetic speaker ids of one seed's fold, in the row order of :func:`load_synthetic`;
    None for a set without them (feature-space methods, per-file audio perturbations, older sets)."""
    base = Path(out_dir) if seed is None else seed_dir(out_dir, seed, fraction)
    path = base / f"{fold}.parquet"
    if not path.is_file():
        raise AdanError(f"synthetic set not found: {path} (re-run the augment stage)")
    import pyarrow.parquet as pq

    if SPEAKER_COLUMN not in pq.read_schema(path).names:
        return None
    return pd.read_parquet(path, columns=[SPEAKER_COLUMN])[SPEAKER_COLUMN].to_numpy().astype(str)
