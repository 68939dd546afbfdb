"""What pinning the CPU kernels costs (docs/reproducibility.md): one ADAN and one DNN fit of the
demo's size, timed in fresh one-thread processes under each kernel setting.

    python benchmarks/kernels.py [--repeats 3]

Prints, per setting, the CPU seconds of the fits (median over repeats; CPU time, not wall time, so
other load on the machine disturbs it little) and a hash of the outputs: the pinned rows must hash
alike, whatever the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from adan_ser.core.kernels import MARKER_ENV, NATIVE_ENV, portable_environment

FIT = r"""
import hashlib, time
import numpy as np, torch
torch.set_num_threads(1)
from adan_ser.augment.generators.adan import ADAN
from adan_ser.classifiers.dnn import DNNClassifier
rng = np.random.default_rng(0)
y = rng.integers(0, 4, 480)
X = rng.standard_normal((480, 88)) + y[:, None] * 0.3  # a demo fold: 480 rows of eGeMAPS
t = time.process_time()
m = ADAN(epochs=40, early_stop=False, device="cpu", random_state=0).fit(X, y)
s = m.sample(y=y, seed=1)[0]
p = DNNClassifier(epochs=30, device="cpu", random_state=0).fit(X, y, groups=np.arange(480) % 6).predict_proba(X)
cpu = time.process_time() - t
print(cpu, hashlib.sha256(s.tobytes() + p.tobytes()).hexdigest()[:12])
"""

_PINNED = portable_environment({})
SETTINGS = {
    "native (each library's fastest path)": {NATIVE_ENV: "1"},
    "torch kernels pinned (ATEN_CPU_CAPABILITY)": {"ATEN_CPU_CAPABILITY": "default"},
    "MKL pinned (MKL_CBWR)": {"MKL_CBWR": "COMPATIBLE"},
    "all pinned (the adan command)": {k: v for k, v in _PINNED.items() if k != MARKER_ENV},
}


def run(extra: dict) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in (*_PINNED, NATIVE_ENV, MARKER_ENV, "GLIBC_TUNABLES", "NPY_DISABLE_CPU_FEATURES")}
    env.update(extra, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True, check=True)
    cpu, digest = out.stdout.split()
    return float(cpu), digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = None
    print("| kernels | CPU s (ADAN 40 epochs + DNN 30 epochs, 480 × 88) | vs native | output hash |")
    print("|---|---|---|---|")
    for name, extra in SETTINGS.items():
        runs = [run(extra) for _ in range(args.repeats)]
        cpu = statistics.median(r[0] for r in runs)
        base = base or cpu
        print(f"| {name} | {cpu:.1f} | {cpu / base:.2f}× | {runs[0][1]} |", flush=True)


if __name__ == "__main__":
    main()
