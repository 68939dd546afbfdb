"""The training commands: ``adan augment``, ``export``, ``evaluate`` and ``evaluate-spectro``."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from adan_ser.core.errors import AdanError
from adan_ser.core.io import check_output
from adan_ser.params import AUDIO_METHODS, METHODS, Params
from adan_ser.cli.app import features_option, log_dir_option, manifest_option, output_option, scheduler_option, stage


# ---------------------------------------------------------------------------- Augmentation


def _plan_settings(p: Params, **given):
    """The jobs' settings every stage shares (cv.scheme, eval.seeds, cv.train_downsample); ``given``
    adds or replaces fields (cv.train_fraction, the validation speakers, an export's one seed)."""
    from adan_ser.contracts.plan import PlanSettings

    return PlanSettings(**{"scheme": p.need("cv.scheme"), "seeds": p.run_seeds(),
                           "train_downsample": p.block("cv.train_downsample"), **given})


def _augment_params(p: Params, method: str) -> dict:
    """``augment.<method>`` (an unknown method: none; the library names it)."""
    return p.block(f"augment.{method}") if method in METHODS else {}


def _audio_settings(p: Params, method: str) -> dict:
    """Audio methods read the corpus audio: its folder (data.corpus, data.root), the openSMILE set of
    the features (features.set) and the extraction processes (features.workers); others: nothing."""
    if method not in AUDIO_METHODS:
        return {}
    from adan_ser.corpora.build import corpus_root

    return {"audio_root": corpus_root(p.need("data.corpus"), p.need("data.root")),
            "feature_set": p.need("features.set"), "workers": p.features.workers}


@stage("augment", "adan augment --method smote -m data/manifest.csv -f data/features/eGeMAPSv02.parquet "
                  "-o data/synthetic/smote")
@click.option("--method", required=True, help="augmentation method, e.g. adan or smote")
@manifest_option
@features_option()
@output_option("folder: seed<k>/<fold>.parquet per seed × fold")
@click.option("--report-dir", default=None,
              help="quality.csv, t-SNE pictures and (latent methods) dvclive training curves go here")
@scheduler_option("cv.scheduler")
def augment(p: Params, method: str, manifest: str, features: str, output: str, report_dir: str | None,
            scheduler: str | None) -> None:
    """Per-fold synthetic sets of one method (augment.*)."""
    from adan_ser.augment.stage import AugmentSettings, augment_folds
    from adan_ser.contracts.align import load_features
    from adan_ser.contracts.manifest import load_manifest

    check_output(output, folder=True, option="-o", inputs={"manifest": manifest, "features": features})
    if report_dir is not None:
        check_output(report_dir, folder=True, option="--report-dir",
                     inputs={"manifest": manifest, "features": features, "-o folder": output})
    settings = AugmentSettings(
        method,
        _augment_params(p, method),
        p.augment.ratio,
        _plan_settings(p, train_fraction=p.cv.train_fraction, validation_speakers=p.classify.dnn.val_groups),
        scheduler=scheduler or p.cv.scheduler,
        **_audio_settings(p, method),
    )
    table = augment_folds(load_manifest(manifest), load_features(features), settings, output, report_dir)
    label = settings.label
    cost = table.attrs.get("cost")
    for c in ([] if cost is None else cost.to_dict("records")):
        click.echo(f"{label}: seed {c['seed']}: perturbed and described {c['files']} files in "
                   f"{c['seconds']:.1f} s ({c['files_per_s']:.1f} files/s)")
    n_seeds = table["seed"].nunique() if len(table) else 0
    n_folds = table["fold"].nunique() if len(table) else 0
    n_fractions = f"{table['train_fraction'].nunique()} training fractions × " if "train_fraction" in table else ""
    click.echo(f"{label}: {int(table['n_synthetic'].sum()) if len(table) else 0} synthetic vectors "
               f"over {n_fractions}{n_seeds} seed(s) × {n_folds} folds → {output}")


@stage("export", "adan export --method adan --fold 03 --per-class 200 -o synth.csv")
@click.option("--method", default="adan", show_default=True, help="augmentation method fitted on the fold")
@click.option("--fold", help="test group of the fold whose training rows the method learns from")
@click.option("--per-class", type=int, default=100, show_default=True, help="synthetic vectors per emotion")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="seeds the augmenter (below 2^32, as numpy and torch need)")
@click.option("--model", help="sample a saved ADAN model (.pt) instead of fitting one")
@manifest_option
@features_option("default: data/features/<features.set>.parquet", required=False)
@output_option("CSV file to write")
def export(p: Params, method: str, fold: str | None, per_class: int, seed: int, model: str | None,
           manifest: str, features: str | None, output: str) -> None:
    """One fold's synthetic feature vectors as CSV (augment.*)."""
    from adan_ser.augment.export import ExportSettings, export_csv

    check_output(output, option="-o", inputs={"manifest": manifest, "features": features, "model": model})
    ctx = click.get_current_context()
    if model is not None:
        given = [f"--{name}" for name in ("method", "fold", "manifest", "features")
                 if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
        if given:
            raise AdanError(f"--model samples a saved model, so {', '.join(given)} cannot be given with it")
    elif fold is None:
        raise AdanError("export needs --fold (the held-out group) or --model")
    settings = ExportSettings(
        method=method,
        fold=fold,
        per_class=per_class,
        seed=seed,
        params=_augment_params(p, method),
        scheme=p.need("cv.scheme") if model is None else "leave-one-speaker-out",
        train_downsample=p.block("cv.train_downsample"),
        **(_audio_settings(p, method) if model is None else {}),
    )
    n = export_csv(output, settings, model_path=model, manifest_path=manifest,
                   features_path=features or (None if model else f"data/features/{p.need('features.set')}.parquet"))
    click.echo(f"{n} synthetic vectors → {output}" if model else f"{settings.label}: {n} synthetic vectors → {output}")


# ---------------------------------------------------------------------------- Evaluation


@stage("evaluate", "adan evaluate -f data/features/eGeMAPSv02.parquet -o results/predictions")
@manifest_option
@features_option()
@output_option("folder: one parquet file of predictions and scores per combination × seed", "results/predictions")
@log_dir_option
@click.option("--synthetic-dir", default="data/synthetic", show_default=True,
              help="augment stage outputs, one folder per method")
@scheduler_option("cv.scheduler")
def evaluate(p: Params, manifest: str, features: str, output: str, log_dir: str | None, synthetic_dir: str,
             scheduler: str | None) -> None:
    """Cross-validated predictions (cv.*, classify.*)."""
    from adan_ser.contracts.names import REFERENCE_METHOD
    from adan_ser.contracts.predictions import write_predictions
    from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate_corpus

    check_output(output, folder=True, option="-o",
                 inputs={"manifest": manifest, "features": features, "synthetic sets": synthetic_dir})
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)  # a DVC output even when no DNN logs
    settings = EvaluateSettings(
        models={name: p.block(f"classify.{name}") for name in p.need("classify.models")},
        corpus=p.need("data.corpus"),
        feature_set=p.need("features.set"),
        plan=_plan_settings(p, train_fraction=p.cv.train_fraction),
        synthetic_dirs={m: Path(synthetic_dir) / m for m in p.augment.methods if m != REFERENCE_METHOD},
        train_data=p.augment.train_data,
        heads=p.classify.heads,
        head_params=p.block("classify.head_params"),
        heads_on=p.block("classify.heads_on"),
        scheduler=scheduler or p.cv.scheduler,
        scale_on=p.classify.scale_on,
        clip_z=p.classify.clip_z,
        normalise=p.classify.normalise,
        enrol=p.classify.enrol,
    )
    predictions = evaluate_corpus(manifest, features, settings, log_dir)
    files = write_predictions(predictions, output)
    click.echo(f"{len(predictions)} predictions in {len(files)} files → {output}")


