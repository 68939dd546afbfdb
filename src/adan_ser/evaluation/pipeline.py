"""The evaluate stage: align features with the manifest, then cross-validate every classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from adan_ser.classifiers.factory import make_classifier
from adan_ser.classifiers.preprocess import check_finite
from adan_ser.errors import AdanError
from adan_ser.evaluation.loso import folds_for
from adan_ser.evaluation.runner import cross_validate


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
    merged = manifest.merge(features, on="file", how="inner", validate="one_to_one")
    if merged.empty:
        raise AdanError("no manifest row has features")
    X = merged[names].to_numpy(dtype=np.float64)
    check_finite(X, names)
    return merged[list(manifest.columns)].reset_index(drop=True), X, names


def evaluate(
    manifest: pd.DataFrame,
    features: pd.DataFrame,
    scheme: str,
    models: Mapping[str, dict],
    seed: int,
    corpus: str,
    feature_set: str,
    log_dir: Optional[str | Path] = None,
) -> pd.DataFrame:
    """Predictions of every classifier in ``models`` (name → params) on every fold.

    Returns one row per (classifier, test utterance) with the results KEY columns, ``seed``,
    ``fold``, ``file``, ``speaker``, ``true`` and ``pred``.
    """
    rows, X, _ = align(manifest, features)
    y = rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy()
    folds = folds_for(rows, scheme)
    parts = []
    for name, params in models.items():

        def make_model(fold_name, name=name, params=dict(params)):
            if log_dir is not None and name == "dnn":
                params = {**params, "log_dir": str(Path(log_dir) / name / fold_name)}
            return make_classifier(name, params, seed)

        pred = cross_validate(X, y, speakers, folds, make_model, desc=name)
        pred.insert(0, "corpus", corpus)
        pred.insert(1, "feature_set", feature_set)
        pred.insert(2, "method", "none")
        pred.insert(3, "train_data", "real")
        pred.insert(4, "classifier", name)
        pred.insert(5, "head", "softmax" if name == "dnn" else "-")
        pred.insert(6, "seed", seed)
        pred["file"] = rows["file"].to_numpy()[pred["row"]]
        pred["speaker"] = speakers[pred["row"]]
        parts.append(pred.drop(columns="row"))
    return pd.concat(parts, ignore_index=True)


def evaluate_corpus(manifest_path, features_path, **kwargs) -> pd.DataFrame:
    """:func:`evaluate` on the files written by the prepare and extract stages."""
    from adan_ser.features.corpora import load_manifest
    from adan_ser.features.opensmile import load_features

    return evaluate(load_manifest(manifest_path), load_features(features_path), **kwargs)
