"""The augment stage: one synthetic set per fold, learnt from that fold's training rows only.

Every augmenter is stochastic, so it runs once per run seed (``eval.seeds``), each run seeded by that
seed alone. Layout of ``out_dir`` (one folder per method, a DVC output):
``seed<k>/<fold>.parquet`` — feature columns (openSMILE names, feature units), ``emotion``, ``synthetic`` = 1;
``seed<k>/<fold>.pt`` — the fitted ADAN of that seed and fold (latent methods only), for ``adan export --model``;

Reports go to ``report_dir`` (a results folder, kept in git, the stage's alone): ``quality.csv``
(quality measures per seed × fold, see :mod:`adan_ser.augment.quality`), ``seed<k>/<fold>/`` dvclive
training curves of latent methods, and t-SNE pictures of the first seed's first fold
(``tsne_feature.png``, ``tsne_latent.png``).

Both folders are assembled under temporary names and renamed at the end, so a failure anywhere
leaves the previous outputs (or nothing) in place, never a half-written report.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from adan_ser.augment.quality import quality
from adan_ser.augment.registry import make_sampler
from adan_ser.contracts.align import align
from adan_ser.contracts.folds import Fold, augmenter_train, folds_for
from adan_ser.contracts.synthetic import seed_dir, synthetic_frame
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir, write_csv, write_parquet
from adan_ser.core.scheduler import run_tasks
from adan_ser.core.seeds import as_seeds

LATENT_METHODS = ("adan", "adan_separate")


def fit_fold(method, params, seed, ratio, X, y, fold: Fold, log_dir=None):
    """Fit ``method`` on the training rows of ``fold``; returns (sampler, X_syn, y_syn).

    A bad fold (e.g. a class too small for SMOTE's neighbours) → :class:`AdanError` that names the
    fold and seed first: ``"fold 03, seed 0: SMOTESampler: class 'x' has 2 training rows, ..."``.
    """
    params = dict(params or {})
    if log_dir is not None and method in LATENT_METHODS:
        params["log_dir"] = str(Path(log_dir) / fold.name)
    sampler = make_sampler(method, params, seed=seed, ratio=ratio)
    if sampler is None:
        return None, np.empty((0, X.shape[1])), np.empty(0, dtype=y.dtype)
    try:
        X_syn, y_syn = sampler.generate(X[fold.train], y[fold.train])
    except AdanError as exc:
        raise AdanError(f"fold {fold.name}, seed {seed}: {exc}") from None
    return sampler, X_syn, y_syn


def augment_folds(
    manifest: pd.DataFrame,
    features: pd.DataFrame,
    scheme: str,
    method: str,
    params: dict,
    seeds: int | Sequence[int],
    ratio: Optional[float],
    out_dir: str | Path,
    report_dir: Optional[str | Path] = None,
    progress: bool = True,
    train_downsample: Optional[dict] = None,
    scheduler: Optional[str] = None,
    validation_speakers: int = 0,
) -> pd.DataFrame:
    """Write one synthetic set per seed × fold of ``scheme`` into ``out_dir``; returns the quality table.

    ``validation_speakers``: how many training speakers of each fold the DNN holds out for early
    stopping (``classify.dnn.val_groups``); each seed's augmenter is fitted without exactly those
    speakers (:func:`~adan_ser.contracts.folds.augmenter_train`), so validation never meets data
    generated from the validation speakers. Every classifier uses the same sets.

    ``seeds``: the run seeds (an int is one); each seed's sets come from that seed alone.
    ``train_downsample``: ``cv.train_downsample`` (the imbalanced setting); the augmenter then sees
    the same reduced training rows as the classifiers of the evaluate stage.
    ``scheduler``: None or ``"local"`` fits the seed × fold sets here one after the other; a Dask
    address (``cv.scheduler``) fits them as independent tasks on its workers, each task getting its
    fold's training rows only. Each set is seeded by its run seed alone, so both write the same
    sets, bit for bit when torch runs on as many threads here as on a worker (Dask workers run
    one: set ``OMP_NUM_THREADS=1``); thread counts change ADAN's float summation order.
    Training curves (``report_dir``) are written by the worker, so a remote cluster needs a shared
    filesystem for them; quality measures are computed beside each fit; the sets, quality table
    and pictures are written here.

    ``out_dir`` and ``report_dir`` are each assembled under a temporary name and renamed only when
    every fold has succeeded, so a failure leaves the previous outputs (or nothing) in place.
    """
    rows, X, names = align(manifest, features)
    y = rows["emotion"].to_numpy()
    report = atomic_dir(report_dir) if report_dir is not None else contextlib.nullcontext(None)
    # The report folder is the inner one: it is renamed first, and only if the sets are complete.
    with atomic_dir(out_dir) as tmp, report as tmp_report:
        records = []
        seeds = as_seeds(seeds)
        folds = folds_for(rows, scheme, train_downsample)
        speakers = rows["speaker"].to_numpy()
        jobs = [(seed, augmenter_train(fold, speakers, validation_speakers, seed))
                for seed in seeds for fold in folds]

        def task(seed, fold):
            logs = None if tmp_report is None else seed_dir(tmp_report, seed)
            return method, params, seed, ratio, X[fold.train], y[fold.train], fold.name, logs

        fitted = run_tasks(_fit_and_measure, (task(seed, fold) for seed, fold in jobs), scheduler,
                           desc=f"augment {method}", progress=progress, total=len(jobs))
        for i, ((seed, fold), (sampler, X_syn, y_syn, measures)) in enumerate(zip(jobs, fitted)):
            write_parquet(synthetic_frame(X_syn, y_syn, names), seed_dir(tmp, seed) / f"{fold.name}.parquet")
            model = getattr(sampler, "adan_", None)
            fitted_on = np.unique(speakers[fold.train])
            records.append({"seed": seed, "fold": fold.name, "method": method,
                            "fitted_speakers": " ".join(fitted_on), **measures})
            if i == 0 and tmp_report is not None and len(y_syn):
                _pictures(tmp_report, method, fold, X, y, X_syn, y_syn, model, seed)
            if model is not None:
                # the model was fitted on arrays; the saved file carries the openSMILE names for export
                model.feature_names_in_ = np.asarray(names, dtype=object)
                model.save(seed_dir(tmp, seed) / f"{fold.name}.pt")
        table = pd.DataFrame(records)
        if tmp_report is not None:
            write_csv(table, tmp_report / "quality.csv")
    return table


def _fit_and_measure(method, params, seed, ratio, X_train, y_train, fold_name, log_dir):
    """Fit one fold's augmenter on its training rows only and measure its synthetic set.

    ``X_train`` (n, d), ``y_train`` (n,): the fold's training rows. Returns
    ``(sampler, X_syn, y_syn, quality measures)``; the unit of work here and on a Dask worker.
    """
    fold = Fold(fold_name, np.arange(len(y_train)), np.empty(0, dtype=int))
    sampler, X_syn, y_syn = fit_fold(method, params, seed, ratio, X_train, y_train, fold, log_dir)
    return sampler, X_syn, y_syn, quality(X_train, X_syn, seed, y_train, y_syn)


def _pictures(report_dir: Path, method, fold, X, y, X_syn, y_syn, model, seed) -> None:
    """t-SNE of real training vs synthetic vectors, in feature space and (latent methods) latent space."""
    from adan_ser.augment.tsne import tsne_plot

    Xr, yr = X[fold.train], y[fold.train]
    tsne_plot(Xr, yr, X_syn, y_syn, report_dir / "tsne_feature.png",
              f"{method}, fold {fold.name}: feature space", seed)
    if model is not None:
        tsne_plot(model.transform(Xr), yr, model.transform(X_syn), y_syn, report_dir / "tsne_latent.png",
                  f"{method}, fold {fold.name}: latent space", seed)