@stage("evaluate-spectro", "adan evaluate-spectro -s data/spectrograms/linear.npz --log-dir results/training_spectro")
@manifest_option
@click.option("-s", "--spectrograms", required=True, help="the spectrogram stage's .npz")
@output_option("parquet file to write", "results/spectro_predictions.parquet")
@log_dir_option
@scheduler_option("cv.scheduler")
def evaluate_spectro(p: Params, manifest: str, spectrograms: str, output: str, log_dir: str | None,
                     scheduler: str | None) -> None:
    """Spectrogram models × heads, cross-validated (spectro.*)."""
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.contracts.names import SOFTMAX_HEAD
    from adan_ser.core.io import write_parquet
    from adan_ser.evaluation.evaluate_spectrogram import SpectroSettings
    from adan_ser.evaluation.evaluate_spectrogram import evaluate_spectro as run
    from adan_ser.features.spectrogram import load_spectrograms

    check_output(output, option="-o", inputs={"manifest": manifest, "spectrograms": spectrograms})
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)  # a DVC output even with no model
    s = p.spectro
    settings = SpectroSettings(
        models=s.models,
        heads=s.heads or [SOFTMAX_HEAD],
        corpus=p.need("data.corpus"),
        plan=_plan_settings(p),  # once per run seed; `seed` seeds the report's resampling only
        train_params=p.block("spectro.train"),
        # the DNN's head settings unless spectro.head_params sets a head's block itself
        head_params={**p.block("classify.head_params"), **p.block("spectro.head_params")},
        segment_s=float(s.segment_s),
        train_overlap_s=float(s.train_overlap_s),
        eval_overlap_s=float(s.eval_overlap_s),
        scheduler=scheduler or p.cv.scheduler,
    )
    predictions = run(load_manifest(manifest), load_spectrograms(spectrograms), settings, log_dir)
    write_parquet(predictions, output)
    click.echo(f"{len(predictions)} spectrogram-model predictions → {output}")


