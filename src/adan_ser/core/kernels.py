"""Portable CPU kernels: the same floats from the same seed on every x86-64 machine.

The numerical libraries under torch, numpy and scikit-learn pick their code paths by the CPU they
run on (AVX-512 here, AVX2 there, an AMD branch elsewhere), and each path sums in its own order, so
a training run drifts apart in the last bits from one machine type to the next and, over a few
hundred updates, changes predictions. Each library has a switch that pins one path; the ``adan``
command sets all of them before any of those libraries loads:

=========================  ===========================  ============================================
variable                   value                        pins
=========================  ===========================  ============================================
``ATEN_CPU_CAPABILITY``    ``default``                  torch's own kernels (elementwise, reductions,
                                                        activations) to the plain, unvectorised build
``MKL_CBWR``               ``COMPATIBLE``               MKL's matrix products (torch's ``Linear``) to
                                                        its SSE2 branch, the one branch MKL promises
                                                        identical on Intel and non-Intel CPUs
``OPENBLAS_CORETYPE``      ``Nehalem``                  numpy/scipy's OpenBLAS (distances, PCA,
                                                        eigendecompositions) to its SSE4.2 kernels,
                                                        which every CPU numpy 2 runs on has
``NPY_DISABLE_CPU_FEATURES``  the dispatched features   numpy's own SIMD loops (exp, log, tanh) to
                           this CPU has                 its baseline build
``GLIBC_TUNABLES``         ``glibc.cpu.hwcaps=-FMA,…``  the C maths library (``exp``, ``log`` in
                                                        scikit-learn's compiled code, numpy's
                                                        fallbacks) to its variant without FMA
``ONEDNN_MAX_CPU_ISA``     ``SSE41``                    oneDNN (torch's convolutions and LSTMs of the
                                                        spectrogram models) to its SSE4.1 kernels
=========================  ===========================  ============================================

``GLIBC_TUNABLES`` is read when a process starts and OpenBLAS's core type when it loads, so
setting the variables inside a running interpreter is too late: :func:`exec_portable` replaces the
``adan`` process with a fresh one that has them (same pid, same arguments), and every process it
starts (Dask workers, extraction pools) inherits them. Set ``ADAN_NATIVE_KERNELS=1`` to keep each
library's fastest path instead: faster, and its figures then depend on the CPU type.

Matrix products also depend on the thread count; the folds' fits run on one-thread Dask workers
(``cv.scheduler: localcluster:N``), so the count is the same everywhere. What the pinning costs in
run time is measured in docs/reproducibility.md.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, MutableMapping

#: Set to 1 to keep every library's machine-specific fastest kernels (not reproducible across CPUs).
NATIVE_ENV = "ADAN_NATIVE_KERNELS"
#: Set by :func:`portable_environment`: this process (and its children) run on pinned kernels.
MARKER_ENV = "ADAN_PORTABLE_KERNELS"

_FIXED = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
    "OPENBLAS_CORETYPE": "Nehalem",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
}
#: glibc ≥ 2.33 spells the features without a suffix, older versions with ``_Usable``; a name a
#: version does not know is ignored, so both spellings are given.
_HWCAPS = ",".join(f"-{f}{s}" for s in ("", "_Usable") for f in ("FMA", "FMA4", "AVX2", "AVX512F"))
_TUNABLE = f"glibc.cpu.hwcaps={_HWCAPS}"


def _numpy_dispatched_features() -> list[str]:
    """numpy's dispatched SIMD features that this CPU has (disabling one it lacks only warns)."""
    try:
        from numpy._core import _multiarray_umath as umath  # numpy 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import _multiarray_umath as umath
    found = umath.__cpu_features__
    return [f for f in umath.__cpu_dispatch__ if found.get(f)]


def _with_tunable(current: str) -> str:
    parts = [p for p in current.split(":") if p and not p.startswith("glibc.cpu.hwcaps=")]
    return ":".join([*parts, _TUNABLE])


def portable_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) with every kernel switch of the table above set."""
    env = dict(os.environ if environ is None else environ)
    env.update(_FIXED)
    env["NPY_DISABLE_CPU_FEATURES"] = " ".join(_numpy_dispatched_features())
    env["GLIBC_TUNABLES"] = _with_tunable(env.get("GLIBC_TUNABLES", ""))
    env[MARKER_ENV] = "1"
    return env


def is_portable(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``environ`` already carries the pinned kernels (or asks for native ones)."""
    env = os.environ if environ is None else environ
    if env.get(NATIVE_ENV, "") not in ("", "0"):
        return True
    return env.get(MARKER_ENV) == "1" and all(env.get(k) == v for k, v in _FIXED.items())


def exec_portable(environ: MutableMapping[str, str] | None = None) -> None:
    """Replace this process by itself with the pinned kernels, unless it already has them.

    Called first thing by the ``adan`` command, before torch or scikit-learn load. The new process
    keeps the pid (DVC and the watchdogs of :mod:`adan_ser.core.lifecycle` see no change), the
    interpreter and its arguments (``sys.orig_argv``).
    """
    if is_portable(environ):
        return
    env = portable_environment(environ)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, list(sys.orig_argv), env)


def kernels_in_use() -> dict[str, str]:
    """What this process runs on, for logs and tests: torch's capability, the pinned variables."""
    info = {k: os.environ.get(k, "") for k in (*_FIXED, "NPY_DISABLE_CPU_FEATURES", MARKER_ENV)}
    if "torch" in sys.modules:
        info["torch_capability"] = sys.modules["torch"].backends.cpu.get_cpu_capability()
    return info
