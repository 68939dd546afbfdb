"""Benchmark ADAN training: seconds per epoch, epochs to convergence, GFLOP/s vs plain matmuls, SMOTE.

    python benchmarks/adan.py [--features PATH.parquet --manifest PATH.csv --fold SPEAKER]
                              [--epochs N] [--threads T] [--timing-epochs K] [--repeat R]
    python benchmarks/adan.py --remedies [--timing-epochs K] [--threads T]

Without ``--features`` the data are random: one EmoDB leave-one-speaker-out training fold's
shape, 480 × 4368 (IS11) with 7 classes. With them, the training rows of ``--fold`` (every
speaker but that one; the manifest has ``file``, ``speaker``, ``emotion``).

Rows printed:

* seconds per epoch — best and median over ``--timing-epochs`` epochs of a plain fit (the best
  filters out other processes on a shared machine; the median is what a run would see);
* achieved GFLOP/s of an ADAN epoch: the matmul FLOPs an epoch really executes (forward
  2·b·in·out per Linear; backward 2·b·in·out for the weight gradient when the weights learn and
  again for the input gradient when the input needs one; C and D inside G's loss are frozen, so
  only their input gradients) divided by the epoch time. The "nominal" count is the rule of
  thumb 3 × 2·b·in·out for every Linear in every pass;
* the same matmuls as plain ``torch.mm`` calls on preallocated tensors (the ceiling for these
  shapes on this machine), and the ratio — the target is ≥ 50 %;
* epochs to convergence (early stop, up to ``--epochs``) and its wall time, extrapolated to a
  10-fold run — the target is ≤ 30 min for 10 folds;
* imblearn SMOTE through :class:`SMOTESampler` on the same data (ratio 1).

``--remedies`` prints only the cost of the collapse remedies instead: seconds per epoch (best and
median over ``--timing-epochs``) of ADAN as configured by default, with ``adversarial="wasserstein"``
(WADAN settings: 2 critic steps), with each ``diversity`` term, and of the ``adan_latent`` method
(ADAN training plus the latent interpolation, decoding and residuals, timed once), each relative
to the default; the per-epoch diagnostics run every epoch in one extra row, to show their cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.baselines import SMOTESampler

TARGET_RATIO = 0.5
TARGET_TEN_FOLDS_S = 30 * 60
EMODB_SHAPE = (480, 4368, 7)


class TimedADAN(ADAN):
    """ADAN that records the wall time of each epoch in ``epoch_times_``."""

    def _loop(self, n_epochs, epoch_fn, monitor, early_stop, phase=None, probe=None, stop=None):
        self.epoch_times_ = []

        def timed():
            t = time.perf_counter()
            out = epoch_fn()
            self.epoch_times_.append(time.perf_counter() - t)
            return out

        timed_probe = None
        if probe is not None:
            def timed_probe(epoch):  # a check's cost counts in its epoch's time
                t = time.perf_counter()
                out = probe(epoch)
                self.epoch_times_[-1] += time.perf_counter() - t
                return out

        return super()._loop(n_epochs, timed, monitor, early_stop, phase, timed_probe, stop)


REMEDIES = {
    "default": {},
    "wasserstein (WADAN)": {"adversarial": "wasserstein", "d_steps": 2, "g_class_weight": 0.1},
    "diversity mode_seeking": {"diversity": "mode_seeking"},
    "diversity moments": {"diversity": "moments"},
    "calmer C + balanced D + reg. AE": {"c_label_smoothing": 0.1, "c_dropout": 0.3, "instance_noise": 0.1,
                                        "ae_noise": 0.1, "ae_dropout": 0.2},
    "diagnostics every epoch": {"diagnostics_every": 1},
}


def remedies(X, y, args) -> int:
    """Seconds per epoch of each remedy (see the module docstring)."""
    from adan_ser.augment.generators.latent_smote import LatentSMOTESampler

    base = None
    for name, kw in REMEDIES.items():
        m = TimedADAN(epochs=args.timing_epochs, early_stop=False, device="cpu", random_state=args.seed,
                      diagnostics_every=kw.pop("diagnostics_every", 0), **kw).fit(X, y)
        times = m.epoch_times_[1:] or m.epoch_times_
        best, median = min(times), statistics.median(times)
        base = base or median
        print(f"{name:34s} s/epoch best {best:.3f}, median {median:.3f} ({median / base:.2f}× default)")
    t = time.perf_counter()
    s = LatentSMOTESampler(TimedADAN(epochs=args.timing_epochs, early_stop=False, device="cpu", random_state=args.seed,
                                     diagnostics_every=0), ratio=1.0, random_state=args.seed)
    s.generate(X, y)
    wall = time.perf_counter() - t
    train = sum(s.adan_.epoch_times_)
    print(f"{'adan_latent (ratio 1)':34s} training {train:.2f} s + interpolation/decoding {wall - train:.2f} s "
          f"(once per fit)")
    return 0


def load_data(args) -> tuple[np.ndarray, np.ndarray, str]:
    if args.features is None:
        n, d, k = EMODB_SHAPE
        rng = np.random.default_rng(0)
        y = rng.integers(0, k, n)
        # Class-dependent means so the auxiliary classifier has something to learn.
        X = (rng.normal(size=(k, d))[y] * 0.5 + rng.normal(size=(n, d))).astype(np.float32)
        return X, y, f"random {n} × {d}, {k} classes"
    import pandas as pd

    if args.manifest is None or args.fold is None:
        sys.exit("--features needs --manifest and --fold")
    feats = pd.read_parquet(args.features)
    manifest = pd.read_csv(args.manifest, dtype={"speaker": str})  # keep "03", not 3
    table = manifest[["file", "speaker", "emotion"]].merge(feats, on="file", how="inner")
    train = table[table["speaker"].astype(str) != str(args.fold)]
    X = train.drop(columns=["file", "speaker", "emotion"]).to_numpy(np.float32)
    y = train["emotion"].to_numpy()
    return X, y, f"{Path(args.features).name}, fold {args.fold}: {X.shape[0]} × {X.shape[1]}, {len(np.unique(y))} classes"


def epoch_matmuls(m: ADAN, n_rows: int) -> list[tuple[int, int, int, str]]:
    """(rows, in, out, kind) of every matmul an ADAN epoch executes; kind: fwd | wgrad | igrad."""
    net = m.net_
    n_batches = m._n_batches(n_rows)
    sizes = [len(c) for c in torch.arange(n_rows).tensor_split(n_batches)]
    out = []

    def passes(mlp, rows, weights_learn, input_needs_grad, backward=True):
        for i, layer in enumerate(mlp.linears):
            shape = (rows, layer.in_features, layer.out_features)
            out.append((*shape, "fwd"))
            if not backward:
                continue
            if weights_learn:
                out.append((*shape, "wgrad"))
            if i > 0 or input_needs_grad:
                out.append((*shape, "igrad"))

    for b in sizes:
        passes(net.encoder, b, True, False)
        passes(net.generator, b, True, False)
        for _ in range(m.d_steps):
            passes(net.discriminator, 2 * b, True, False)
        passes(net.decoder, b, True, True)
        passes(net.classifier, b, True, True)
        passes(net.discriminator, b, False, True)  # frozen D in G's loss
        passes(net.classifier, b, False, True)  # frozen C in G's loss
    return out


def flops(matmuls) -> float:
    return float(sum(2 * r * i * o for r, i, o, _ in matmuls))


def nominal_flops(matmuls) -> float:
    return float(sum(3 * 2 * r * i * o for r, i, o, kind in matmuls if kind == "fwd"))


def plain_matmul_seconds(matmuls, repeat: int) -> float:
    """Best time of the epoch's matmuls as bare torch.mm calls with preallocated operands."""
    cache = {}
    ops = []
    for key in matmuls:
        if key not in cache:  # operands reused across batches, as ADAN reuses its weights
            r, i, o, kind = key
            if kind == "fwd":  # (r × i) @ (i × o)
                a, b = torch.randn(r, i), torch.randn(i, o)
            elif kind == "wgrad":  # (i × r) @ (r × o)
                a, b = torch.randn(r, i).t(), torch.randn(r, o)
            else:  # (r × o) @ (o × i)
                a, b = torch.randn(r, o), torch.randn(i, o).t()
            cache[key] = (a, b, torch.empty(a.shape[0], b.shape[1]))
        ops.append(cache[key])
    best = float("inf")
    for _ in range(repeat + 1):
        t = time.perf_counter()
        for a, b, c in ops:
            torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", help="feature table (.parquet): 'file' + numeric columns")
    ap.add_argument("--manifest", help="manifest (.csv) with file, speaker, emotion")
    ap.add_argument("--fold", help="held-out speaker; the benchmark trains on the others")
    ap.add_argument("--epochs", type=int, default=1500, help="cap for the convergence run (default 1500)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--timing-epochs", type=int, default=8, help="epochs timed for s/epoch (default 8)")
    ap.add_argument("--repeat", type=int, default=5, help="repeats of the plain-matmul reference (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--progress", action="store_true", help="tqdm bar for the convergence run")
    ap.add_argument("--remedies", action="store_true", help="only the per-epoch cost of the collapse remedies")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    X, y, label = load_data(args)
    print(f"data: {label}; torch {torch.__version__}, {torch.get_num_threads()} thread(s) on "
          f"{os.cpu_count()} core(s), device cpu")
    # Other processes on a shared machine slow every number below; the load average says how much.
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    if args.remedies:
        return remedies(X, y, args)

    # ---- seconds per epoch and GFLOP/s ----
    m = TimedADAN(epochs=args.timing_epochs, early_stop=False, device="cpu", random_state=args.seed).fit(X, y)
    times = m.epoch_times_[1:] or m.epoch_times_  # the first epoch pays one-off allocations
    best, median = min(times), statistics.median(times)
    mm = epoch_matmuls(m, len(X))
    f, fn = flops(mm), nominal_flops(mm)
    t_mm = plain_matmul_seconds(mm, args.repeat)
    print(f"seconds/epoch: best {best:.3f}, median {median:.3f} ({m._n_batches(len(X))} batches of ≈{len(X) // m._n_batches(len(X))})")
    print(f"matmul work/epoch: {f / 1e9:.2f} GFLOP executed ({fn / 1e9:.2f} GFLOP nominal 3×fwd)")
    print(f"ADAN epoch: {f / best / 1e9:.1f} GFLOP/s (best), {f / median / 1e9:.1f} GFLOP/s (median); "
          f"nominal {fn / best / 1e9:.1f} GFLOP/s")
    print(f"plain torch.mm, same shapes: {t_mm:.3f} s/epoch = {f / t_mm / 1e9:.1f} GFLOP/s")
    ratio = t_mm / best
    print(f"ADAN / plain matmul: {ratio:.0%} (target ≥ {TARGET_RATIO:.0%}) -> {'OK' if ratio >= TARGET_RATIO else 'MISS'}")

    # ---- convergence ----
    t = time.perf_counter()
    c = TimedADAN(epochs=args.epochs, early_stop=True, device="cpu", random_state=args.seed,
                  progress=args.progress).fit(X, y)
    wall = time.perf_counter() - t
    last = c.history_[-1]
    stopped = c.n_epochs_ < args.epochs
    print(f"convergence: {c.n_epochs_} epochs{' (early stop)' if stopped else ' (cap reached, no early stop)'} "
          f"in {wall:.1f} s = {wall / c.n_epochs_:.3f} s/epoch; last epoch D(real) {last['d_real']:.3f}, "
          f"D(fake) {last['d_fake']:.3f}, loss_r {last['loss_r']:.3f}, loss_c {last['loss_c']:.3f}")
    if stopped:
        ten = 10 * wall
        print(f"10 folds at this rate: {ten / 60:.1f} min (target ≤ {TARGET_TEN_FOLDS_S / 60:.0f} min) -> "
              f"{'OK' if ten <= TARGET_TEN_FOLDS_S else 'MISS'}")
    else:
        per_epoch = wall / c.n_epochs_
        print(f"no early stop within {args.epochs} epochs; 10 folds × 1500 epochs at {per_epoch:.3f} s/epoch ≈ "
              f"{10 * 1500 * per_epoch / 60:.0f} min (target ≤ {TARGET_TEN_FOLDS_S / 60:.0f} min); "
              f"≤ 30 min needs ≤ {TARGET_TEN_FOLDS_S / 10 / per_epoch:.0f} epochs per fold")
    t = time.perf_counter()
    c.sample(counts={k: 10 * int(n) for k, n in zip(*np.unique(y, return_counts=True))}, seed=0)
    print(f"sampling 10 sets ({10 * len(X)} vectors): {time.perf_counter() - t:.2f} s")

    # ---- SMOTE ----
    t = time.perf_counter()
    Xs, _ = SMOTESampler(ratio=1.0, random_state=args.seed).generate(X, y)
    print(f"SMOTE (z-norm, k=5, ratio 1 → {len(Xs)} vectors): {time.perf_counter() - t:.2f} s")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
