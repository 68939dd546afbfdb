"""Extrapolate each stage's cost to 10^5 and 10^6 utterances from measured growth exponents.

    python benchmarks/extrapolate.py --table /tmp/adan-scale/scale_corpus.csv [--sizes 100000 1000000]
                                     [--workers 1 10 100] [--folds 10] [--combinations 8]
                                     [--task-table benchmarks/scale_evaluate_combinations_ravdess_20k.csv]

``--table``: the CSV of ``benchmarks/scale_corpus.py`` (one row per size × stage, CPU seconds).
For each stage measured at two or more sizes, the exponent b of t ~ n^b (CPU time) is taken
between the smallest and the largest size and, with three or more sizes, also between the two
largest (where fixed costs weigh least); the larger of the two is used (``--exponent max``, the
default; ``ends`` or ``top`` picks one), and the stage's CPU time at N is t(n_max) (N / n_max)^b.
Wall time on W one-thread workers: extraction (files in chunks) divides by W; an augment stage fits
its folds in parallel, so it divides by min(W, folds); evaluate submits the folds of all its
``--combinations`` (method, train data, classifier) at once, so it divides by min(W, folds ×
combinations), and it can never take less than its longest task: with ``--task-table`` (one row per
combination of one evaluate run: ``combination``, ``wall_s``, ``folds``) that task's share of the
stage's CPU time is the longest combination's share divided by its folds (tasks of one combination
are taken as equal); without it all tasks are taken as equal. Printed as a markdown table with each
size × worker count's total and the stage that bounds it. An extrapolation, not a measurement.
"""

from __future__ import annotations

import argparse
import math
import sys

import pandas as pd


def _fmt(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--combinations", type=int, default=1, help="evaluate's combinations, run side by side")
    ap.add_argument("--task-table", help="per-combination wall times of one evaluate run (CSV)")
    ap.add_argument("--exponent", choices=["max", "ends", "top"], default="max")
    args = ap.parse_args(argv)
    table = pd.read_csv(args.table)
    table = table[~table["stage"].str.startswith("build")]
    eval_tasks = args.folds * args.combinations
    eval_longest = 1.0 / eval_tasks  # share of evaluate's CPU time in its longest task
    if args.task_table:
        combos = pd.read_csv(args.task_table)
        if len(combos) != args.combinations:
            raise SystemExit(f"--task-table has {len(combos)} combinations, --combinations says {args.combinations}")
        eval_longest = float((combos["wall_s"] / combos["folds"]).max() / combos["wall_s"].sum())
    fits = []
    for stage, part in table.groupby("stage", sort=False):
        t = part.groupby("n")["cpu_s"].mean().sort_index()
        if len(t) < 2 or t.iloc[0] <= 0:
            continue
        (n0, t0), (n1, t1) = (t.index[0], t.iloc[0]), (t.index[-1], t.iloc[-1])
        ends = math.log(t1 / t0) / math.log(n1 / n0)
        top = math.log(t1 / t.iloc[-2]) / math.log(n1 / t.index[-2]) if len(t) >= 3 else ends
        b = {"ends": ends, "top": top, "max": max(ends, top)}[args.exponent]
        fits.append((stage, ends, top, b, n1, t1))
    cols = [f"{n:.0e}, W = {w}" for n in args.sizes for w in args.workers]
    print("| stage | b, smallest → largest | b, two largest | " + " | ".join(cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    totals = {c: {} for c in cols}
    for stage, ends, top, b, n1, t1 in fits:
        cells = []
        for n in args.sizes:
            cpu = t1 * (n / n1) ** b
            for w in args.workers:
                if stage == "extract":
                    wall = cpu / w
                elif stage.startswith("augment"):
                    wall = cpu / min(w, args.folds)
                elif stage.startswith("evaluate"):
                    wall = max(cpu / min(w, eval_tasks), cpu * eval_longest)
                else:
                    wall = cpu
                totals[f"{n:.0e}, W = {w}"][stage] = wall
                cells.append(_fmt(wall))
        print(f"| {stage} | {ends:.2f} | {top:.2f} | " + " | ".join(cells) + " |")
    print("| **total** (bounded by) | | | " + " | ".join(
        f"{_fmt(sum(v.values()))} ({max(v, key=v.get)})" for v in totals.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
