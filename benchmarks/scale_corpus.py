"""Scale benchmark on real audio: a RAVDESS-derived corpus of N utterances through the pipeline stages.

    python benchmarks/scale_corpus.py --sizes 1000 5000 [20000] --scratch /tmp/adan-scale
        [--ravdess $ADAN_CORPORA/ravdess] [--methods none smote] [--models svm]
        [--feature-set IS11] [--rate 16000] [--workers 2] [--cv-scheduler local] [--params params.yaml]
        [--set augment.adan_latent.max_updates=600 ...]

**Corpus** (``build``): copy 0 of every RAVDESS speech file is the file itself, copy c ≥ 1 the
file through the project's audio-domain perturbation (``MixPerturber`` of ``augment.audio_mix``
defaults: tempo, pitch, noise, gain; keyed by file, copy and seed 0, or the next seed while the draw
leaves the file unchanged, so no copy repeats another's bytes). Each copy of an actor is a
distinct pseudo-speaker (``A07c3``); the ceil(N / 1440) copies are cut to N rows by a fixed
permutation. All audio is resampled to ``--rate`` Hz (16 kHz by default: a third of RAVDESS's
48 kHz samples to describe, which made 20k utterances feasible on 2 shared cores) and written as
FLAC with ``manifest.csv`` (the ``csv`` corpus reader) under ``<scratch>/corpus<N>``. Folds:
``leave-one-session-out`` over 10 sessions, session = pseudo-speaker index mod 10, so every size
has 10 folds (LOSO would have one fold per pseudo-speaker).

**Stages**: ``adan prepare``, ``extract``, ``augment`` (one per method) and ``evaluate`` as in
``dvc.yaml``, each a separate process in ``<scratch>/run<N>``, with a params file derived from
``--params`` (corpus, folds, methods, models, one seed). Recorded per stage (:func:`run_stage`):
wall s, CPU s of the stage's whole process tree (pool and Dask worker processes included), peak
RSS MiB of the tree. Written to
``<scratch>/scale_corpus.csv`` and printed, with the growth exponent b (t ~ n^b, CPU time) of each
stage between the smallest and largest size.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RAVDESS_FILES = 1440


def build(n: int, ravdess: Path, out: Path, rate: int) -> pd.DataFrame:
    """Write ``n`` utterances (FLAC, ``rate`` Hz) and ``manifest.csv`` under ``out``; returns the manifest."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from adan_ser.augment.audio.perturbers import MixPerturber
    from adan_ser.corpora.ravdess import read_ravdess

    if (out / "manifest.csv").is_file():
        return pd.read_csv(out / "manifest.csv")
    source = read_ravdess(ravdess).sort_values("file").reset_index(drop=True)
    copies = math.ceil(n / len(source))
    table = pd.concat([source.assign(copy=c) for c in range(copies)], ignore_index=True)
    table = table.iloc[np.sort(np.random.default_rng(0).permutation(len(table))[:n])].reset_index(drop=True)
    table["pseudo"] = table["speaker"] + "c" + table["copy"].astype(str)
    index = {name: i for i, name in enumerate(sorted(table["pseudo"].unique()))}
    table["session"] = ["g%d" % (index[p] % 10) for p in table["pseudo"]]
    perturber = MixPerturber()
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for file, copy in zip(table["file"], table["copy"]):
        name = f"c{copy}/{Path(file).stem}.flac"
        target = out / name
        files.append(name)
        if target.is_file():
            continue
        signal, sr = sf.read(ravdess / file, dtype="float32", always_2d=True)
        signal = signal.mean(axis=1)
        if copy:  # a draw that skipped every step would repeat copy 0's bytes: draw again
            signal = next(p for p in (perturber.perturb(signal, sr, file, int(copy), seed=s) for s in range(100))
                          if not np.array_equal(p, signal))
        if sr != rate:
            g = math.gcd(sr, rate)
            signal = resample_poly(signal, rate // g, sr // g).astype(np.float32)
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, np.clip(signal, -1, 1), rate, format="FLAC")
    manifest = pd.DataFrame({"file": files, "speaker": table["pseudo"], "emotion": table["emotion"],
                             "gender": table["gender"], "session": table["session"]})
    manifest.to_csv(out / "manifest.csv", index=False)
    return manifest


def run_stage(name: str, cmd: list[str], cwd: Path, log: Path, interval: float = 0.25) -> dict:
    """Run one stage command; wall s, CPU s of its whole process tree and peak RSS MiB.

    The tree (the stage, its pool or Dask worker processes, a forkserver) is sampled with psutil
    every ``interval`` s: CPU is the sum over every process seen of its last user + system time
    (a process that ends between two samples loses at most ``interval`` s), so worker processes
    that nobody waits for are counted, which ``/usr/bin/time`` misses; peak RSS is the largest sum
    of RSS over the tree at one sample (shared pages counted once per process).
    """
    import psutil

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cpu: dict[int, float] = {}
    peak = 0
    start = time.perf_counter()
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            rss = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                try:
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, rss)
            time.sleep(interval)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"stage {name} failed (exit {proc.returncode}); see {log}")
    return {"stage": name, "wall_s": round(wall, 2), "cpu_s": round(sum(cpu.values()), 2),
            "peak_rss_mib": round(peak / 2**20, 1)}


