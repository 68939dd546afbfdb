"""Local and Dask schedulers give byte-identical stage outputs on a scale-benchmark corpus.

    python benchmarks/scheduler_identity.py --run /tmp/adan-scale/run1000 [--methods smote]
        [--models svm] [--dask localcluster:2]

``--run``: a folder ``benchmarks/scale_corpus.py`` made (its ``params.yaml``, ``data/manifest.csv``
and ``data/features/<set>.parquet``). Each listed method's ``adan augment`` and then ``adan
evaluate`` (the listed classifiers on real and on real + synthetic rows) run twice, as separate
processes with ``cv.scheduler`` ``local`` and ``--dask``, into ``<run>/identity/<scheduler>``; the
synthetic sets (``seed*/<fold>.parquet``) and the prediction files are then compared byte for byte.
Prints one line per compared file kind and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import time
from pathlib import Path

import yaml


def _run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "adan_ser.cli", *args], cwd=cwd, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--methods", nargs="+", default=["smote"])
    ap.add_argument("--models", nargs="+", default=["svm"])
    ap.add_argument("--dask", default="localcluster:2")
    args = ap.parse_args(argv)
    run = args.run.resolve()
    params = yaml.safe_load((run / "params.yaml").read_text())
    features = f"data/features/{params['features']['set']}.parquet"
    params["augment"]["methods"] = list(args.methods)
    params["augment"]["train_data"] = ["real+synthetic"]
    params["classify"]["models"] = list(args.models)
    outs = {}
    for scheduler in ("local", args.dask):
        out = run / "identity" / scheduler.replace(":", "_")
        out.mkdir(parents=True, exist_ok=True)
        params["cv"]["scheduler"] = scheduler
        (out / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        p = ["--params", str(out / "params.yaml")]
        seconds = 0.0
        for method in args.methods:
            seconds += _run([*p, "augment", "--method", method, "-m", "data/manifest.csv", "-f", features,
                             "-o", str(out / "synthetic" / method)], run)
        seconds += _run([*p, "evaluate", "-m", "data/manifest.csv", "-f", features, "-o",
                         str(out / "predictions"), "--log-dir", str(out / "training"),
                         "--synthetic-dir", str(out / "synthetic")], run)
        print(f"{scheduler}: augment + evaluate {seconds:.1f} s wall")
        outs[scheduler] = out
    local, dask = outs.values()
    failed = False
    for kind, pattern in (("synthetic sets", "synthetic/**/*.parquet"), ("predictions", "predictions/*.parquet")):
        files = sorted(p.relative_to(local) for p in local.glob(pattern))
        differ = [str(f) for f in files if not (dask / f).is_file() or not filecmp.cmp(local / f, dask / f, shallow=False)]
        print(f"{kind}: {len(files) - len(differ)} of {len(files)} files byte-identical"
              + (f"; differ: {', '.join(differ[:5])}" if differ else ""))
        failed |= bool(differ) or not files
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
