"""The ``adan`` command: thin wrappers that read params.yaml and paths, then call the library.

Each sub-command is one DVC stage; explicit options override the params file. Every command
validates the whole params file first (:mod:`adan_ser.params`). Bad input of any kind ends the
command with one line on stderr, ``adan <command>: error: <what and where>``, and exit status 2;
usage errors exit 2 as well.
"""

from __future__ import annotations

import functools
import signal
import sys
import warnings
from pathlib import Path

import click
from click.core import ParameterSource

from adan_ser.core.errors import AdanError
from adan_ser.core.io import check_output
from adan_ser.core.kernels import exec_portable
from adan_ser.core.lifecycle import exit_with_parent, raise_on_term
from adan_ser.params import AUDIO_METHODS, METHODS, Params, load_params

#: ``adan --help`` lists the commands under these headings, in data-flow order.
SECTIONS = {
    "Data": ("demo", "prepare"),
    "Features": ("extract", "spectrogram"),
    "Augmentation": ("augment", "export"),
    "Evaluation": ("evaluate", "evaluate-spectro"),
    "Report": ("report", "pool"),
}


class CommandError(click.ClickException):
    """An AdanError raised by a command, shown as ``adan <command>: error: <message>``."""

    exit_code = 2

    def __init__(self, command: str, message: str):
        # the contract is one line; a message that spans several is joined rather than cut
        super().__init__(" ".join(line.strip() for line in message.splitlines() if line.strip()))
        self.command = command

    def show(self, file=None) -> None:
        click.echo(f"adan {self.command}: error: {self.format_message()}", file=file, err=file is None)


