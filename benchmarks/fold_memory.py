"""Peak memory of the evaluate stage's fold loop, in copies of the feature matrix.

    python benchmarks/fold_memory.py [--rows 3000] [--dim 3981] [--model svm] [--workers 2]
                                     [--in-flight 2] [--folds 10]

``rows`` utterances of ``dim`` features (Gaussian, float32 values as openSMILE writes them) from
10 speakers, 8 emotions; ten leave-one-speaker-out folds, each trained on its real rows plus a
synthetic set of as many rows (``augment.ratio`` 1), run by
:func:`adan_ser.evaluation.runner.cross_validate` on a ``LocalCluster`` of ``workers`` one-thread
processes, as the evaluate stage runs them. ``--in-flight``: tasks in flight per worker
(default ``core.scheduler.IN_FLIGHT_PER_SLOT``; the look-ahead ``AHEAD_PER_SLOT`` scaled with it). Sampled every 50 ms with psutil: the resident memory of
this process (the client and the Dask scheduler) and of each worker. Printed: each process's peak,
the tree's peak, and the tree's peak above the same run at ``--rows 500`` (the libraries' own
footprint, measured first) in units of the feature matrix (rows × dim float64).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np


def _run(rows: int, dim: int, model: str, in_flight: int, workers: int, folds: int) -> tuple[float, dict]:
    import psutil
    import yaml

    import adan_ser.core.scheduler as scheduler
    from adan_ser.classifiers.factory import make_classifier
    from adan_ser.contracts.folds import Fold
    from adan_ser.evaluation.runner import cross_validate

    # the scheduler's own look-ahead, in proportion to the tasks in flight
    ahead = in_flight * scheduler.AHEAD_PER_SLOT // scheduler.IN_FLIGHT_PER_SLOT
    scheduler.IN_FLIGHT_PER_SLOT, scheduler.AHEAD_PER_SLOT = in_flight, ahead
    params = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "params.yaml")))["classify"]
    rng = np.random.default_rng(0)
    y = np.array([f"e{k}" for k in rng.integers(0, 8, rows)])
    speakers = np.array([f"s{i % folds}" for i in range(rows)])
    X = rng.standard_normal((rows, dim)).astype(np.float32).astype(np.float64)
    split = [Fold(f"s{k}", np.flatnonzero(speakers != f"s{k}"), np.flatnonzero(speakers == f"s{k}"))
             for k in range(folds)]

    def synthetic(fold):
        r = np.random.default_rng(int(fold[1:]))
        m = int(np.sum(speakers != fold))
        return r.standard_normal((m, dim)).astype(np.float32).astype(np.float64), y[:m]

    peaks: dict[str, float] = {}
    tree = [0.0]
    stop = threading.Event()

    def sample():
        me = psutil.Process()
        while not stop.is_set():
            total = 0
            for i, proc in enumerate([me, *me.children(recursive=True)]):
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                name = "client + scheduler" if i == 0 else f"pid {proc.pid}"
                peaks[name] = max(peaks.get(name, 0.0), rss / 2**20)
                total += rss
            tree[0] = max(tree[0], total / 2**20)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    cross_validate(X, y, speakers, split,
                   lambda fold: make_classifier(model, params.get(model, {}), 0, fold=fold),
                   train_data="real+synthetic", synthetic=synthetic, scheduler=f"localcluster:{workers}",
                   progress=False)
    stop.set()
    time.sleep(0.1)
    return tree[0], peaks


def main(argv: list[str] | None = None) -> int:
    import adan_ser.core.scheduler as scheduler

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--dim", type=int, default=3981)
    ap.add_argument("--model", default="svm")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--in-flight", type=int, default=scheduler.IN_FLIGHT_PER_SLOT)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--_one", type=int, help=argparse.SUPPRESS)  # internal: measure one size here
    args = ap.parse_args(argv)
    if args._one:
        tree, peaks = _run(args._one, args.dim, args.model, args.in_flight, args.workers, args.folds)
        print(f"{tree:.1f}")
        for name, mib in peaks.items():
            print(f"{name}\t{mib:.0f}", file=sys.stderr)
        return 0
    import subprocess

    def one(rows):  # a fresh process per size, so one size's arrays do not stay in the other's peak
        cmd = [sys.executable, __file__, "--_one", str(rows), "--dim", str(args.dim), "--model", args.model,
               "--workers", str(args.workers), "--in-flight", str(args.in_flight), "--folds", str(args.folds)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{rows} rows failed:\n{done.stderr[-2000:]}")
        return float(done.stdout.split()[-1]), done.stderr

    base, _ = one(500)
    tree, per_process = one(args.rows)
    unit = args.rows * args.dim * 8 / 2**20
    base_unit = 500 * args.dim * 8 / 2**20
    print(f"{args.model}, {args.rows} rows x {args.dim} features ({unit:.0f} MiB float64), "
          f"{args.workers} workers, {args.in_flight} tasks in flight per worker")
    print("\n".join(line for line in per_process.splitlines() if "\t" in line))
    # the libraries' footprint: the 500-row run less its own matrices at the same ratio
    above = (tree - base) / (unit - base_unit)
    print(f"tree peak {tree:.0f} MiB; above the 500-row run: {tree - base:.0f} MiB = {above:.1f} copies of the matrix")
    return 0


if __name__ == "__main__":
    sys.exit(main())
