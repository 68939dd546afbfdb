"""``adan export``: synthetic feature vectors of one fold (or of a saved model) as a CSV file.

The CSV has openSMILE's column names in feature units, ``emotion`` and ``synthetic`` = 1, so it
can be appended to any real feature table. Same seed → byte-identical file on CPU.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np

from adan_ser.augment.samplers import load_model
from adan_ser.augment.stage import fit_fold
from adan_ser.contracts.align import align
from adan_ser.contracts.folds import folds_for
from adan_ser.contracts.synthetic import synthetic_frame
from adan_ser.core.errors import AdanError
from adan_ser.core.io import write_csv


def take_per_class(X: np.ndarray, y: np.ndarray, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``per_class`` rows of each label (a seeded random subset), labels in sorted order."""
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        keep.append(np.sort(rng.choice(idx, min(per_class, len(idx)), replace=False)))
    keep = np.concatenate(keep) if keep else np.empty(0, dtype=int)
    return X[keep], y[keep]


def sample_saved_model(model_path, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    model = load_model(model_path)
    counts = {c: per_class for c in model.classes_}
    X_syn, y_syn = model.sample(counts=counts, seed=seed)
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = [f"f{i}" for i in range(X_syn.shape[1])]
    return X_syn, y_syn, list(names)


def export_csv(
    output,
    method: str,
    fold: Optional[str],
    per_class: int,
    seed: int,
    model_path=None,
    manifest_path=None,
    features_path=None,
    scheme: str = "leave-one-speaker-out",
    params: Optional[dict] = None,
    train_downsample: Optional[dict] = None,
) -> int:
    """Write the CSV; returns the number of synthetic rows.

    With ``model_path``, sample that saved model. Otherwise fit ``method`` on the training rows of
    the fold whose test group is ``fold`` and take ``per_class`` synthetic vectors of each emotion.
    """
    if per_class < 1:
        raise AdanError(f"--per-class must be at least 1, got {per_class}")
    if model_path is not None:
        X_syn, y_syn, names = sample_saved_model(model_path, per_class, seed)
    else:
        from adan_ser.contracts.align import load_features
        from adan_ser.contracts.manifest import load_manifest

        if fold is None:
            raise AdanError("export needs --fold (the held-out group) or --model")
        rows, X, names = align(load_manifest(manifest_path), load_features(features_path))
        y = rows["emotion"].to_numpy().astype(str)
        folds = {f.name: f for f in folds_for(rows, scheme, train_downsample)}
        if str(fold) not in folds:
            raise AdanError(f"unknown fold {fold!r}; folds: {', '.join(folds)}")
        train_counts = np.unique(y[folds[str(fold)].train], return_counts=True)[1]
        # enough synthetic rows of every class, then a seeded subset of per_class each
        ratio = float(max(1, math.ceil(per_class / train_counts.min())))
        params = {k: v for k, v in dict(params or {}).items() if k not in ("ratio", "n_sets")}
        _, X_syn, y_syn = fit_fold(method, params, seed, ratio, X, y, folds[str(fold)])
        if len(y_syn) == 0:
            raise AdanError(f"method {method!r} produces no synthetic data")
        X_syn, y_syn = take_per_class(np.asarray(X_syn), np.asarray(y_syn).astype(str), per_class, seed)
    write_csv(synthetic_frame(X_syn, y_syn, names), Path(output))
    return len(y_syn)
