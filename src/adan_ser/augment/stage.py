"""The augment stage: one synthetic set per fold, learnt from that fold's training rows only.

Every augmenter is stochastic, so it runs once per run seed (``eval.seeds``), each run seeded by that
seed alone. Layout of ``out_dir`` (one folder per method, a DVC output):
``seed<k>/<fold>.parquet`` — feature columns (openSMILE names, feature units), ``emotion``, ``synthetic`` = 1;
``seed<k>/<fold>.pt`` — the fitted ADAN of that seed and fold (latent methods only), for ``adan export --model``;
``label.txt`` — the name results give the method, only where a preset swaps its algorithm
(``adan[validated]``, see :func:`~adan_ser.augment.registry.method_label`); the folder keeps the method's name.

Reports go to ``report_dir`` (a results folder, kept in git, the stage's alone): ``quality.csv``
(quality measures per seed × fold, see :mod:`adan_ser.augment.measures.quality`; latent methods add the
collapse diagnostics of :mod:`adan_ser.augment.measures.diagnostics`; every method but ``none`` adds its
``val_*_svm_uar`` columns, measured on the real rows of the fold's inner-validation speakers, see
:func:`~adan_ser.augment.measures.diagnostics.validation_measures`), ``seed<k>/<fold>/`` dvclive
training curves of latent methods, and t-SNE pictures of the first seed's first fold
(``tsne_feature.png``, ``tsne_latent.png``).

Both folders are assembled under temporary names and renamed at the end, so a failure anywhere
leaves the previous outputs (or nothing) in place, never a half-written report.

Audio methods (``audio_speed``, ``audio_noise``, ``audio_mix``, ``audio_voice``, ``audio_vtlp``;
:mod:`adan_ser.augment.audio.perturbers`) fit nothing: for each run seed every file of the feature table is
perturbed and described once (the extract stage's openSMILE set), and each fold's set is the
perturbed rows whose source file is among that fold's augmenter-training rows. Same layout; the
synthetic-speaker methods (``audio_voice``, ``audio_vtlp``) add each row's ``synthetic_speaker`` id,
and quality.csv of every audio method adds the speaker diagnostics of
:mod:`adan_ser.augment.measures.speaker_diagnostics`. Their cost (per seed: perturbed files, seconds,
files/s of perturbation + extraction) rides on the returned table as ``attrs["cost"]`` and the
command prints it; it is not written to the report folder, whose files must be the same bytes
on every run.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np
import pandas as pd

from adan_ser.augment.audio.describe import perturb_features
from adan_ser.augment.audio.voices import synthetic_speaker_ids
from adan_ser.augment.measures.diagnostics import latent_diagnostics, validation_measures
from adan_ser.augment.measures.quality import quality
from adan_ser.augment.measures.speaker_diagnostics import speaker_diagnostics
from adan_ser.augment.registry import MODELS, is_audio_method, make_perturber, make_sampler, method_label
from adan_ser.contracts.align import align
from adan_ser.contracts.folds import Fold
from adan_ser.contracts.plan import Job, Plan, PlanSettings
from adan_ser.contracts.results import FRACTION
from adan_ser.contracts.synthetic import seed_dir, synthetic_frame, write_label
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir, write_csv, write_parquet
from adan_ser.core.scheduler import run_tasks

#: Methods backed by a latent model: they get training curves and the collapse diagnostics.
LATENT_METHODS = tuple(MODELS)


def fit_fold(method, params, seed, ratio, X, y, fold: Fold, log_dir=None, groups=None):
    """Fit ``method`` on the training rows of ``fold``; returns (sampler, X_syn, y_syn).

    ``groups`` (n,): the speaker of each row of ``X``; only a sampler with ``needs_groups`` gets
    them (its training rows' only), the others never see them.

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
        if getattr(sampler, "needs_groups", False):
            X_syn, y_syn = sampler.generate(X[fold.train], y[fold.train],
                                            groups=None if groups is None else np.asarray(groups)[fold.train])
        else:
            X_syn, y_syn = sampler.generate(X[fold.train], y[fold.train])
    except AdanError as exc:
        raise AdanError(f"fold {fold.name}, seed {seed}: {exc}") from None
    except ValueError as exc:  # a library's refusal of this fold's rows (imblearn, scikit-learn)
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise AdanError(f"fold {fold.name}, seed {seed}: {method}: {text}") from None
    return sampler, X_syn, y_syn


@dataclass(frozen=True)
class AugmentSettings:
    """Everything :func:`augment_folds` runs by, besides its inputs and output folders.

    ``method``: the augmentation method (``augment.methods``, the DVC stage's name);
    ``params``: its ``augment.<method>`` block; ``ratio``: ``augment.ratio`` (None keeps the
    sampler's own default); ``plan``: the jobs' settings (:class:`~adan_ser.contracts.plan.PlanSettings`:
    scheme, run seeds, training fractions, ``cv.train_downsample``, the DNN's validation speakers).
    ``scheduler``: None or ``"local"`` fits here, a Dask address (``cv.scheduler``) on its workers.
    Audio methods also need ``audio_root`` (the folder the manifest's files hang from) and
    ``feature_set`` (the openSMILE set the features were extracted with), and run their
    perturbation and extraction in ``workers`` local processes. ``progress``: show progress bars.
    """

    method: str
    params: Mapping = field(default_factory=dict)
    ratio: Optional[float] = None
    plan: PlanSettings = field(default_factory=PlanSettings)
    scheduler: Optional[str] = None
    audio_root: Optional[Union[str, Path]] = None
    feature_set: Optional[str] = None
    workers: int = 1
    progress: bool = True

    @property
    def label(self) -> str:
        """The name results give this method (:func:`~adan_ser.augment.registry.method_label`)."""
        return method_label(self.method, dict(self.params))


def augment_folds(
    manifest: pd.DataFrame,
    features: pd.DataFrame,
    settings: AugmentSettings,
    out_dir: str | Path,
    report_dir: Optional[str | Path] = None,
) -> pd.DataFrame:
    """Write one synthetic set per fraction × seed × fold of ``settings.plan`` into ``out_dir``;
    returns the quality table.

    The jobs are :class:`~adan_ser.contracts.plan.Plan`'s: each seed's augmenter is fitted on the
    fold's training rows cut to the training fraction (the rows the evaluate stage trains that
    fraction's classifiers on) minus exactly the speakers the DNN validates on
    (``settings.plan.validation_speakers``), so validation never meets data generated from the
    validation speakers. Every classifier uses the same sets. Each set comes from its run seed
    alone and is written to ``seed<k>/`` (fraction 1) or ``fraction<f>/seed<k>/`` (see
    :mod:`adan_ser.contracts.synthetic`); quality.csv has a ``train_fraction`` column when some
    fraction is not 1. The t-SNE pictures show the first seed × fold of the largest fraction.
    Results name the method by ``settings.label``: quality.csv's ``method`` column, the pictures'
    titles, and (when it differs from ``settings.method``) the set's label file
    (:func:`~adan_ser.contracts.synthetic.write_label`), which the evaluate stage reports.

    With a Dask ``scheduler`` the sets are fitted as independent tasks on its workers, each task
    getting its augmenter's training rows and its validation speakers' rows (for the ``val_*``
    measures only, see :attr:`~adan_ser.contracts.plan.Job.validation`), never a test row; both write
    the same sets, bit for bit when torch runs on as many threads here as on a worker (Dask
    workers run one: set ``OMP_NUM_THREADS=1``); thread counts change ADAN's float summation order.
    Training curves (``report_dir``) are written by the worker, so a remote cluster needs a shared
    filesystem for them; quality measures are computed beside each fit; the sets, quality table
    and pictures are written here.

    ``out_dir`` and ``report_dir`` are each assembled under a temporary name and renamed only when
    every fold has succeeded, so a failure leaves the previous outputs (or nothing) in place.

    Audio methods run their perturbation and extraction here or in a local pool of
    ``settings.workers`` processes, never on the scheduler (see
    :func:`~adan_ser.augment.audio.perturbers.perturb_features`: Dask threads share the generators).
    The returned table then carries ``attrs["cost"]``, the cost table (see :func:`_augment_audio`).
    """
    rows, X, names = align(manifest, features)
    plan = Plan(rows, settings.plan)
    if is_audio_method(settings.method):
        return _augment_audio(rows, X, names, plan, settings, out_dir, report_dir)
    method, label, y = settings.method, settings.label, rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy()
    jobs = plan.augmenter_jobs()
    shown = next(i for i, job in enumerate(jobs) if job.fraction == max(plan.fractions))
    report = atomic_dir(report_dir) if report_dir is not None else contextlib.nullcontext(None)
    # The report folder is the inner one: it is renamed first, and only if the sets are complete.
    with atomic_dir(out_dir) as tmp, report as tmp_report:
        records = []

        def task(job):
            train, val = job.augmenter.train, job.validation
            logs = None if tmp_report is None else seed_dir(tmp_report, job.seed, job.fraction)
            return (settings, job.seed, X[train], y[train], job.fold.name, logs, X[val], y[val], speakers[train])

        fitted = run_tasks(fit_and_measure, (task(job) for job in jobs), settings.scheduler,
                           desc=f"augment {method}", progress=settings.progress, total=len(jobs))
        for i, (job, (sampler, X_syn, y_syn, measures)) in enumerate(zip(jobs, fitted)):
            fold = job.augmenter
            out = seed_dir(tmp, job.seed, job.fraction)
            write_parquet(synthetic_frame(X_syn, y_syn, names, getattr(sampler, "synthetic_speaker_", None)),
                          out / f"{fold.name}.parquet")
            model = getattr(sampler, "adan_", None)
            records.append(_record(plan, job, label, speakers, measures))
            if i == shown and tmp_report is not None and len(y_syn):
                _pictures(tmp_report, label, fold, X, y, X_syn, y_syn, model, job.seed)
            if model is not None:
                # the model was fitted on arrays; the saved file carries the openSMILE names for export
                model.feature_names_in_ = np.asarray(names, dtype=object)
                model.save(out / f"{fold.name}.pt")
        table = pd.DataFrame(records)
        if tmp_report is not None:
            write_csv(table, tmp_report / "quality.csv")
        if label != method:
            write_label(tmp, label)
    return table


def _record(plan: Plan, job: Job, label: str, speakers: np.ndarray, measures: dict) -> dict:
    """One row of quality.csv: the job, the method's label, the speakers fitted on and validated on."""
    return {"seed": job.seed, **({FRACTION: job.fraction} if plan.with_fraction else {}), "fold": job.fold.name,
            "method": label, "fitted_speakers": " ".join(np.unique(speakers[job.augmenter.train])),
            "val_speakers": " ".join(np.unique(speakers[job.validation])), **measures}


def _augment_audio(rows, X, names, plan: Plan, settings: AugmentSettings, out_dir, report_dir):
    """:func:`augment_folds` for an audio method; ``rows`` (n,) and ``X`` (n, d) as :func:`align` gives them.

    Per run seed, every row's file is perturbed ``copies`` times and described once
    (:func:`~adan_ser.augment.audio.perturbers.perturb_features`); a job's set is the perturbed rows
    whose source row is among its augmenter's rows (:attr:`~adan_ser.contracts.plan.Job.augmenter`),
    so neither the fold's test speaker nor the DNN's validation speaker enters it; that speaker's real
    rows give the ``val_*_svm_uar`` columns (:func:`~adan_ser.augment.measures.diagnostics.validation_measures`).
    Every training fraction of a seed takes its rows from the same perturbed copies (nothing is
    perturbed twice). ``attrs["cost"]`` of the returned quality table: one row per seed with
    ``files`` (perturbed copies made), ``seconds`` and ``files_per_s``.
    """
    method, label = settings.method, settings.label
    if settings.feature_set is None:
        raise AdanError(f"augmentation method {method!r} needs the feature set the features were "
                        f"extracted with (features.set)")
    perturber = make_perturber(method, dict(settings.params), settings.ratio)
    y = rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy()
    plan.augmenter_jobs()
    report = atomic_dir(report_dir) if report_dir is not None else contextlib.nullcontext(None)
    records, cost, shown = [], [], False
    with atomic_dir(out_dir) as tmp, report as tmp_report:
        for seed, jobs in plan.by_seed():
            perturbed = perturb_features(rows, settings.audio_root, settings.feature_set, perturber, seed,
                                         workers=settings.workers, progress=settings.progress)
            if perturbed.names != list(names):
                raise AdanError(f"the features table's columns are not openSMILE {settings.feature_set}'s "
                                f"(features.set changed since extract? re-run it)")
            # synthetic-speaker methods: one id per (source speaker, copy) draw, never a real speaker's
            ids = (synthetic_speaker_ids(speakers[perturbed.rows], seed, perturbed.copies)
                   if perturber.speaker_level else None)
            clash = [] if ids is None else np.intersect1d(ids, speakers)
            if len(clash):
                raise AdanError(f"synthetic speaker id {clash[0]!r} of {label} (seed {seed}) is a real "
                                f"speaker's id; rename that speaker in the corpus")
            cost.append({"seed": seed, "method": label, "files": len(perturbed.rows),
                         "copies": int(perturber.copies), "seconds": perturbed.seconds,
                         "files_per_s": perturbed.files_per_s})
            for job in jobs:
                train, val = job.augmenter, job.validation
                keep = np.isin(perturbed.rows, train.train)
                X_syn, y_syn = perturbed.X[keep].astype(np.float64), y[perturbed.rows[keep]]
                ids_syn = None if ids is None else ids[keep]
                write_parquet(synthetic_frame(X_syn, y_syn, names, ids_syn),
                              seed_dir(tmp, seed, job.fraction) / f"{train.name}.parquet")
                measures = quality(X[train.train], X_syn, seed, y[train.train], y_syn)
                measures.update(speaker_diagnostics(X[train.train], y[train.train], speakers[train.train], X_syn,
                                                    y_syn, ids_syn, speakers[perturbed.rows[keep]], seed))
                measures.update(validation_measures(X[train.train], y[train.train], X_syn, y_syn, X[val], y[val]))
                records.append(_record(plan, job, label, speakers, measures))
                if job.fraction == max(plan.fractions) and not shown and tmp_report is not None and len(y_syn):
                    _pictures(tmp_report, label, train, X, y, X_syn, y_syn, None, seed)
                    shown = True
        table = pd.DataFrame(records)
        table.attrs["cost"] = pd.DataFrame(cost)
        if tmp_report is not None:
            write_csv(table, tmp_report / "quality.csv")
        if label != method:
            write_label(tmp, label)
    return table


def fit_and_measure(settings: AugmentSettings, seed, X_train, y_train, fold_name, log_dir, X_val=None, y_val=None,
                     groups_train=None):
    """Fit one fold's augmenter on its training rows only and measure its synthetic set.

    ``settings``: the method, its params and ratio; ``seed``: the run seed.
    ``X_train`` (n, d), ``y_train`` (n,): the fold's training rows the augmenter may learn from;
    ``X_val`` (v, d), ``y_val`` (v,): the real rows of the fold's inner-validation speakers (None or
    empty without them), used only to measure the set (the ``val_*_svm_uar`` columns of
    :func:`~adan_ser.augment.measures.diagnostics.validation_measures`; every method but ``none``), never
    to fit it. ``groups_train`` (n,): the speakers of the training rows, for samplers that model
    speakers (``needs_groups``). Returns ``(sampler, X_syn, y_syn, quality measures)``; the unit of work here and on
    a Dask worker.
    """
    method = settings.method
    fold = Fold(fold_name, np.arange(len(y_train)), np.empty(0, dtype=int))
    sampler, X_syn, y_syn = fit_fold(method, dict(settings.params), seed, settings.ratio, X_train, y_train, fold,
                                     log_dir, groups_train)
    measures = quality(X_train, X_syn, seed, y_train, y_syn)
    if method in LATENT_METHODS:  # collapse diagnostics (augment.diagnostics), training rows only
        measures.update(latent_diagnostics(sampler, X_train, y_train, X_syn, y_syn, seed))
    if sampler is not None:  # every method but none: measured on the validation speakers' real rows
        if X_val is None:
            X_val, y_val = np.empty((0, X_train.shape[1])), np.empty(0, dtype=y_train.dtype)
        measures.update(validation_measures(X_train, y_train, X_syn, y_syn, X_val, y_val))
    return sampler, X_syn, y_syn, measures


def _pictures(report_dir: Path, method, fold, X, y, X_syn, y_syn, model, seed) -> None:
    """t-SNE of real training vs synthetic vectors, in feature space and (latent methods) latent space."""
    from adan_ser.augment.measures.tsne import tsne_plot

    Xr, yr = X[fold.train], y[fold.train]
    tsne_plot(Xr, yr, X_syn, y_syn, report_dir / "tsne_feature.png",
              f"{method}, fold {fold.name}: feature space", seed)
    if model is not None:
        tsne_plot(model.transform(Xr), yr, model.transform(X_syn), y_syn, report_dir / "tsne_latent.png",
                  f"{method}, fold {fold.name}: latent space", seed)


