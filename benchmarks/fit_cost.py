"""Seconds to fit the SVM and the DNN per 1k training vectors, for the cost model in docs/scaling.md.

    python benchmarks/fit_cost.py --features PATH.parquet --manifest PATH.csv
                                  [--sizes 500 2000] [--threads 1] [--params params.yaml]

Training sets of each size are drawn (with replacement) from the real feature table, with 1 %
Gaussian jitter in z-units so no row is an exact copy; labels and speakers come with the rows.
Each classifier is the one ``adan evaluate`` builds from ``classify.*`` in the params file,
fitted once per size with speaker groups (the DNN's early stopping holds a speaker out). Printed:
fit wall and CPU seconds, CPU seconds per 1k vectors (and per epoch for the DNN, whose early stopping
makes the epoch count vary), and the exponent b of t ~ n^b between the two sizes
(1 = linear; kernel SVMs grow faster), which the extrapolation in docs/scaling.md uses.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

from adan_ser.classifiers.factory import make_classifier
from adan_ser.contracts.align import align, load_features
from adan_ser.contracts.manifest import load_manifest
from adan_ser.params import get, load_params


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the machine may be shared)")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--models", nargs="+", default=["svm", "dnn"])
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    p = load_params(args.params)
    rows, X, _ = align(load_manifest(args.manifest), load_features(args.features))
    y, groups = rows["emotion"].to_numpy(), rows["speaker"].to_numpy().astype(str)
    scale = X.std(axis=0) + 1e-12
    print(f"{len(X)} real vectors x {X.shape[1]} features, {args.threads} torch thread(s)")
    print(f"{'model':<6}{'n':>7}{'wall s':>9}{'cpu s':>9}{'cpu s/1k':>9}{'epochs':>8}{'cpu s/1k/epoch':>16}")
    for name in args.models:
        params = get(p, f"classify.{name}", {}) or {}
        times, epochs_at = {}, {}
        for n in args.sizes:
            rng = np.random.default_rng(n)
            pick = rng.integers(0, len(X), n)
            Xn = X[pick] + 0.01 * scale * rng.standard_normal((n, X.shape[1]))
            model = make_classifier(name, {**params, "device": "cpu"} if name == "dnn" else params, seed=0)
            start, cpu0 = time.perf_counter(), time.process_time()
            model.fit(Xn, y[pick], clf__groups=groups[pick])
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
            # CPU seconds, not wall: on a shared machine they do not include waiting for a core
            # (with --threads 1 the two agree on an idle machine).
            times[n] = cpu
            # The DNN stops early after a data-dependent number of epochs: per epoch is the rate.
            epochs = len(getattr(model[-1], "history_", [])) or 1
            epochs_at[n] = epochs
            print(f"{name:<6}{n:>7}{wall:>9.2f}{cpu:>9.2f}{1000 * cpu / n:>9.2f}{epochs:>8}"
                  f"{1000 * times[n] / n / epochs:>16.3f}", flush=True)
        if len(times) >= 2:
            (n0, t0), (n1, t1) = sorted(times.items())[0], sorted(times.items())[-1]
            if name == "dnn":
                t0, t1 = t0 / epochs_at[n0], t1 / epochs_at[n1]
            print(f"{name}: t ~ n^{math.log(t1 / t0) / math.log(n1 / n0):.2f} between n={n0} and n={n1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