def _warning_line(command: str):
    """``warnings.showwarning`` printing one line, ``adan <command>: warning: ...``, above any
    progress bar (tqdm.write) instead of Python's two-line form with a source line inside it."""

    def show(message, category, filename, lineno, file=None, line=None):
        from tqdm.auto import tqdm

        tqdm.write(f"adan {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    return show


class StageCommand(click.Command):
    def invoke(self, ctx: click.Context):
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _warning_line(self.name)
                return super().invoke(ctx)
        except AdanError as exc:
            raise CommandError(self.name, str(exc)) from None
        except KeyboardInterrupt as exc:
            # outputs are renamed into place only when complete, so an interrupt leaves none
            signum = getattr(exc, "signum", signal.SIGINT)
            click.echo(f"adan {self.name}: interrupted ({signal.Signals(signum).name}), nothing written", err=True)
            ctx.exit(128 + signum)


class Pipeline(click.Group):
    """The ``adan`` group: commands in data-flow order under :data:`SECTIONS` headings.

    Calling it (``main(["prepare", "-o", "m.csv"])``, or the ``adan`` console script) returns the
    exit status instead of raising SystemExit; ``main.main(...)`` keeps click's behaviour (what
    ``click.testing.CliRunner`` calls). Called without arguments (the command line), it first
    restarts itself on pinned CPU kernels (:func:`adan_ser.core.kernels.exec_portable`).
    """

    command_class = StageCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = [name for names in SECTIONS.values() for name in names]
        sections = {**SECTIONS, "Other": tuple(n for n in self.commands if n not in listed)}
        for title, names in sections.items():
            names = [n for n in names if n in self.commands]
            width = formatter.width - 6 - max((len(n) for n in names), default=0)
            rows = [(n, self.commands[n].get_short_help_str(width)) for n in names]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def __call__(self, args=None, **extra) -> int:
        if args is None:  # the real command line: restart on pinned kernels (core/kernels.py)
            exec_portable()
        extra.setdefault("prog_name", "adan")
        try:
            self.main(args, **extra)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0


def _example(text: str) -> str:
    return f"\b\nExample:\n  {text}"  # \b: click keeps the line as written


@click.group(cls=Pipeline, epilog=_example("adan prepare -o data/manifest.csv   (dvc repro runs every stage)"),
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--params", "params_file", default="params.yaml", show_default=True, metavar="FILE",
              help="params file (also accepted after the command)")
@click.version_option(package_name="adan-ser", prog_name="adan")
def main(params_file: str) -> None:
    """adan: speech emotion recognition with adversarial data augmentation, one command per DVC stage.

    Settings come from the params file; options override them for one run.
    """
    # `kill` (SIGTERM) stops a command as Ctrl-C does: temporary outputs removed, pools shut down
    raise_on_term()
    # Under `dvc repro`, a killed dvc must not leave this command running on its own.
    exit_with_parent()


# ---------------------------------------------------------------------------- shared options

params_option = click.option("--params", "params_file", default=None, metavar="FILE",
                             help="params file (default: the one before the command, else params.yaml)")
manifest_option = click.option("-m", "--manifest", default="data/manifest.csv", show_default=True,
                               help="manifest CSV written by adan prepare")
root_option = click.option("--root", help="override data.root")
log_dir_option = click.option("--log-dir", default=None, help="dvclive training curves go under this folder")


def output_option(help: str, default: str | None = None):
    return click.option("-o", "--output", required=default is None, default=default,
                        show_default=default is not None, help=help)


def features_option(help: str = "feature table (parquet) written by adan extract", required: bool = True):
    return click.option("-f", "--features", required=required, help=help)


def scheduler_option(key: str):
    return click.option("--scheduler", help=f"override {key}: local, localcluster:N or a Dask address tcp://host:8786")


def stage(name: str, example: str):
    """Register ``fn`` as ``adan <name>``: it gets the validated params (:class:`Params`) first,
    then its options; ``--params`` is added. Its docstring is the help, ``example`` the epilog."""

    def register(fn):
        @functools.wraps(fn)
        def run(params_file, **options):
            root = click.get_current_context().find_root()
            return fn(load_params(params_file or root.params["params_file"]), **options)

        return main.command(name, epilog=_example(example))(params_option(run))

    return register


# ---------------------------------------------------------------------------- Data


@stage("demo", "adan demo --out data/demo")
@click.option("--out", default="data/demo", show_default=True, help="output folder")
def demo(p: Params, out: str) -> None:
    """Generate the demo corpus (data.demo.*)."""
    from adan_ser.corpora.demo import generate_demo

    p.need("data.demo")
    generate_demo(out, **p.block("data.demo"))


@stage("prepare", "adan prepare -o data/manifest.csv")
@output_option("manifest CSV to write", "data/manifest.csv")
@click.option("--corpus", help="override data.corpus")
@root_option
def prepare(p: Params, output: str, corpus: str | None, root: str | None) -> None:
    """Read a corpus folder into a manifest CSV (data.*)."""
    from adan_ser.contracts.manifest import write_manifest
    from adan_ser.corpora.build import build_manifest, corpus_files

    corpus = corpus or p.need("data.corpus")
    check_output(output, option="-o", inputs=corpus_files(corpus, root or p.need("data.root")))
    manifest = build_manifest(corpus, root or p.need("data.root"), classes=p.data.classes or None,
                              merge_excited=p.data.merge_excited)
    write_manifest(manifest, output)
    counts = manifest["emotion"].value_counts().sort_index()
    click.echo(f"{corpus}: {len(manifest)} utterances, {manifest['speaker'].nunique()} speakers, "
               + ", ".join(f"{e} {n}" for e, n in counts.items()))


# ---------------------------------------------------------------------------- Features


@stage("extract", "adan extract -m data/manifest.csv -o data/features/eGeMAPSv02.parquet")
@manifest_option
@output_option("parquet file to write")
@root_option
@click.option("--feature-set", help="override features.set")
@click.option("--workers", type=click.IntRange(min=1), help="override features.workers")
@click.option("--skip-bad", is_flag=True, help="list bad audio files and go on without them")
@scheduler_option("features.scheduler")
def extract(p: Params, manifest: str, output: str, root: str | None, feature_set: str | None,
            workers: int | None, skip_bad: bool, scheduler: str | None) -> None:
    """openSMILE functionals of every manifest row (features.*)."""
    from adan_ser.contracts.manifest import check_same_audio, load_manifest
    from adan_ser.corpora.build import corpus_root
    from adan_ser.features.opensmile import FEATURE_DIMS, extract_to_parquet

    check_output(output, option="-o", inputs={"manifest": manifest})
    rows = load_manifest(manifest)
    audio_root = corpus_root(p.need("data.corpus"), root or p.need("data.root"))
    # one recording counted twice could sit in a training and a test fold at once
    files = rows["file"].tolist()
    check_same_audio(files, audio_root, manifest, lambda i: f"line {i + 2} ({files[i]!r})")
    feature_set = feature_set or p.need("features.set")
    # Streamed to disk as chunks arrive: memory does not grow with the corpus.
    n, bad = extract_to_parquet(
        rows,
        audio_root,
        feature_set,
        output,
        workers=workers or p.features.workers,
        skip_bad=skip_bad or p.features.skip_bad,
        scheduler=scheduler or p.features.scheduler,
    )
    for file, reason in bad:
        click.echo(f"skipped {file}: {reason}", err=True)
    click.echo(f"{n} rows × {FEATURE_DIMS.get(feature_set, '?')} features → {output}")


@stage("spectrogram", "adan spectrogram -m data/manifest.csv -o data/spectrograms/linear.npz")
@manifest_option
@output_option(".npz file to write")
@root_option
def spectrogram(p: Params, manifest: str, output: str, root: str | None) -> None:
    """Log spectrograms of every manifest row (spectro.frontend)."""
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.corpora.build import corpus_root
    from adan_ser.features.spectrogram import (
        compute_spectrograms,
        frontend_config,
        save_spectrograms,
    )

    check_output(output, option="-o", inputs={"manifest": manifest})
    cfg = frontend_config(p.block("spectro.frontend"))
    specs = compute_spectrograms(load_manifest(manifest), corpus_root(p.need("data.corpus"), root or p.need("data.root")),
                                 cfg)
    save_spectrograms(specs, output)
    click.echo(f"{len(specs)} spectrograms ({cfg['kind']}, {specs.frames.shape[1]} bins, "
               f"{len(specs.frames)} frames) → {output}")


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


# ---------------------------------------------------------------------------- Report


@stage("report", "adan report -p results/predictions results/spectro_predictions.parquet -o results")
@click.option("-p", "--predictions", multiple=True, metavar="PATH [PATH ...]",
              help="predictions, pooled: the folder written by evaluate (or one parquet file) and/or "
                   "evaluate-spectro's file  [default: results/predictions]")
@click.argument("more", nargs=-1, metavar="", type=click.Path())
@manifest_option
@click.option("-o", "--out-dir", default="results", show_default=True, help="folder the report goes to")
@click.option("--augment-dir", default="results/augment", show_default=True,
              help="<method>/quality.csv are read from here")
def report(p: Params, predictions: tuple[str, ...], more: tuple[str, ...], manifest: str, out_dir: str,
           augment_dir: str) -> None:
    """Results and significance tables, metrics and plots (eval.*, seed).

    From the predictions of evaluate and evaluate-spectro: results.csv/.md, runs.csv,
    significance.csv, heads_chosen.csv, augmenters_by_validation.csv, metrics.json, confusion and forest plots.
    """
    from adan_ser.reporting.report import report_from_files, to_markdown

    # `-p a b`: click options take one value each, so the paths after the first arrive as `more`
    paths = [*predictions, *more] or ["results/predictions"]
    check_output(out_dir, folder=True, option="-o")
    results = report_from_files(paths, manifest, out_dir, augment_dir, alpha=float(p.eval.alpha),
                                confidence=float(p.eval.confidence), n_resamples=int(p.eval.n_resamples),
                                seed=int(p.seed), references=list(p.eval.references),
                                primary=list(p.eval.primary), equivalence_margin=float(p.eval.equivalence_margin))
    click.echo(to_markdown(results), nl=False)


@stage("pool", "adan pool runs/emodb-is11 runs/ravdess-is10 -o results/pool")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--out-dir", default="results/pool", show_default=True,
              help="folder the pooled table and forest plot go to (replaced as a whole)")
def pool(p: Params, runs: tuple[str, ...], out_dir: str) -> None:
    """Pool the per-speaker differences of several runs (eval.*, seed).

    RUNS: two or more results folders written by adan report (their speaker_differences.csv), or
    DVC experiment names / git revisions whose results/ holds it, e.g. one per corpus; writes
    pooled.csv, pooled.md and forest.png: per comparison common to all runs, one row per corpus and
    one test stratified by corpus over all their speakers.
    """
    from adan_ser.reporting.pool import pool_from_folders
    from adan_ser.reporting.report import to_markdown

    table = pool_from_folders(runs, out_dir, alpha=float(p.eval.alpha), confidence=float(p.eval.confidence),
                              n_resamples=int(p.eval.n_resamples), seed=int(p.seed),
                              equivalence_margin=float(p.eval.equivalence_margin))
    click.echo(to_markdown(table[table["corpus"] == "pooled"]), nl=False)


if __name__ == "__main__":
    main()
