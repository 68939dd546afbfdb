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
