"""``adan export``: synthetic feature vectors of one fold (or of a saved model) as a CSV file.

The CSV has openSMILE's column names in feature units, ``emotion`` and ``synthetic`` = 1, so it
can be appended to any real feature table. Same seed → byte-identical file on CPU.

Audio methods (``audio_speed``, ``audio_noise``, ``audio_mix``) perturb the audio of the fold's
training files: ``per_class`` (file, copy) pairs of each emotion are drawn first (a seeded subset
of the training files × as many copies as needed), and only those are perturbed and described.
A perturbed copy depends only on (file, parameters, seed, copy), so its row equals the augment
stage's row for that file and copy under the same run seed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np

from adan_ser.augment.audio.describe import perturb_features
from adan_ser.augment.registry import is_audio_method, make_perturber
from adan_ser.augment.generators.samplers import load_model
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
    audio_root=None,
    feature_set: Optional[str] = None,
    workers: int = 1,
) -> int:
    """Write the CSV; returns the number of synthetic rows.

    With ``model_path``, sample that saved model. Otherwise fit ``method`` on the training rows of
    the fold whose test group is ``fold`` and take ``per_class`` synthetic vectors of each emotion.
    Audio methods need ``audio_root`` (where the manifest's files are) and ``feature_set`` (the
    openSMILE set of ``features_path``); ``workers`` extraction processes.
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
        if is_audio_method(method):
            X_syn, y_syn = _perturbed_subset(rows, y, folds[str(fold)].train, method, params, ratio,
                                             per_class, seed, audio_root, feature_set, names, workers)
            write_csv(synthetic_frame(X_syn, y_syn, names), Path(output))
            return len(y_syn)
        params = {k: v for k, v in dict(params or {}).items() if k not in ("ratio", "n_sets")}
        _, X_syn, y_syn = fit_fold(method, params, seed, ratio, X, y, folds[str(fold)],
                                   groups=rows["speaker"].to_numpy())
        if len(y_syn) == 0:
            raise AdanError(f"method {method!r} produces no synthetic data")
        X_syn, y_syn = take_per_class(np.asarray(X_syn), np.asarray(y_syn).astype(str), per_class, seed)
    write_csv(synthetic_frame(X_syn, y_syn, names), Path(output))
    return len(y_syn)


def _perturbed_subset(rows, y, train, method, params, copies, per_class, seed, audio_root, feature_set,
                      names, workers) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` perturbed copies of each emotion among the ``train`` rows: (X (m, d), y (m,)).

    The (row, copy) pairs are drawn before any audio is touched (:func:`take_per_class` on the
    candidates ``train`` × ``range(copies)``), so only the exported copies are perturbed.
    """
    if feature_set is None:
        raise AdanError(f"augmentation method {method!r} needs the feature set the features were "
                        f"extracted with (features.set)")
    params = {k: v for k, v in dict(params or {}).items() if k != "copies"}
    perturber = make_perturber(method, {**params, "copies": int(copies)}, None)
    candidates = np.array([(r, c) for r in np.asarray(train) for c in range(int(copies))],
                          dtype=np.int64).reshape(-1, 2)
    picked, _ = take_per_class(np.arange(len(candidates)), y[candidates[:, 0]], per_class, seed)
    pairs = candidates[picked]
    perturbed = perturb_features(rows, audio_root, feature_set, perturber, seed, pairs=pairs, workers=workers)
    if perturbed.names != list(names):
        raise AdanError(f"the features table's columns are not openSMILE {feature_set}'s "
                        f"(features.set changed since extract? re-run it)")
    return perturbed.X.astype(np.float64), y[perturbed.rows]