def params_for(base: Path, corpus: Path, args) -> dict:
    p = yaml.safe_load(base.read_text())
    p["data"].update(corpus="csv", root=str(corpus), classes=[])
    p["features"].update(set=args.feature_set, workers=args.workers, scheduler="local")
    p["cv"].update(scheme="leave-one-session-out", scheduler=args.cv_scheduler)
    p["eval"]["seeds"] = [0]
    p["eval"]["references"] = []
    p["augment"]["methods"] = list(args.methods)
    p["augment"]["train_data"] = ["real+synthetic"]
    p["classify"]["models"] = list(args.models)
    p["classify"]["heads"] = ["softmax"]
    for item in args.set or []:  # dotted key=YAML value, as `dvc exp run -S`
        key, _, value = item.partition("=")
        *path, last = key.split(".")
        node = p
        for part in path:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--scratch", type=Path, required=True)
    ap.add_argument("--ravdess", type=Path,
                    default=Path(os.environ.get("ADAN_CORPORA", "../shared/corpora")) / "ravdess")
    ap.add_argument("--methods", nargs="+", default=["none", "smote"])
    ap.add_argument("--models", nargs="+", default=["svm"])
    ap.add_argument("--feature-set", default="IS11")
    ap.add_argument("--rate", type=int, default=16000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cv-scheduler", default="local")
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--set", nargs="+", metavar="KEY=VALUE",
                    help="further params, dotted keys as `dvc exp run -S`, e.g. augment.adan_latent.max_updates=600")
    ap.add_argument("--stages", nargs="+", help="run only these stages (names as printed; the earlier "
                    "stages' outputs must be in <scratch>/run<N> already)")
    args = ap.parse_args(argv)
    adan = [sys.executable, "-m", "adan_ser.cli"]
    table_path = args.scratch / "scale_corpus.csv"
    records = pd.read_csv(table_path).to_dict("records") if table_path.is_file() else []

    def record(row: dict) -> None:  # a re-measured stage replaces its earlier row at that size
        nonlocal records
        records = [r for r in records if (r["n"], r["stage"]) != (row["n"], row["stage"])] + [row]
        pd.DataFrame(records).to_csv(table_path, index=False)

    for n in args.sizes:
        corpus, work = args.scratch / f"corpus{n}", args.scratch / f"run{n}"
        work.mkdir(parents=True, exist_ok=True)
        log = work / "stages.log"
        start, cpu0 = time.perf_counter(), time.process_time()
        built_now = not (corpus / "manifest.csv").is_file()
        build(n, args.ravdess, corpus, args.rate)
        if built_now:  # recorded once, by the call that wrote the corpus, whatever --stages says
            record({"n": n, "stage": "build (perturb + write)", "wall_s": round(time.perf_counter() - start, 2),
                            "cpu_s": round(time.process_time() - cpu0, 2), "peak_rss_mib": float("nan"),
                            "scheduler": "local"})
        (work / "params.yaml").write_text(yaml.safe_dump(params_for(args.params, corpus, args), sort_keys=False))
        fs = args.feature_set
        stages = [("prepare", ["prepare", "-o", "data/manifest.csv"]),
                  ("extract", ["extract", "-m", "data/manifest.csv", "-o", f"data/features/{fs}.parquet"])]
        stages += [(f"augment@{m}", ["augment", "--method", m, "-m", "data/manifest.csv", "-f",
                                     f"data/features/{fs}.parquet", "-o", f"data/synthetic/{m}",
                                     "--report-dir", f"results/augment/{m}"]) for m in args.methods]
        stages += [("evaluate", ["evaluate", "-m", "data/manifest.csv", "-f", f"data/features/{fs}.parquet",
                                 "-o", "results/predictions", "--log-dir", "results/training",
                                 "--synthetic-dir", "data/synthetic"])]
        for name, cmd in stages:
            if args.stages and name not in args.stages:
                continue
            row = {"n": n, **run_stage(name, [*adan, "--params", "params.yaml", *cmd], work, log),
                   "scheduler": (f"local ({args.workers} pool workers)" if name == "extract"
                                 else "local" if name == "prepare" else args.cv_scheduler)}
            record(row)
            print(row, flush=True)
    table = pd.DataFrame(records)
    print(table.to_string(index=False))
    sizes = sorted(table["n"].unique())
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for stage, part in table.groupby("stage", sort=False):
            t = part.set_index("n")["cpu_s"]
            if lo in t and hi in t and t[lo] > 0:
                print(f"{stage}: cpu t ~ n^{math.log(t[hi] / t[lo]) / math.log(hi / lo):.2f} from n={lo} to n={hi}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
