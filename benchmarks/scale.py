"""Benchmark extraction at scale: local process pool vs a Dask LocalCluster, 1k-20k files.

    python benchmarks/scale.py [--sizes 1000 5000 20000] [--feature-set IS09]
                               [--cells local:1 local:2 dask:1 dask:2] [--data-dir /tmp/adan-scale]
                               [--json out.json]

The corpus is the demo corpus in its large-corpus mode (``generate_demo(utterances=N)``:
0.5-1.0 s utterances, 16 kHz), generated once at the largest size; a corpus of N files is the
first N rows of its labels (the generator makes every prefix balanced). Each cell runs
``extract_to_parquet`` (the ``adan extract`` code path: streamed, row groups appended) in a
fresh Python process, so memory figures start from zero:

* wall s, files/s: the ``extract_to_parquet`` call only. ``local`` cells include starting the
  process pool (a real run pays it); ``dask`` cells include connecting the client but not
  starting the LocalCluster (an existing cluster is the use case), reported as ``cluster s``.
* peak RSS MiB "main": the extracting process alone (where the results are gathered and
  written), sampled every 50 ms by the parent with psutil.
* peak RSS MiB "tree": the sum of RSS over that process and all its descendants (pool
  workers and the forkserver; for Dask, the nannies and worker processes of the LocalCluster
  it started), sampled at the same instants. Shared library pages are counted once per
  process, so this over-counts what the machine really spends; it is still the figure that
  must not grow with N.
* others: cores that other processes on the machine kept busy during the cell (machine busy
  CPU seconds from /proc/stat minus the cell's own process tree, over the cell's lifetime). On a
  shared machine, above ~0.3 the 2-worker rows are contaminated.
* sha256 of the output file: equal for every cell of one size means identical output.

Target: peak memory at 20k within 1.5x of that at 1k.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MEMORY_TARGET = 1.5


def run_cell(corpus: Path, n: int, backend: str, workers: int, feature_set: str, out: Path) -> dict:
    """Inside the child process: extract the first ``n`` files; returns the timings."""
    import pandas as pd

    from adan_ser.features.opensmile import extract_to_parquet

    labels = pd.read_csv(corpus / "labels.csv").iloc[:n]
    cluster, cluster_s, scheduler = None, 0.0, "local"
    if backend == "dask":
        from distributed import LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        cluster_s = time.perf_counter() - start
        scheduler = cluster.scheduler_address
    start = time.perf_counter()
    rows, bad = extract_to_parquet(labels, corpus, feature_set, out, workers=workers,
                                   progress=False, scheduler=scheduler)
    wall = time.perf_counter() - start
    if cluster is not None:
        cluster.close()
    return {"rows": rows, "bad": len(bad), "wall_s": wall, "cluster_s": cluster_s}


def _tree_rss(proc, cpu: dict) -> tuple[int, int]:
    """(RSS of ``proc``, RSS summed over ``proc`` and its descendants) in bytes.

    Also records each process's latest CPU seconds in ``cpu`` (pid -> seconds).
    """
    import psutil

    try:
        kids = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    main = total = 0
    for kid in kids:
        try:
            with kid.oneshot():
                rss = kid.memory_info().rss
                times = kid.cpu_times()
        except psutil.NoSuchProcess:
            continue
        cpu[kid.pid] = times.user + times.system
        total += rss
        if kid.pid == proc.pid:
            main = rss
    return main, total


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy since boot (from /proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def measure(corpus: Path, n: int, backend: str, workers: int, feature_set: str, data_dir: Path) -> dict:
    """Run one cell in a child process, sampling its memory; returns the cell's figures."""
    import psutil

    out = data_dir / f"features_{n}_{backend}{workers}.parquet"
    result_file = data_dir / f".cell_{n}_{backend}{workers}.json"
    cmd = [sys.executable, __file__, "--cell", str(corpus), str(n), backend, str(workers),
           feature_set, str(out), str(result_file)]
    busy0, start = _machine_busy_s(), time.perf_counter()
    child = subprocess.Popen(cmd)
    proc = psutil.Process(child.pid)
    peak_main = peak_tree = 0
    cpu: dict[int, float] = {}
    while child.poll() is None:
        main, tree = _tree_rss(proc, cpu)
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.05)
    # Cores other processes kept busy while this cell ran (whole child lifetime; the last
    # <= 50 ms of each process's CPU time are missed, so this errs slightly high).
    others = (_machine_busy_s() - busy0 - sum(cpu.values())) / (time.perf_counter() - start)
    if child.returncode != 0:
        raise SystemExit(f"cell {n} {backend}:{workers} failed (exit {child.returncode})")
    cell = json.loads(result_file.read_text())
    result_file.unlink()
    cell.update(n=n, backend=backend, workers=workers, feature_set=feature_set,
                peak_main_mib=peak_main / 2**20, peak_tree_mib=peak_tree / 2**20,
                files_per_s=n / cell["wall_s"], other_cores=max(others, 0.0),
                sha256=hashlib.sha256(out.read_bytes()).hexdigest()[:16])
    out.unlink()
    return cell


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--cell":
        corpus, n, backend, workers, feature_set, out, result_file = argv[1:]
        cell = run_cell(Path(corpus), int(n), backend, int(workers), feature_set, Path(out))
        Path(result_file).write_text(json.dumps(cell))
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--feature-set", default="IS09")
    ap.add_argument("--cells", nargs="+", default=["local:1", "local:2", "dask:1", "dask:2"],
                    help="backend:workers pairs, run in this order for each size")
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/adan-scale"))
    ap.add_argument("--corpus-size", type=int, default=None,
                    help="utterances to generate (default: the largest size; smaller sizes are prefixes)")
    ap.add_argument("--json", type=Path, default=None, help="append each cell as a JSON line here")
    args = ap.parse_args(argv)

    from adan_ser.corpora.demo import PARAMS_FILE, demo_params, generate_demo

    corpus = args.data_dir / "demo"
    size = max(args.corpus_size or 0, max(args.sizes))
    wanted = demo_params(utterances=size)
    if not (corpus / PARAMS_FILE).is_file() or json.loads((corpus / PARAMS_FILE).read_text()) != wanted:
        start = time.perf_counter()
        generate_demo(corpus, utterances=size)
        print(f"generated {size} utterances in {time.perf_counter() - start:.1f} s", flush=True)
    print(f"corpus {corpus}, feature set {args.feature_set}, {os.cpu_count()} CPUs", flush=True)
    header = (f"{'files':>7} {'backend':>8} {'w':>2} {'wall s':>8} {'files/s':>8} {'cluster s':>9} "
              f"{'main MiB':>9} {'tree MiB':>9} {'others':>7}  sha256")
    print(header)
    print("-" * len(header), flush=True)
    cells = []
    for n in sorted(args.sizes):
        for spec in args.cells:
            backend, workers = spec.split(":")
            cell = measure(corpus, n, backend, int(workers), args.feature_set, args.data_dir)
            cells.append(cell)
            print(f"{n:>7} {backend:>8} {workers:>2} {cell['wall_s']:>8.1f} {cell['files_per_s']:>8.1f} "
                  f"{cell['cluster_s']:>9.1f} {cell['peak_main_mib']:>9.0f} {cell['peak_tree_mib']:>9.0f} {cell['other_cores']:>7.2f}  "
                  f"{cell['sha256']}", flush=True)
            if args.json is not None:
                with open(args.json, "a") as fh:
                    fh.write(json.dumps(cell) + "\n")
    small, large = min(args.sizes), max(args.sizes)
    for spec in args.cells:
        backend, workers = spec.split(":")
        pick = {c["n"]: c for c in cells if c["backend"] == backend and c["workers"] == int(workers)}
        if small in pick and large in pick and small != large:
            for key in ("peak_main_mib", "peak_tree_mib"):
                ratio = pick[large][key] / pick[small][key]
                print(f"{spec} {key.split('_')[1]}: peak at {large} / at {small} = {ratio:.2f} "
                      f"({'OK' if ratio <= MEMORY_TARGET else 'MISSED'} <= {MEMORY_TARGET})")
    for n in sorted(args.sizes):
        hashes = {c["sha256"] for c in cells if c["n"] == n}
        print(f"{n} files: outputs {'identical' if len(hashes) == 1 else 'DIFFER'} across cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
