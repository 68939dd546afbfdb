"""Pinned CPU kernels (core/kernels.py): set before the libraries load, and the same floats whatever
instruction sets the machine offers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from adan_ser.core import kernels

#: A short ADAN and DNN fit plus numpy BLAS and ufuncs, hashed; run in a fresh interpreter that
#: first restarts itself on pinned kernels, as the ``adan`` command does.
PROBE = r"""
import hashlib, os, sys
from adan_ser.core.kernels import exec_portable
exec_portable()
import numpy as np, torch
torch.set_num_threads(1)
from adan_ser.augment.generators.adan import ADAN
from adan_ser.classifiers.dnn import DNNClassifier
rng = np.random.default_rng(0)
y = rng.integers(0, 3, 120)
X = rng.standard_normal((120, 12)) + y[:, None] * 0.5
h = hashlib.sha256()
m = ADAN(latent_dim=4, noise_dim=4, enc_hidden=(16,), gen_hidden=(16,), disc_hidden=(16,),
         clf_hidden=(16,), epochs=5, early_stop=False, device="cpu", random_state=0).fit(X, y)
h.update(m.transform(X).tobytes()); h.update(m.sample(y=y[:30], seed=1)[0].tobytes())
dnn = DNNClassifier(hidden=(16,), epochs=5, device="cpu", random_state=0).fit(X, y, groups=np.arange(120) % 4)
h.update(dnn.predict_proba(X).tobytes())
A = rng.standard_normal((64, 64))
for r in (A @ A.T, np.exp(A), np.tanh(A.astype(np.float32)), np.linalg.eigh(A @ A.T)[0]):
    h.update(r.tobytes())
print(torch.backends.cpu.get_cpu_capability(), os.environ["MKL_CBWR"], h.hexdigest())
"""


def _probe(**extra_env) -> str:
    env = {k: v for k, v in os.environ.items() if k not in (kernels.MARKER_ENV, kernels.NATIVE_ENV)}
    env.update(extra_env, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()


def test_portable_environment_sets_every_switch_and_keeps_other_tunables():
    env = kernels.portable_environment({"GLIBC_TUNABLES": "glibc.malloc.check=0:glibc.cpu.hwcaps=-SSE2"})
    assert env["ATEN_CPU_CAPABILITY"] == "default" and env["MKL_CBWR"] == "COMPATIBLE"
    assert env["OPENBLAS_CORETYPE"] == "Nehalem" and env[kernels.MARKER_ENV] == "1"
    tunables = env["GLIBC_TUNABLES"].split(":")
    assert tunables[0] == "glibc.malloc.check=0" and tunables[1].startswith("glibc.cpu.hwcaps=-FMA")
    assert len(tunables) == 2  # the caller's hwcaps mask is replaced, not stacked
    assert kernels.is_portable(env) and not kernels.is_portable({})
    assert kernels.is_portable({kernels.NATIVE_ENV: "1"})


@pytest.mark.slow
def test_same_floats_whatever_instruction_sets_the_cpu_offers():
    # MKL_ENABLE_INSTRUCTIONS makes MKL dispatch as on an older CPU (AVX2, SSE4.2): its
    # reproducibility branch must make that irrelevant, like any other CPU difference.
    here = _probe()
    assert here.startswith("DEFAULT COMPATIBLE ")
    assert _probe(MKL_ENABLE_INSTRUCTIONS="AVX2") == here
    assert _probe(MKL_ENABLE_INSTRUCTIONS="SSE4_2") == here


def test_the_adan_command_restarts_on_pinned_kernels():
    env = {k: v for k, v in os.environ.items() if k != kernels.MARKER_ENV}
    code = ("import os, sys; from adan_ser.cli import main; import atexit; "
            "atexit.register(lambda: print('kernels', os.environ.get('MKL_CBWR'), os.getpid())); "
            "sys.argv = ['adan', '--help']; sys.exit(main())")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "kernels COMPATIBLE" in run.stdout and "Usage: adan" in run.stdout
