"""Turn per-utterance predictions into the results table, per-run scores, the significance table,
DVC metrics, confusion-matrix plots, a forest plot and the learning curve.

Predictions of a learning-curve run carry a ``train_fraction`` key column
(:mod:`adan_ser.contracts.results`); every table here then has it after the KEY columns."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from adan_ser.contracts.results import (
    FRACTION,
    KEY,
    combination_name,
    fill_fraction,
    key_columns,
)
from adan_ser.core.io import staged_files, write_csv, write_json, write_text
from adan_ser.reporting.metrics import scores
from adan_ser.reporting.quality import quality_summary, read_quality
from adan_ser.contracts.names import NO_HEAD, PLAIN_HEADS, REFERENCE_METHOD

RESULT_COLUMNS = KEY + ["wa", "uar", "n_folds"]


def summarize(predictions: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Pooled-over-folds WA and UAR (percent) per combination; mean over seeds where several.

    ``predictions``: one row per (combination, seed, test utterance) with KEY columns, ``seed``,
    ``fold``, ``true`` and ``pred``.
    """
    cols = key_columns(predictions)
    rows = []
    for key, part in predictions.groupby(cols, sort=False):
        per_seed = [scores(p["true"], p["pred"], classes) for _, p in part.groupby("seed")]
        rows.append(
            dict(
                zip(cols, key),
                wa=round(float(np.mean([s["wa"] for s in per_seed])), 2),
                uar=round(float(np.mean([s["uar"] for s in per_seed])), 2),
                n_folds=int(part["fold"].nunique()),
            )
        )
    return pd.DataFrame(rows, columns=cols + RESULT_COLUMNS[len(KEY):])


def normalise_note(values: pd.Series) -> str:
    """The results.md line of a speaker-normalised run (the predictions' ``normalise`` column)."""
    parts, kinds, nap = [], [], ""
    for value in sorted(values.dropna().astype(str).unique()):
        if value == "nap":
            nap = ("**Nuisance attribute projection (classify.normalise: nap)**: the training speakers' main "
                   "offset directions are projected out, their number chosen per fold on held-out training "
                   "speakers; no audio of the test speakers is used.\n\n")
            continue
        kind, _, how = value.partition(":")
        how = how or "all"
        kinds += [kind] if kind not in kinds else []
        parts.append("statistics from all of each test speaker's utterances, all scored" if how == "all" else
                     f"statistics from {how.removeprefix('enrol')} enrolment utterances per test speaker, "
                     "which are not scored")
    if not kinds:
        return nap
    return nap + (f"**Speaker-normalised features (classify.normalise: {', '.join(kinds)}): this uses unlabelled "
            "audio of the test speakers** (" + "; ".join(parts) + "). A deployment needs utterances of a new speaker "
            "before classifying them.\n\n")


