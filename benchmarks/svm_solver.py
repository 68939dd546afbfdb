"""The linear SVM's two solvers side by side: fit cost by size, agreement, and the LOSO figure.

    python benchmarks/svm_solver.py --features PATH.parquet --manifest PATH.csv
                                    [--sizes 500 1000 2000 4000] [--C 0.001] [--loso]

Training sets of each size are drawn (with replacement) from the real feature table with 1 %
Gaussian jitter in z-units (as benchmarks/fit_cost.py), z-normalised as ``adan evaluate`` does
(the classifier pipeline of ``make_classifier``), and fitted by ``SVMClassifier(kernel="linear")``
with ``solver`` libsvm and liblinear. Rows are drawn from all speakers but the last two (sorted);
printed per size: CPU and wall seconds of each fit, and the share of those two speakers' rows on
which the two solvers predict the same class; then the
exponent b of t ~ n^b between the smallest and largest size per solver (CPU time: waiting for a
shared core does not count). ``--loso``: leave-one-speaker-out WA / UAR of both solvers on the
whole table (the EmoDB reference figure), and their per-utterance agreement.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from adan_ser.classifiers.factory import make_classifier
from adan_ser.contracts.align import align, load_features
from adan_ser.contracts.manifest import load_manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--sizes", type=int, nargs="*", default=[500, 1000, 2000, 4000])
    ap.add_argument("--C", type=float, default=0.001)
    ap.add_argument("--loso", action="store_true")
    args = ap.parse_args(argv)

    manifest = load_manifest(args.manifest)
    rows, X, _ = align(manifest, load_features(args.features))
    y = rows["emotion"].to_numpy()
    # two speakers never drawn: the rows the two solvers' predictions are compared on
    speakers = rows["speaker"].to_numpy().astype(str)
    held_out = np.isin(speakers, np.unique(speakers)[-2:])
    pool, held = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    scale = X.std(axis=0) + 1e-12
    print(f"{len(X)} real vectors x {X.shape[1]} features, C = {args.C}")
    print(f"{'n':>7}{'libsvm cpu s':>14}{'wall s':>9}{'liblinear cpu s':>17}{'wall s':>9}{'agree %':>9}")
    times = {"libsvm": {}, "liblinear": {}}
    for n in args.sizes:
        rng = np.random.default_rng(n)
        pick = pool[rng.integers(0, len(pool), n)]
        Xn = X[pick] + 0.01 * scale * rng.standard_normal((n, X.shape[1]))
        preds, line = {}, f"{n:>7}"
        for solver in ("libsvm", "liblinear"):
            model = make_classifier("svm", {"kernel": "linear", "C": args.C, "solver": solver}, seed=0)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            model.fit(Xn, y[pick])
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            times[solver][n] = cpu
            preds[solver] = model.predict(X[held])
            line += f"{cpu:>{14 if solver == 'libsvm' else 17}.2f}{wall:>9.2f}"
        print(line + f"{100 * np.mean(preds['libsvm'] == preds['liblinear']):>9.1f}", flush=True)
    for solver, t in times.items():
        if len(t) >= 2:
            (n0, t0), (n1, t1) = sorted(t.items())[0], sorted(t.items())[-1]
            print(f"{solver}: t ~ n^{math.log(t1 / t0) / math.log(n1 / n0):.2f} between n={n0} and n={n1}")

    if args.loso:
        from adan_ser.evaluation.evaluate import evaluate
        from adan_ser.reporting.metrics import scores

        labels = sorted(manifest["emotion"].unique())
        pred = {}
        for solver in ("libsvm", "liblinear"):
            cpu0 = time.process_time()
            pred[solver] = evaluate(manifest, load_features(args.features), "leave-one-speaker-out",
                                    {"svm": {"kernel": "linear", "C": args.C, "solver": solver}}, seeds=0,
                                    corpus="loso", feature_set="features")
            s = scores(pred[solver]["true"], pred[solver]["pred"], labels)
            print(f"LOSO {solver}: WA {s['wa']:.2f} UAR {s['uar']:.2f} ({time.process_time() - cpu0:.1f} CPU s)")
        a, b = (pred[s].sort_values(["fold", "file"]) for s in ("libsvm", "liblinear"))
        same = (a["pred"].to_numpy() == b["pred"].to_numpy())
        print(f"LOSO agreement: {100 * same.mean():.2f} % of {len(same)} utterances ({(~same).sum()} differ)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
