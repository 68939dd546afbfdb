"""The report commands: ``adan report`` and ``adan pool``."""

from __future__ import annotations

import click

from adan_ser.core.io import check_output
from adan_ser.params import Params
from adan_ser.cli.app import manifest_option, params_file, stage


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

    check_output(out_dir, folder=True, option="-o",
                 inputs={"params file": params_file(), **{f"run {run}": run for run in runs}})
    table = pool_from_folders(runs, out_dir, alpha=float(p.eval.alpha), confidence=float(p.eval.confidence),
                              n_resamples=int(p.eval.n_resamples), seed=int(p.seed),
                              equivalence_margin=float(p.eval.equivalence_margin))
    click.echo(to_markdown(table[table["corpus"] == "pooled"]), nl=False)


@stage("compare", "adan compare -a 'runs/norm/*/predictions' -b 'runs/plain/*/predictions' "
                  "--label-a speaker --label-b none -o results/compare")
@click.option("-a", "--run-a", "run_a", multiple=True, required=True, metavar="PATH",
              help="run A's predictions: evaluate's folder or a parquet file; repeat it or quote a glob "
                   "for a run made in parts")
@click.option("-b", "--run-b", "run_b", multiple=True, required=True, metavar="PATH", help="run B's, the same way")
@click.option("--label-a", default="a", show_default=True, help="what run A is (rows are named <method>@<label>)")
@click.option("--label-b", default="b", show_default=True, help="what run B is")
@manifest_option
@click.option("-o", "--out-dir", default="results/compare", show_default=True,
              help="folder the tables and forest plots go to (replaced as a whole)")
def compare(p: Params, run_a: tuple[str, ...], run_b: tuple[str, ...], label_a: str, label_b: str,
            manifest: str, out_dir: str) -> None:
    """Compare two runs of one corpus, combination by combination (eval.*, seed).

    Each combination in both runs (same seeds and test utterances) is compared with itself across
    them, the test speaker as the unit, e.g. a speaker-normalised run against a plain one; rows are
    <method>@<label>, and eval.primary entries name them so. Writes significance.csv,
    speaker_differences.csv (adan pool reads it), compare.md, forest.png, forest_exploratory.png.
    """
    from adan_ser.reporting.compare import compare_from_files, expand_paths
    from adan_ser.reporting.report import to_markdown

    runs = [path for paths, option in ((run_a, "-a"), (run_b, "-b")) for path in expand_paths(paths, option)]
    check_output(out_dir, folder=True, option="-o",
                 inputs={"params file": params_file(), "manifest": manifest, **{f"run {path}": path for path in runs}})
    table = compare_from_files(run_a, run_b, manifest, out_dir, label_a=label_a, label_b=label_b,
                               alpha=float(p.eval.alpha), confidence=float(p.eval.confidence),
                               n_resamples=int(p.eval.n_resamples), seed=int(p.seed), primary=list(p.eval.primary),
                               equivalence_margin=float(p.eval.equivalence_margin))
    columns = ["method", "ref_method", "classifier", "train_data", "train_fraction", "diff", "ci_low", "ci_high",
               "p_holm", "family", "verdict"]
    shown = table[table["metric"] == "uar"]
    click.echo(to_markdown(shown[[c for c in columns if c in shown]]), nl=False)
