"""The evaluate stage: align features with the manifest, then cross-validate every classifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import pandas as pd

from adan_ser.classifiers.factory import make_classifier
from adan_ser.classifiers.heads import parse_head_name
from adan_ser.contracts.align import align
from adan_ser.contracts.folds import fraction_name
from adan_ser.contracts.names import NO_HEAD, REFERENCE_METHOD, SOFTMAX_HEAD
from adan_ser.contracts.plan import Plan, PlanSettings
from adan_ser.contracts.results import Combination, fit_log_dir, run_name
from adan_ser.contracts.synthetic import load_synthetic, load_synthetic_speakers, read_label
from adan_ser.core.scaling import Z_CLIP
from adan_ser.evaluation.runner import FoldJobs, fold_jobs, run_jobs


def experiment_grid(methods: Sequence[str], train_data: Sequence[str]) -> list[tuple[str, str]]:
    """(method, train_data) pairs: real data alone once, then each augmenter × each synthetic use."""
    grid = [(REFERENCE_METHOD, "real")]
    for method in methods:
        if method != REFERENCE_METHOD:
            grid += [(method, t) for t in train_data if t != "real"]
    return grid


#: Classifiers whose fit is a deterministic function of the training rows: on real data alone they
#: run once (with the first run seed) and that run is reported under every run seed. Not so on a
#: training fraction below 1, whose rows each run seed draws anew.
DETERMINISTIC = frozenset({"svm"})


def model_variants(
    name: str,
    params: Mapping,
    method: str,
    use: str,
    heads: Optional[Sequence[str]] = None,
    head_params: Optional[Mapping[str, dict]] = None,
    heads_on: Optional[Mapping[str, Sequence[str]]] = None,
) -> list[tuple[str, dict]]:
    """(head column, classifier params) of each run of classifier ``name`` on (method, use) data.

    Non-DNN classifiers run once, head ``-``. The DNN runs with its own ``head`` param
    (``classify.dnn.head``) everywhere, and additionally with every name in ``heads``
    (``classify.heads``, params from ``head_params[name]``) where ``heads_on`` (method → train
    data uses; ``none`` → ``[real]``) lists this (method, use).
    """
    if name != "dnn":
        return [(NO_HEAD, dict(params))]
    own = str(params.get("head", SOFTMAX_HEAD))
    variants = {own: dict(params)}
    if use in (heads_on or {}).get(method, []) or []:
        for head in heads or []:
            if head not in variants:
                extra = (head_params or {}).get(head) or {}
                variants[head] = {**params, "head": head, "head_params": dict(extra)}
    return list(variants.items())


@dataclass(frozen=True)
class EvaluateSettings:
    """Everything :func:`evaluate` runs by, besides its inputs.

    ``models``: classifier name → its ``classify.<name>`` params; ``corpus``, ``feature_set``: the
    values of those key columns; ``plan``: the jobs' settings
    (:class:`~adan_ser.contracts.plan.PlanSettings`: scheme, run seeds, training fractions,
    ``cv.train_downsample``). ``synthetic_dirs``: augmentation method → folder written by the
    augment stage; each method is evaluated with every ``train_data`` use of its synthetic rows
    (``synthetic``, ``real+synthetic``) besides the real-only baseline (the reference method).
    ``heads``, ``head_params``, ``heads_on``: the extra DNN heads and where they run
    (:func:`model_variants`); ``scheduler``: where the folds run (:func:`runner.run_jobs`).
    ``scale_on``: ``classify.scale_on``, the training rows every classifier's scaler is fitted on
    (``all``: real and synthetic; ``real``: the fold's real training rows, applied to all rows;
    see :class:`adan_ser.classifiers.preprocess.Preprocessor`); ``clip_z``: ``classify.clip_z``, the
    bound (SDs) on its z-scores, None for none. ``normalise``, ``enrol``:
    ``classify.normalise`` / ``classify.enrol`` (speaker normalisation, which uses unlabelled
    test-speaker audio; see :mod:`adan_ser.classifiers.speaker_norm`).
    """

    models: Mapping[str, dict]
    corpus: str
    feature_set: str
    plan: PlanSettings = field(default_factory=PlanSettings)
    synthetic_dirs: Mapping[str, Union[str, Path]] = field(default_factory=dict)
    train_data: Sequence[str] = ("real+synthetic",)
    heads: Optional[Sequence[str]] = None
    head_params: Optional[Mapping[str, dict]] = None
    heads_on: Optional[Mapping[str, Sequence[str]]] = None
    scheduler: Optional[str] = None
    scale_on: str = "real"
    clip_z: Optional[float] = Z_CLIP
    normalise: str = "none"
    enrol: Optional[int] = None


def evaluate(manifest: pd.DataFrame, features: pd.DataFrame, settings: EvaluateSettings,
             log_dir: Optional[str | Path] = None) -> pd.DataFrame:
    """Predictions of every classifier in ``settings.models`` on every fold; DNN training curves
    go under ``log_dir`` (None: none are written).

    The runs follow :class:`~adan_ser.contracts.plan.Plan`: fractions outer, then run seeds; each
    run seed's loop wraps the (method, use) × classifier × head grid, and every stochastic step of
    a run (classifier init, dropout, validation speakers, the synthetic set) takes that seed alone.
    All combinations' folds are submitted together as one stream of tasks
    (:func:`~adan_ser.evaluation.runner.run_jobs`), so a Dask cluster runs up to (combinations ×
    folds) fits at once; locally they run in plan order; the predictions are the same either way.
    A :data:`DETERMINISTIC` classifier on real data runs once and is reported under every seed.
    Each training fraction trains every combination on that share of each training fold
    (:func:`adan_ser.contracts.folds.train_subset`, drawn per run seed and fold, the rows the augment
    stage fitted that fraction's synthetic sets on) plus that fraction's synthetic rows; test folds
    are whole. With any fraction other than 1 the predictions carry a ``train_fraction`` column
    (:data:`adan_ser.contracts.results.FRACTION`) and DNN logs of fractions below 1 go to
    ``.../<run>/fraction<f>/seed<k>/<fold>``.
    The ``method`` column holds each synthetic folder's label
    (:func:`~adan_ser.contracts.synthetic.read_label`: ``adan[validated]`` for a preset that swaps the
    algorithm, else the method); log folders keep the method's name.
    With ``normalise`` ``speaker`` the predictions carry a ``normalise`` column (``speaker:all`` or
    ``speaker:enrol<k>``); with ``enrol`` k, each test speaker's k enrolment utterances (drawn per run
    seed) are absent from the predictions, and every classifier runs under every seed.
    Returns one row per (combination, head, seed, test utterance) with the results KEY columns,
    ``seed``, ``fold``, ``file``, ``speaker``, ``true``, ``pred``, ``val_uar`` (the fold model's
    inner-validation UAR, NaN for the SVM), ``solver`` (the fold SVM's solver, ``""`` for the DNN)
    and ``score_<class>`` columns.
    """
    from adan_ser.classifiers.speaker_norm import check_normalise

    s = settings
    normalise, enrol = s.normalise, s.enrol
    check_normalise(normalise, enrol)

    def norm_args(seed, syn_speakers) -> dict:  # none: the runner is called as without normalisation
        if normalise == "none":
            return {}
        return dict(normalise=normalise, enrol=enrol, seed=seed, synthetic_speakers=syn_speakers)
    # A typo fails now, not after the first classifiers have run. A params block of a known head
    # that this run does not list is fine: `-S classify.heads=[...]` narrows a run without edits.
    for head in [*(s.heads or []), *(s.head_params or {})]:
        parse_head_name(head)
    rows, X, names = align(manifest, features)
    y = rows["emotion"].to_numpy()
    speakers = rows["speaker"].to_numpy()
    plan = Plan(rows, s.plan)
    seeds = plan.seeds
    synthetic_dirs = dict(s.synthetic_dirs or {})
    labels = {m: read_label(d, m) for m, d in synthetic_dirs.items()}
    # Every combination's folds are planned first and run as one stream of tasks, so a cluster keeps
    # up to (combinations × folds) workers busy; parts are then assembled in plan order. Each entry:
    # (combination, seed, its FoldJobs or the (classifier, head) whose first-seed real run it reuses,
    #  the (classifier, head) it is the first-seed real run of, or None).
    plan_parts = []
    for fraction, seed, jobs in plan.runs():
        whole = fraction == 1.0
        sub = [] if whole else [fraction_name(fraction)]  # log sub-folder of a fraction below 1
        suffix = "" if whole else f" {fraction_name(fraction)}"
        folds = [job.fold for job in jobs]
        for method, use in experiment_grid(list(synthetic_dirs), s.train_data):
            reference = method == REFERENCE_METHOD
            source = syn_speakers = None
            if not reference:
                def source(fold, d=synthetic_dirs[method], k=seed, f=fraction):
                    return load_synthetic(d, fold, names, seed=k, fraction=f)

                def syn_speakers(fold, d=synthetic_dirs[method], k=seed, f=fraction):
                    return load_synthetic_speakers(d, fold, seed=k, fraction=f)
            runs = [(name, head, params) for name, model_params in s.models.items()
                    for head, params in model_variants(name, model_params, method, use, s.heads, s.head_params,
                                                       s.heads_on)]
            for name, head, params in runs:
                combo = Combination(s.corpus, s.feature_set, labels.get(method, method), use, name, head,
                                    fraction if plan.with_fraction else None)
                if whole and reference and name in DETERMINISTIC and seed != seeds[0] and enrol is None:
                    plan_parts.append((combo, seed, (name, head), None))
                    continue

                def make_model(fold_name, combo=combo, params=params, run=run_name(method, use), seed=seed, sub=sub):
                    name = combo.classifier
                    if log_dir is not None and name == "dnn":
                        run_dir = fit_log_dir(log_dir, name, combo.head, run, *sub, seed=seed, fold=fold_name)
                        params = {**params, "log_dir": str(run_dir)}
                    return make_classifier(name, params, seed, fold=fold_name, scale_on=s.scale_on, clip_z=s.clip_z)

                plan_parts.append((combo, seed, fold_jobs(
                    X, y, speakers, folds, make_model, train_data=use, synthetic=source,
                    desc=f"{name} {head} {combo.method} {use}{suffix} seed {seed}", **norm_args(seed, syn_speakers)),
                    (name, head) if whole and reference and seed == seeds[0] else None))
    preds = iter(run_jobs(X, [job for _, _, job, _ in plan_parts if isinstance(job, FoldJobs)], s.scheduler,
                          desc="evaluate", leave=True))
    first_run: dict[tuple[str, str], pd.DataFrame] = {}  # (classifier, head) → its real run of seeds[0]
    parts = []
    for combo, seed, job, first in plan_parts:
        if not isinstance(job, FoldJobs):
            parts.append(first_run[job].assign(seed=seed))
            continue
        pred = next(preds)
        columns = combo.columns()
        for i, (column, value) in enumerate(columns.items()):
            pred.insert(i, column, value)
        pred.insert(len(columns), "seed", seed)
        pred["file"] = rows["file"].to_numpy()[pred["row"]]
        pred["speaker"] = speakers[pred["row"]]
        if normalise != "none":
            pred["normalise"] = normalise_label(normalise, enrol)
        part = pred.drop(columns="row")
        if first is not None:
            first_run[first] = part
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def normalise_label(normalise: str, enrol: Optional[int]) -> str:
    """The predictions' ``normalise`` value: ``speaker:all`` (statistics from all of a test speaker's
    unlabelled utterances) or ``speaker:enrol<k>`` (from k enrolment utterances, not scored)."""
    if normalise == "nap":
        return "nap"   # fitted on training speakers only: no test-speaker statistics to name
    return f"{normalise}:{'all' if enrol is None else f'enrol{int(enrol)}'}"


def evaluate_corpus(manifest_path, features_path, settings: EvaluateSettings, log_dir=None) -> pd.DataFrame:
    """:func:`evaluate` on the files written by the prepare and extract stages."""
    from adan_ser.contracts.align import load_features
    from adan_ser.contracts.manifest import load_manifest

    return evaluate(load_manifest(manifest_path), load_features(features_path), settings, log_dir)
