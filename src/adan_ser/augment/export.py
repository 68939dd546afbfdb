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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np

from adan_ser.augment.audio.describe import perturb_features
from adan_ser.augment.generators.samplers import load_model
from adan_ser.augment.registry import is_audio_method, make_perturber, method_label
from adan_ser.augment.stage import fit_fold
from adan_ser.contracts.align import align
from adan_ser.contracts.plan import Plan, PlanSettings
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


@dataclass(frozen=True)
class ExportSettings:
    """What ``adan export`` fits and samples.

    ``method``: the augmentation method fitted on the fold, with ``params`` (its ``augment.<method>``
    block); ``fold``: the test group of the fold whose training rows it learns from; ``per_class``
    synthetic vectors of each emotion; ``seed`` seeds the augmenter and the subset. ``scheme`` and
    ``train_downsample``: ``cv.scheme`` and ``cv.train_downsample`` (the folds). Audio methods also
    need ``audio_root`` and ``feature_set`` and extract in ``workers`` processes (see
    :class:`~adan_ser.augment.stage.AugmentSettings`).
    """

    method: str = "adan"
    fold: Optional[str] = None
    per_class: int = 100
    seed: int = 0
    params: Mapping = field(default_factory=dict)
    scheme: str = "leave-one-speaker-out"
    train_downsample: Optional[Mapping] = None
    audio_root: Optional[Union[str, Path]] = None
    feature_set: Optional[str] = None
    workers: int = 1

    @property
    def label(self) -> str:
        """The name the exported method is reported by (:func:`~adan_ser.augment.registry.method_label`)."""
        return method_label(self.method, dict(self.params))


def export_csv(output, settings: ExportSettings, model_path=None, manifest_path=None, features_path=None) -> int:
    """Write the CSV; returns the number of synthetic rows.

    With ``model_path``, sample that saved model (``settings.per_class`` and ``seed`` only).
    Otherwise fit ``settings.method`` on the augmenter's training rows of the fold whose test group
    is ``settings.fold`` (the job of that fold in :class:`~adan_ser.contracts.plan.Plan`, one seed,
    fraction 1, no validation speakers held out) and take ``per_class`` synthetic vectors of each
    emotion. Audio methods need ``audio_root`` (where the manifest's files are) and ``feature_set``
    (the openSMILE set of ``features_path``).
    """
    per_class, seed, method = settings.per_class, settings.seed, settings.method
    if per_class < 1:
        raise AdanError(f"--per-class must be at least 1, got {per_class}")
    if model_path is not None:
        X_syn, y_syn, names = sample_saved_model(model_path, per_class, seed)
    else:
        from adan_ser.contracts.align import load_features
        from adan_ser.contracts.manifest import load_manifest

        if settings.fold is None:
            raise AdanError("export needs --fold (the held-out group) or --model")
        rows, X, names = align(load_manifest(manifest_path), load_features(features_path))
        y = rows["emotion"].to_numpy().astype(str)
        plan = Plan(rows, PlanSettings(settings.scheme, seeds=seed, train_downsample=settings.train_downsample))
        train = plan.job(settings.fold).augmenter
        train_counts = np.unique(y[train.train], return_counts=True)[1]
        # enough synthetic rows of every class, then a seeded subset of per_class each
        ratio = float(max(1, math.ceil(per_class / train_counts.min())))
        if is_audio_method(method):
            X_syn, y_syn = _perturbed_subset(rows, y, train.train, names, settings, ratio)
            write_csv(synthetic_frame(X_syn, y_syn, names), Path(output))
            return len(y_syn)
        params = {k: v for k, v in dict(settings.params).items() if k not in ("ratio", "n_sets")}
        _, X_syn, y_syn = fit_fold(method, params, seed, ratio, X, y, train, groups=rows["speaker"].to_numpy())
        if len(y_syn) == 0:
            raise AdanError(f"method {settings.label!r} produces no synthetic data")
        X_syn, y_syn = take_per_class(np.asarray(X_syn), np.asarray(y_syn).astype(str), per_class, seed)
    write_csv(synthetic_frame(X_syn, y_syn, names), Path(output))
    return len(y_syn)


def _perturbed_subset(rows, y, train, names, settings: ExportSettings, copies) -> tuple[np.ndarray, np.ndarray]:
    """``settings.per_class`` perturbed copies of each emotion among the ``train`` rows: (X (m, d), y (m,)).

    The (row, copy) pairs are drawn before any audio is touched (:func:`take_per_class` on the
    candidates ``train`` × ``range(copies)``), so only the exported copies are perturbed.
    """
    method, feature_set, seed = settings.method, settings.feature_set, settings.seed
    if feature_set is None:
        raise AdanError(f"augmentation method {method!r} needs the feature set the features were "
                        f"extracted with (features.set)")
    params = {k: v for k, v in dict(settings.params).items() if k != "copies"}
    perturber = make_perturber(method, {**params, "copies": int(copies)}, None)
    candidates = np.array([(r, c) for r in np.asarray(train) for c in range(int(copies))],
                          dtype=np.int64).reshape(-1, 2)
    picked, _ = take_per_class(np.arange(len(candidates)), y[candidates[:, 0]], settings.per_class, seed)
    pairs = candidates[picked]
    perturbed = perturb_features(rows, settings.audio_root, feature_set, perturber, seed, pairs=pairs,
                                 workers=settings.workers)
    if perturbed.names != list(names):
        raise AdanError(f"the features table's columns are not openSMILE {feature_set}'s "
                        f"(features.set changed since extract? re-run it)")
    return perturbed.X.astype(np.float64), y[perturbed.rows]
