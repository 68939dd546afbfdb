"""Cost of one fold's synthetic-set measures against the augmenter's own fit, at a chosen size.

    python benchmarks/measures.py [--rows 4500] [--speakers 9] [--dim 4368] [--method smote]
                                  [--features PATH.parquet --manifest PATH.csv] [--cap N]

One leave-one-speaker-out fold of ``rows`` utterances from ``speakers`` speakers (7 emotions):
the augmenter trains on the rows of all speakers but the test speaker and one inner-validation
speaker, as the augment stage does. Rows are drawn (with replacement, 1 % Gaussian jitter in
z-units) from a real feature table when ``--features``/``--manifest`` are given, else from 7
Gaussian classes in ``--dim`` dimensions. Timed, in this process (one thread, as a Dask worker):
the augmenter's fit (``generate``), then the measures of the augment stage: ``quality`` (two-sample
test, nearest-neighbour ratio, copies, spread) and ``validation_measures`` (three linear SVMs), and
for latent methods ``latent_diagnostics``. Printed: wall and CPU seconds of each, and the measures'
share of the fit. ``--cap N`` sets the measures' row caps (``quality.MEASURE_ROWS`` and
``QUERY_ROWS``), e.g. a value above every set to time them uncapped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _data(args):
    rng = np.random.default_rng(0)
    if args.features:
        from adan_ser.contracts.align import align, load_features
        from adan_ser.contracts.manifest import load_manifest

        rows, X, _ = align(load_manifest(args.manifest), load_features(args.features))
        y_all = rows["emotion"].to_numpy()
        pick = rng.integers(0, len(X), args.rows)
        X = X[pick] + 0.01 * (X.std(axis=0) + 1e-12) * rng.standard_normal((args.rows, X.shape[1]))
        y = y_all[pick]
    else:
        y = np.array(list("abcdefg"))[rng.integers(0, 7, args.rows)]
        centres = rng.normal(size=(7, args.dim))
        X = centres[np.unique(y, return_inverse=True)[1]] + 2.0 * rng.standard_normal((args.rows, args.dim))
    speakers = np.arange(args.rows) % args.speakers
    return X, y, speakers


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=4500)
    ap.add_argument("--speakers", type=int, default=9)
    ap.add_argument("--dim", type=int, default=4368)
    ap.add_argument("--method", default="smote")
    ap.add_argument("--features")
    ap.add_argument("--manifest")
    ap.add_argument("--cap", type=int)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    import adan_ser.augment.measures.quality as quality_mod
    from adan_ser.augment.measures.diagnostics import latent_diagnostics, validation_measures
    from adan_ser.augment.measures.quality import quality
    from adan_ser.augment.registry import make_sampler

    if args.cap is not None:
        quality_mod.MEASURE_ROWS = quality_mod.QUERY_ROWS = args.cap
        quality_mod.subsample.__defaults__ = (args.cap, 0)

    X, y, speakers = _data(args)
    train, val = speakers >= 2, speakers == 1  # speaker 0 is the test speaker, 1 the validation one
    Xt, yt = X[train], y[train]
    print(f"{args.rows} rows x {X.shape[1]} features, {args.speakers} speakers: augmenter trains on {len(Xt)}, "
          f"validation {val.sum()} rows; method {args.method}; caps {quality_mod.MEASURE_ROWS} / {quality_mod.QUERY_ROWS}")
    sampler = make_sampler(args.method, {}, seed=0, ratio=1)
    (X_syn, y_syn), fit_wall, fit_cpu = _timed(lambda: sampler.generate(Xt, yt))
    print(f"{'step':<22}{'wall s':>9}{'cpu s':>9}")
    print(f"{'augmenter fit':<22}{fit_wall:>9.2f}{fit_cpu:>9.2f}  ({len(X_syn)} synthetic rows)")
    steps = [("quality", lambda: quality(Xt, X_syn, 0, yt, y_syn)),
             ("validation_measures", lambda: validation_measures(Xt, yt, X_syn, y_syn, X[val], y[val]))]
    if hasattr(sampler, "adan_"):
        steps.append(("latent_diagnostics", lambda: latent_diagnostics(sampler, Xt, yt, X_syn, y_syn, 0)))
    total_wall = total_cpu = 0.0
    for name, fn in steps:
        out, wall, cpu = _timed(fn)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"{name:<22}{wall:>9.2f}{cpu:>9.2f}  {', '.join(f'{k} {v:.4g}' for k, v in out.items())}")
    print(f"{'measures, total':<22}{total_wall:>9.2f}{total_cpu:>9.2f}  "
          f"= {100 * total_cpu / max(fit_cpu, 1e-9):.0f} % of the fit's CPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
