"""Shared fixtures: where the real corpora are (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def corpora_root() -> Path:
    return Path(os.environ.get("ADAN_CORPORA", REPO.parent / "shared" / "corpora")).resolve()


def _corpus(name: str) -> Path:
    root = corpora_root() / name
    if not (root / "labels.csv").is_file():
        pytest.skip(f"{name} copy not found under {root} (set ADAN_CORPORA)")
    return root


@pytest.fixture
def emodb_root() -> Path:
    return _corpus("emodb")


@pytest.fixture
def ravdess_root() -> Path:
    return _corpus("ravdess")


@pytest.fixture(scope="session")
def dask_scheduler():
    """Address of a 2-worker Dask LocalCluster on loopback, shared by the whole test session.

    Worker processes (not threads), as on a real cluster: tasks and their arguments are pickled.
    """
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test: tiny tensors gain nothing from threads on a shared CI box,
    and one thread is what Dask workers run (same float summation order)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