def to_markdown(results: pd.DataFrame) -> str:
    """A GitHub Markdown table of ``results`` (no extra dependency such as tabulate)."""
    cols = list(results.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in results.itertuples(index=False):
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def metrics(predictions: pd.DataFrame, classes: Sequence[str]) -> dict:
    """Nested dict for ``dvc metrics show``: combination → pooled WA, UAR and per-class recall."""
    out = {}
    for _, part in predictions.groupby(key_columns(predictions), sort=False):
        pooled = scores(part["true"], part["pred"], classes)
        out[combination_name(part.iloc[0])] = {
            "wa": round(pooled["wa"], 2),
            "uar": round(pooled["uar"], 2),
            "recall": {k: round(v, 2) for k, v in pooled["recall"].items()},
        }
    return out


RUN_COLUMNS = KEY + ["seed", "fold", "speakers", "wa", "uar", "n", "solver"]


def fold_scores(predictions: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """``runs.csv``: WA and UAR (percent) of every combination × seed × fold, with the fold's test
    speaker(s) (``+``-joined when a fold holds several, e.g. a session), test-utterance count ``n``
    and ``solver``: the fold SVM's solver (``libsvm`` or ``liblinear``, chosen by training-set size
    under ``classify.svm.solver: auto``), empty for other classifiers and for predictions without it."""
    cols = key_columns(predictions) + ["seed", "fold"]
    rows = []
    for key, part in predictions.groupby(cols, sort=False):
        s = scores(part["true"], part["pred"], classes)
        speakers = "+".join(sorted(part["speaker"].astype(str).unique())) if "speaker" in part else ""
        solver = "+".join(sorted(set(part["solver"].fillna("").astype(str)) - {""})) \
            if "solver" in part else ""
        rows.append(dict(zip(cols, key), speakers=speakers,
                         wa=round(s["wa"], 2), uar=round(s["uar"], 2), n=s["n"], solver=solver))
    return pd.DataFrame(rows, columns=cols + RUN_COLUMNS[len(KEY) + 2:])


def comparison_table(results: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per method × train data, WA and UAR columns per classifier (+head).

    With several heads per classifier only its own head (the one run on most method × train data
    pairs, e.g. ``classify.dnn.head``) is here; the others are in :func:`head_table`, so this
    table stays a few columns wide.
    """
    r = results.copy()
    runs = r.groupby(["classifier", "head"], sort=False).size().reset_index(name="n")
    own = runs.loc[runs.groupby("classifier", sort=False)["n"].idxmax(), ["classifier", "head"]]
    r = r.merge(own, on=["classifier", "head"])
    r["model"] = r["classifier"].where(r["head"].isin(PLAIN_HEADS), r["classifier"] + " " + r["head"])
    # one value per cell, so "first" also carries formatted strings (mean ± std and markers)
    index = ([FRACTION] if FRACTION in r else []) + ["method", "train_data"]
    wide = r.pivot_table(index=index, columns="model", values=["wa", "uar"], sort=False,
                         aggfunc="first")
    wide.columns = [f"{model} {metric.upper()}" for metric, model in wide.columns]
    order = sorted(wide.columns, key=lambda c: (list(r["model"].unique()).index(c.rsplit(" ", 1)[0]), c.endswith("UAR")))
    return wide[order].reset_index()


def head_table(results: pd.DataFrame) -> pd.DataFrame:
    """DNN × head rows: one row per classifier and head, WA and UAR columns per method × train data.

    Only the (method, train data) pairs on which more than one head ran are columns; empty when
    no classifier ran with more than one head.
    """
    r = results[results["head"] != NO_HEAD].copy()
    if r["head"].nunique() < 2:
        return pd.DataFrame()
    r["data"] = r["method"].where(r["method"] != REFERENCE_METHOD, "") + " " + r["train_data"]
    r["data"] = r["data"].str.strip()
    shared = r.groupby("data")["head"].nunique()
    r = r[r["data"].isin(shared[shared > 1].index)]
    index = ([FRACTION] if FRACTION in r else []) + ["classifier", "head"]
    wide = r.pivot_table(index=index, columns="data", values=["wa", "uar"], sort=False)
    order = list(dict.fromkeys(r["data"]))
    wide = wide[[(metric, d) for d in order for metric in ("wa", "uar")]]
    wide.columns = [f"{d} {metric.upper()}" for metric, d in wide.columns]
    return wide.reset_index()


GAIN, LOSS = "▲", "▼"
#: Markers of an exploratory row significant within its own Holm family: shown, never a finding.
EXPLORATORY_GAIN, EXPLORATORY_LOSS = "△", "▽"


def _marker(row) -> str:
    """▲ / ▼ for a significant primary comparison, △ / ▽ for a significant exploratory one, else ''."""
    if not row["significant"]:
        return ""
    if row.get("family", "primary") == "exploratory":
        return EXPLORATORY_GAIN if row["diff"] > 0 else EXPLORATORY_LOSS
    return GAIN if row["diff"] > 0 else LOSS


def marked_results(results: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``results`` with WA/UAR as text: ``mean ± std`` over seeds when there are several, then
    ▲ / ▼ when the row differs significantly (Holm within the primary family) from its classifier's
    none / plain-head row, △ / ▽ when an exploratory row does (within the exploratory family)."""
    out = results.copy()
    cols = key_columns(results)
    for metric in ("wa", "uar"):
        cells = []
        for _, row in results.iterrows():
            hit = table[(table["metric"] == metric) & (table["ref_method"] == REFERENCE_METHOD)
                        & (table[cols] == row[cols].to_numpy()).all(axis=1)]
            text = f"{row[metric]:.2f}"
            if len(hit):
                h = hit.iloc[0]
                if h["n_seeds"] > 1:
                    text = f"{h['mean']:.2f} ± {h['std']:.2f}"
                if h["significant"]:
                    text += " " + _marker(h)
            else:
                ref = table[(table["metric"] == metric) & (table["ref_method"] == row["method"])
                            & (table["ref_train_data"] == row["train_data"]) & (table["ref_head"] == row["head"])
                            & (table["classifier"] == row["classifier"])
                            & ((table[FRACTION] == row[FRACTION]) if FRACTION in cols else True)]
                if len(ref) and ref.iloc[0]["n_seeds"] > 1:
                    text = f"{ref.iloc[0]['ref_mean']:.2f} ± {ref.iloc[0]['ref_std']:.2f}"
            cells.append(text)
        out[metric] = cells
    return out


def significance_markdown(table: pd.DataFrame, alpha: float, confidence: float) -> str:
    """The significance table in a compact Markdown form (differences in percentage points)."""
    from adan_ser.reporting.forest import comparison_label

    if table.empty:
        return ""
    # primary comparisons first: they are the findings; exploratory rows follow
    table = table.iloc[np.argsort((table["family"] != "primary").to_numpy(), kind="stable")]
    unit = table["unit"].iloc[0]
    rows = pd.DataFrame({
        "family": table["family"],
        "comparison": [comparison_label(r) for _, r in table.iterrows()],
        "metric": table["metric"].str.upper(),
        unit + "s": table["n_units"].astype(str),
        "seeds": table["n_seeds"].astype(str),
        "diff": table["diff"].map(lambda v: f"{v:+.2f}"),
        f"{confidence:.0%} CI": [f"[{lo:+.2f}, {hi:+.2f}]" for lo, hi in zip(table["ci_low"], table["ci_high"])],
        "p": table["p"].map(lambda v: f"{v:.4f}"),
        "p (Holm)": table["p_holm"].map(lambda v: f"{v:.4f}"),
        "p equiv (Holm)": table["p_equiv_holm"].map(lambda v: "" if v != v else f"{v:.4f}"),
        "verdict": [f"{v} {_marker(r)}".strip() for v, (_, r) in zip(table["verdict"], table.iterrows())],
        "detectable": table["detectable"].map(lambda v: "none" if v == float("inf") else f"{v:.2f}"),
    })
    margin = table["margin"].iloc[0]
    equiv = f"equivalent: both one-sided tests against ±{margin:g} points, Holm" if margin == margin else \
        "no equivalence margin (eval.equivalence_margin)"
    return (f"\nPaired comparisons, the {unit} as unit: diff = mean over {unit}s of the per-{unit} difference "
            f"(seeds averaged per {unit}), {confidence:.0%} two-stage bootstrap interval ({unit}s, then seeds), "
            f"exact sign-flip test over {unit}s; Holm at {alpha:g} within the primary family (eval.primary: the "
            f"findings, ▲ / ▼) and separately within the exploratory rows (△ / ▽, never a finding); {equiv}; "
            f"detectable: the smallest mean difference this run could call significant at alpha / family size "
            f"with the observed spread (none: too few {unit}s). See docs/methods.md.\n\n" + to_markdown(rows))


def write_report(predictions: pd.DataFrame, classes: Sequence[str], out_dir: str | Path,
                 quality: pd.DataFrame | None = None, **options) -> pd.DataFrame:
    """:func:`_write_report` all or nothing: its files are written to a staging folder and moved
    into ``out_dir`` only when every one is complete, so a failed report leaves the last one whole."""
    with staged_files(out_dir) as staging:
        return _write_report(predictions, classes, staging, quality, **options)


def _write_report(
    predictions: pd.DataFrame,
    classes: Sequence[str],
    out_dir: str | Path,
    quality: pd.DataFrame | None = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    references: Sequence[str] = (),
    primary: Sequence[dict] = (),
    equivalence_margin: float | None = None,
) -> pd.DataFrame:
    """Write results.csv, results.md, runs.csv, significance.csv, speaker_differences.csv, heads_chosen.csv,
    augmenters_by_validation.csv, metrics.json, plots/confusion/<combination>.csv,
    plots/significance/forest.png and the learning curve, plots/learning_curve.csv and .png
    (:mod:`adan_ser.reporting.learning_curve`; written with a single training fraction too, then one
    point per method × train data × classifier).

    ``quality``: the augment stages' quality.csv rows, pooled. augmenters_by_validation.csv
    (:func:`adan_ser.reporting.augmenter_choice.augmenter_table`, the evaluated methods only) is
    written on every run, only its header when no quality row carries the validation columns (an
    older run, ``val_groups`` 0); results.md then has no augmenter table.

    ``alpha``, ``confidence``, ``n_resamples``, ``seed`` (the resampling's only seed),
    ``references`` (extra reference methods), ``primary`` (the confirmatory comparisons) and
    ``equivalence_margin`` go to :func:`adan_ser.reporting.significance.significance_table`;
    speaker_differences.csv holds its per-unit differences
    (:func:`~adan_ser.reporting.significance.unit_differences`, read by ``adan pool``).
    """
    from adan_ser.reporting.augmenter_choice import augmenter_table, choice_lines
    from adan_ser.reporting.forest import exploratory_plot, forest_plot
    from adan_ser.reporting.head_choice import chosen_heads
    from adan_ser.reporting.learning_curve import learning_curve, learning_curve_plot
    from adan_ser.reporting.significance import paired_counts, significance_table, unit_differences

    out_dir = Path(out_dir)
    predictions = fill_fraction(predictions)
    results = summarize(predictions, classes)
    write_csv(results, out_dir / "results.csv")
    paired = paired_counts(predictions, classes, references=references, primary=primary)
    table = significance_table(predictions, classes, alpha=alpha, confidence=confidence,
                               n_resamples=n_resamples, seed=seed, references=references, primary=primary,
                               equivalence_margin=equivalence_margin, paired=paired)
    write_csv(table, out_dir / "significance.csv")
    write_csv(unit_differences(predictions, classes, references=references, primary=primary, paired=paired),
              out_dir / "speaker_differences.csv")
    forest_plot(table, out_dir / "plots" / "significance" / "forest.png", confidence=confidence)
    exploratory_plot(table, out_dir / "plots" / "significance" / "forest_exploratory.png", confidence=confidence)
    curve = learning_curve(table)
    write_csv(curve, out_dir / "plots" / "learning_curve.csv")
    learning_curve_plot(curve, out_dir / "plots" / "learning_curve.png", confidence=confidence)
    md = to_markdown(results)
    if len(results) > 1:
        md += "\n" + to_markdown(comparison_table(marked_results(results, table)))
        md += significance_markdown(table, alpha, confidence)
    heads = head_table(results)
    if len(heads):
        md += "\nClassifier heads and losses (WA / UAR per training data):\n\n" + to_markdown(heads)
    chosen = chosen_heads(predictions, results, table)
    write_csv(chosen, out_dir / "heads_chosen.csv")
    if len(chosen):
        md += ("\nPlain head and the margin head chosen by inner-validation UAR (mean over seeds × folds of "
               "the UAR on each fold's validation speaker; test folds play no part in the choice), with the "
               "test-best head for comparison:\n\n" + to_markdown(chosen))
    evaluated = set(predictions["method"]) - {REFERENCE_METHOD}
    augmenters = augmenter_table(quality[quality["method"].isin(evaluated)]
                                 if quality is not None and "method" in quality else None)
    write_csv(augmenters, out_dir / "augmenters_by_validation.csv")
    if len(augmenters):
        shown = augmenters.assign(meets_bars=augmenters["meets_bars"].map({True: "yes", False: "no"}),
                                  chosen=augmenters["chosen"].map({True: "◀", False: ""}))
        md += ("\nAugmenters compared on the inner-validation speakers (mean over seeds × folds; linear SVM "
               "trained on synthetic, real or real + synthetic rows, UAR on the DNN's validation speakers, "
               "whom no augmenter saw; test speakers play no part in the choice):\n\n" + to_markdown(shown)
               + "\n" + choice_lines(augmenters))
    summary = metrics(predictions, classes)
    q = quality_summary(quality, predictions, classes) if quality is not None and len(quality) else {}
    if q:
        summary["quality"] = q
        qtable = pd.DataFrame([{"method": m, **v} for m, v in q.items()])
        md += "\nQuality of the synthetic data (mean over seeds × folds):\n\n" + to_markdown(qtable)
    if FRACTION in predictions and len(curve):
        md += (f"\nLearning curve: UAR gain over real data in points (mean over test speakers of the per-speaker "
               f"gain), {confidence:.0%} interval with speakers, then seeds resampled "
               "(plots/learning_curve.png):\n\n" + to_markdown(curve))
    if "normalise" in predictions:  # classify.normalise: say it first, in plain words
        md = normalise_note(predictions["normalise"]) + md
        summary["normalise"] = sorted(predictions["normalise"].dropna().astype(str).unique())
    write_text(md, out_dir / "results.md")
    write_csv(fold_scores(predictions, classes), out_dir / "runs.csv")
    write_json(summary, out_dir / "metrics.json")
    for _, part in predictions.groupby(key_columns(predictions), sort=False):
        pairs = part[["true", "pred"]].rename(columns={"true": "actual", "pred": "predicted"})
        write_csv(pairs, out_dir / "plots" / "confusion" / f"{combination_name(part.iloc[0])}.csv")
    return results


def report_from_files(
    prediction_paths: Sequence[str | Path],
    manifest_path: str | Path,
    out_dir: str | Path,
    augment_dir: str | Path | None = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    references: Sequence[str] = (),
    primary: Sequence[dict] = (),
    equivalence_margin: float | None = None,
) -> pd.DataFrame:
    """:func:`write_report` from the stage files; returns the results table.

    ``prediction_paths``: each the evaluate stage's folder (or one parquet file) or the
    evaluate-spectro file; their rows are pooled. The classes are the manifest's emotions (sorted).
    ``augment_dir``: the augment stages' report folder; its ``<method>/quality.csv`` files, if
    any, add the synthetic-data quality table.
    """
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.contracts.predictions import load_all
    from adan_ser.core.errors import AdanError

    if not (0 < alpha < 1 and 0 < confidence < 1) or n_resamples < 1:
        raise AdanError(f"eval.alpha and eval.confidence must lie in (0, 1) and eval.n_resamples be ≥ 1, "
                        f"got {alpha}, {confidence}, {n_resamples}")
    predictions = load_all(prediction_paths)
    classes = sorted(load_manifest(manifest_path)["emotion"].unique())
    quality = None
    if augment_dir and Path(augment_dir).is_dir():
        parts = [read_quality(q) for q in sorted(Path(augment_dir).glob("*/quality.csv"))]
        quality = pd.concat(parts, ignore_index=True) if parts else None
    return write_report(predictions, classes, out_dir, quality=quality, alpha=alpha, confidence=confidence,
                        n_resamples=n_resamples, seed=seed, references=references, primary=primary,
                        equivalence_margin=equivalence_margin)
