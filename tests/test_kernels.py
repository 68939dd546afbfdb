"""Pinned CPU kernels (core/kernels.py): set before the libraries load, and the same floats whatever
instruction sets the machine offers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adan_ser.core import kernels
from adan_ser.core.torch_maths import VML_SHARED

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


#: Every torch model's fit, shortened: the DNN with each head and with mixup, ADAN and the ADAN
#: variants, the spectrogram models with attention.
VML_PROBE = r"""
import sys
from adan_ser.core.kernels import exec_portable
exec_portable()
import numpy as np, torch
torch.set_num_threads(1)
if sys.argv[1] == "canary":
    torch.sqrt(torch.rand(1000)); torch.acos(torch.rand(1000)); sys.exit(0)
from adan_ser.augment.generators.aae import AAE
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.latent_smote import LatentSMOTESampler
from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.heads import HEAD_NAMES
from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
rng = np.random.default_rng(0)
y = rng.integers(0, 3, 120)
groups = np.arange(120) % 4
X = (rng.standard_normal((120, 12)) + y[:, None] * 0.5).astype(np.float32)
for head in HEAD_NAMES:
    DNNClassifier(hidden=(16, 16), activation="tanh", batch_norm=True, l2=0.1, epochs=3, head=head,
                  device="cpu").fit(X, y, groups).predict_proba(X)
DNNClassifier(hidden=(16,), epochs=3, mixup_alpha=0.4, device="cpu").fit(X, y, groups)
small = dict(latent_dim=4, noise_dim=4, enc_hidden=(16,), gen_hidden=(16,), disc_hidden=(16,),
             clf_hidden=(16,), epochs=3, early_stop=False, device="cpu", random_state=0)
ADAN(**small).fit(X, y).sample(y=y[:30], seed=1)
ADAN(**small, diversity="moments").fit(X, y)
LatentSMOTESampler(ADAN(**small), n_sets=1, k_neighbors=3).fit_resample(X, y)
AAE(latent_dim=4, enc_hidden=(16,), disc_hidden=(16,), epochs=3, device="cpu", random_state=0).fit(X, y)
specs = [rng.standard_normal((int(rng.integers(60, 90)), 16)).astype(np.float32) for _ in range(24)]
for arch in ("crnn", "cnn-blstm-att-stats"):
    SpectroClassifier(arch=arch, epochs=2, segment_frames=40, train_hop=20, eval_hop=20, channels=(4, 4),
                      rnn_hidden=8, input_pool=(1, 1), device="cpu").fit(specs, y[:24], groups[:24])
"""


def _vml_counts(tmp_path: Path, what: str) -> dict[str, int]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler for the VML counter")
    import torch

    lib = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    shim = tmp_path / "libvml_counter.so"
    if not shim.exists():
        src = Path(__file__).parent / "data" / "vml_counter.c"
        subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(shim), str(src), "-ldl"], check=True)
    out = tmp_path / f"{what}.counts"
    env = {k: v for k, v in os.environ.items() if k not in (kernels.MARKER_ENV, kernels.NATIVE_ENV)}
    env.update(LD_PRELOAD=str(shim), VML_COUNTS=str(out), VML_LIBRARY=str(lib), OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", VML_PROBE, what], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return {name: int(n) for name, n in (line.split() for line in out.read_text().splitlines())}


@pytest.mark.slow
def test_torch_models_reach_only_the_vml_functions_seen_identical_across_vendors(tmp_path):
    # MKL_CBWR does not pin MKL's vector maths on an AMD CPU, and its sqrt differs from an Intel
    # CPU's in rare last bits (docs/reproducibility.md). The counter must see a direct call...
    canary = _vml_counts(tmp_path, "canary")
    assert canary.get("vmsSqrt") == 1000 and canary.get("vmsAcos") == 1000
    # ...and every model's fit may reach only the functions seen identical on both vendors.
    fits = _vml_counts(tmp_path, "fits")
    assert fits.get("vmsTanh", 0) > 0  # the DNN's tanh: the counter sees the fits
    assert set(fits) <= set(VML_SHARED), fits
