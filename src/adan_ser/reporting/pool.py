"""Pool the per-unit differences of several runs (e.g. one per corpus) into one test per comparison.

Input: the ``speaker_differences.csv`` of each run's report
(:func:`adan_ser.reporting.significance.unit_differences`: one row per comparison × metric × unit ×
seed, ``d`` in percentage points). A comparison is pooled when every run has it (same method, train
data, classifier, head, training fraction, reference and metric; the corpora's emotion sets may
differ, each d is that corpus's own per-speaker difference). Per comparison the output holds one row
per run (its corpus) and one ``pooled`` row:

- statistic: the mean over all units of all runs of d_u (seeds averaged per unit): every speaker
  weighs the same, so a corpus weighs by its number of speakers (34 EmoDB + RAVDESS speakers: 10 and
  24). Weighing corpora equally would let EmoDB's 10 speakers count as much as RAVDESS's 24;
  the question asked is whether the method helps a test speaker, whichever corpus it comes from.
- test: sign flips of whole units (each unit's seeds together), the same null as one run's, over
  all units; a flip never moves a unit out of its corpus, so the test is stratified by corpus. Exact
  up to 20 units in all, else ``n_resamples`` seeded random patterns.
- interval: the two-stage bootstrap with units drawn within their corpus (each keeps its size),
  then seeds within a unit.
- family: ``primary`` when the comparison is primary in every run, else exploratory; Holm, the
  equivalence test, the verdict and the detectable effect as in one run, within each family of the
  pooled rows (and, for the corpus rows, within each corpus's rows).

Two runs of the same corpus share speakers, so they are refused.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir, write_csv, write_text
from adan_ser.reporting.forest import data_label
from adan_ser.reporting.paired_stats import two_stage_ci
from adan_ser.reporting.significance import EXPLORATORY, PRIMARY, add_tests, statistic_name

#: What identifies a comparison across runs.
COMPARISON = ["method", "train_data", "classifier", "head", FRACTION, "ref_method", "ref_train_data",
              "ref_head", "metric"]
POOL_COLUMNS = ["comparison"] + COMPARISON + [
    "corpus", "feature_set", "unit", "statistic", "n_units", "n_seeds", "diff", "ci_low", "ci_high", "p",
    "family", "p_holm", "significant", "margin", "p_equiv", "p_equiv_holm", "verdict", "detectable",
]


def _label(key: dict) -> str:
    return (f"{key['classifier']} {data_label(key['method'], key['train_data'], key['head'])} vs "
            f"{data_label(key['ref_method'], key['ref_train_data'], key['ref_head'])}, "
            f"fraction {float(key[FRACTION]):g}, {key['metric'].upper()}")


def pool_table(runs: Sequence[pd.DataFrame], *, alpha: float = 0.05, confidence: float = 0.95,
               n_resamples: int = 9999, seed: int = 0, equivalence_margin: float | None = None) -> pd.DataFrame:
    """Per comparison common to all ``runs`` (each a speaker_differences table of one corpus × feature
    set), one row per run and a ``pooled`` row (corpus ``pooled``) with :data:`POOL_COLUMNS`."""
    if len(runs) < 2:
        raise AdanError(f"pooling needs at least two runs, got {len(runs)}")
    frames, names = [], []
    for i, run in enumerate(runs):
        run = run.copy()
        if FRACTION not in run:
            run[FRACTION] = 1.0
        run[FRACTION] = run[FRACTION].fillna(1.0).astype(float)
        sets = run[["corpus", "feature_set"]].drop_duplicates()
        if len(sets) != 1:
            raise AdanError(f"run {i + 1} holds {len(sets)} corpus × feature set tables; pool one per run")
        name = tuple(sets.iloc[0])
        if name[0] in [n[0] for n in names]:
            raise AdanError(f"two runs of corpus {name[0]!r}: their speakers are the same, not independent")
        names.append(name)
        frames.append(run)
    keys = [set(map(tuple, f[COMPARISON].drop_duplicates().itertuples(index=False))) for f in frames]
    common = [k for k in dict.fromkeys(map(tuple, frames[0][COMPARISON].drop_duplicates().itertuples(index=False)))
              if all(k in ks for ks in keys)]
    if not common:
        raise AdanError("the runs have no comparison in common (method, train data, classifier, head, "
                        "fraction, reference, metric)")
    records, diffs = [], []
    for k in common:
        key = dict(zip(COMPARISON, k))
        parts, family = [], PRIMARY
        for f, (corpus, feature_set) in zip(frames, names):
            rows = f[(f[COMPARISON] == pd.Series(k, index=COMPARISON)).all(axis=1)]
            if (rows["family"] != PRIMARY).any():
                family = EXPLORATORY
            wide = rows.pivot_table(index="unit_id", columns="seed", values="d", aggfunc="first")
            if wide.isna().any().any():
                raise AdanError(f"{corpus}: {_label(key)} lacks a seed on some unit")
            unit = rows["unit"].iloc[0]
            parts.append(wide.to_numpy(dtype=float))
            lo, hi = two_stage_ci(parts[-1], n_resamples=n_resamples, confidence=confidence, seed=seed)
            diffs.append(parts[-1].mean(axis=1))
            records.append(dict(key, comparison=_label(key), corpus=corpus, feature_set=feature_set, unit=unit,
                                statistic=statistic_name(key["metric"], unit), n_units=len(wide),
                                n_seeds=wide.shape[1], diff=float(diffs[-1].mean()), ci_low=lo, ci_high=hi))
        for r in records[-len(frames):]:
            r["family"] = family
        lo, hi = two_stage_ci(parts, n_resamples=n_resamples, confidence=confidence, seed=seed)
        diffs.append(np.concatenate([x.mean(axis=1) for x in parts]))
        unit = records[-1]["unit"] if len({r["unit"] for r in records[-len(frames):]}) == 1 else "unit"
        records.append(dict(key, comparison=_label(key), corpus="pooled", feature_set="+".join(n[1] for n in names),
                            unit=unit, statistic=statistic_name(key["metric"], unit), n_units=len(diffs[-1]),
                            n_seeds=max(x.shape[1] for x in parts), diff=float(diffs[-1].mean()),
                            ci_low=lo, ci_high=hi, family=family))
    table = pd.DataFrame(records)
    table = add_tests(table, diffs, alpha=alpha, n_resamples=n_resamples, seed=seed,
                      equivalence_margin=equivalence_margin, groups=["corpus", "family"])
    return table[POOL_COLUMNS]


def pool_markdown(table: pd.DataFrame, alpha: float, confidence: float) -> str:
    """The pooled table in Markdown: primary comparisons first, per comparison its corpora and the pool."""
    from adan_ser.reporting.report import to_markdown

    order = np.argsort((table["family"] != PRIMARY).to_numpy(), kind="stable")
    t = table.iloc[order]
    rows = pd.DataFrame({
        "family": t["family"], "comparison": t["comparison"], "corpus": t["corpus"],
        "units": t["n_units"].astype(str), "seeds": t["n_seeds"].astype(str),
        "diff": t["diff"].map(lambda v: f"{v:+.2f}"),
        f"{confidence:.0%} CI": [f"[{lo:+.2f}, {hi:+.2f}]" for lo, hi in zip(t["ci_low"], t["ci_high"])],
        "p": t["p"].map(lambda v: f"{v:.4f}"), "p (Holm)": t["p_holm"].map(lambda v: f"{v:.4f}"),
        "p equiv (Holm)": t["p_equiv_holm"].map(lambda v: "" if v != v else f"{v:.4f}"),
        "verdict": t["verdict"],
        "detectable": t["detectable"].map(lambda v: "none" if v == float("inf") else f"{v:.2f}"),
    })
    return ("Pooled paired comparisons: diff = mean over all units (speakers or sessions) of the per-unit "
            "difference, seeds averaged per unit; sign-flip test over units (stratified by corpus), "
            f"two-stage bootstrap within corpora; Holm at {alpha:g} within the primary family and within "
            "the exploratory rows, per corpus and for the pooled rows; only primary pooled rows are "
            "findings.\n\n" + to_markdown(rows))


DIFFERENCES = "speaker_differences.csv"


def read_run(run: str | Path, repo: str | Path = ".") -> pd.DataFrame:
    """The speaker_differences table of one run: ``<run>/speaker_differences.csv`` when ``run`` is a
    folder, else ``results/speaker_differences.csv`` as committed in ``run`` read as a DVC experiment
    name (its ref under ``refs/exps/``) or any git revision of ``repo`` (the report writes the file
    uncached, so an experiment's commit holds it). Neither → AdanError naming ``run``."""
    import io

    path = Path(run) / DIFFERENCES
    if path.is_file():
        return pd.read_csv(path, dtype={"unit_id": str})
    if Path(run).is_dir():
        raise AdanError(f"{run}: no {DIFFERENCES} (give results folders written by adan report)")

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)

    refs = git("for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    named = [r for r in refs if r.rsplit("/", 1)[-1] == str(run)]
    if len(named) > 1:
        raise AdanError(f"{run}: {len(named)} DVC experiments have this name; give a git revision")
    shown = git("show", f"{(named or [str(run)])[0]}:results/{DIFFERENCES}")
    if shown.returncode != 0:
        raise AdanError(f"{run}: neither a results folder with {DIFFERENCES} nor a DVC experiment or git "
                        f"revision that holds results/{DIFFERENCES}")
    return pd.read_csv(io.StringIO(shown.stdout), dtype={"unit_id": str})


def pool_from_folders(runs: Sequence[str | Path], out_dir: str | Path, *, alpha: float = 0.05,
                      confidence: float = 0.95, n_resamples: int = 9999, seed: int = 0,
                      equivalence_margin: float | None = None) -> pd.DataFrame:
    """Read every run's speaker differences (:func:`read_run`: a results folder, a DVC experiment or a
    git revision), pool them (:func:`pool_table`) and
    write ``out_dir`` as a whole (nothing there unless everything was written): pooled.csv,
    pooled.md and forest.png (:func:`adan_ser.reporting.forest.pooled_forest_plot`)."""
    from adan_ser.reporting.forest import pooled_forest_plot

    frames = [read_run(run) for run in runs]
    table = pool_table(frames, alpha=alpha, confidence=confidence, n_resamples=n_resamples, seed=seed,
                       equivalence_margin=equivalence_margin)
    with atomic_dir(out_dir) as tmp:
        write_csv(table, tmp / "pooled.csv")
        write_text(pool_markdown(table, alpha, confidence), tmp / "pooled.md")
        pooled_forest_plot(table, tmp / "forest.png", confidence=confidence)
    return table
