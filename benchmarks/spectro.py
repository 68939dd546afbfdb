"""Time one spectrogram model on one leave-one-speaker-out fold: s/epoch and a 10-fold estimate.

    python benchmarks/spectro.py --manifest M.csv --root CORPUS [--fold 03] [--arch crnn]
                                 [--threads 2] [--cache spec.npz] [--epochs N] [-S key=value ...]

Spectrograms come from ``--cache`` when it exists (else they are computed and saved there). The
model is the ``SpectroClassifier`` defaults plus ``-S`` overrides (values parsed as YAML), trained
on every speaker but ``--fold`` with its usual early stopping. Printed: spectrogram time, fit
time, epochs run, seconds per epoch (fit time / epochs, validation included), prediction time,
test-fold WA/UAR, and the fit + predict time × number of folds as the whole-run estimate.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
from adan_ser.contracts.folds import folds_for
from adan_ser.contracts.manifest import load_manifest
from adan_ser.features.spectrogram import (
    compute_spectrograms,
    frontend_config,
    load_spectrograms,
    save_spectrograms,
)
from adan_ser.reporting.metrics import scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--fold", default=None, help="test speaker (default: the first fold)")
    ap.add_argument("--arch", default="crnn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--kind", default="linear")
    ap.add_argument("-S", dest="overrides", action="append", default=[], help="estimator param=value")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    manifest = load_manifest(args.manifest)
    t = time.perf_counter()
    if args.cache and Path(args.cache).is_file():
        specs = load_spectrograms(args.cache)
    else:
        specs = compute_spectrograms(manifest, args.root, frontend_config({"kind": args.kind}), progress=False)
        if args.cache:
            save_spectrograms(specs, args.cache)
    print(f"spectrograms: {len(specs)} utterances, {specs.frames.shape[1]} bins, {time.perf_counter() - t:.1f} s")

    X = specs.lookup(manifest["file"].tolist())
    y = manifest["emotion"].to_numpy()
    folds = folds_for(manifest, "leave-one-speaker-out")
    fold = next(f for f in folds if args.fold is None or f.name == args.fold)
    params = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.overrides)}
    clf = SpectroClassifier(arch=args.arch, device="cpu", **params)
    t = time.perf_counter()
    clf.fit([X[i] for i in fold.train], y[fold.train], manifest["speaker"].to_numpy()[fold.train],
            manifest["gender"].to_numpy()[fold.train])
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    pred = clf.predict([X[i] for i in fold.test])
    pred_s = time.perf_counter() - t
    s = scores(y[fold.test], pred, sorted(np.unique(y)))
    epochs = len(clf.history_)
    print(f"{args.arch} fold {fold.name}: {len(fold.train)} training utterances, {args.threads} threads")
    print(f"fit {fit_s:.1f} s, {epochs} epochs (best {clf.best_epoch_}), {fit_s / epochs:.1f} s/epoch")
    print(f"predict {len(fold.test)} utterances {pred_s:.1f} s; fold WA {s['wa']:.1f} %, UAR {s['uar']:.1f} %")
    total = (fit_s + pred_s) * len(folds)
    print(f"estimate for {len(folds)} folds at this fold's epochs: {total / 60:.1f} min")


if __name__ == "__main__":
    main()
