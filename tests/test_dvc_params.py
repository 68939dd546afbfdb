"""`dvc params diff` between two augmentation settings names exactly the changed params, and a change
to one audio-augmentation param marks only the stages that read it (DVC itself, on a scratch copy
of dvc.yaml and params.yaml)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["none", "noise", "audio_speed", "audio_noise"]

pytestmark = pytest.mark.skipif(shutil.which("dvc") is None or shutil.which("git") is None,
                                reason="needs the dvc and git commands")


def run(cwd: Path, *cmd: str) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git + DVC repository with the project's dvc.yaml and params.yaml, committed, with the
    audio methods in augment.methods."""
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["augment"]["methods"] = METHODS
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(tmp_path, "git", "init", "-q")
    run(tmp_path, "dvc", "init", "-q")
    run(tmp_path, "git", "add", "-A")
    run(tmp_path, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return tmp_path


def set_param(repo: Path, dotted: str, value) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    *path, last = dotted.split(".")
    block = params
    for key in path:
        block = block[key]
    block[last] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def stages_reading(repo: Path, dotted: str) -> list[str]:
    """Names of the stages whose declared params cover ``dotted`` (a key or one of its blocks)."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        names = []
        for stage in dvc_repo.index.stages:
            declared = [p for dep in stage.deps if hasattr(dep, "params") for p in dep.params]
            if any(dotted == p or dotted.startswith(p + ".") for p in declared):
                names.append(stage.name)
        return sorted(names)


def test_params_diff_names_exactly_the_changed_augmentation_params(repo: Path):
    set_param(repo, "augment.audio_noise.snr_db_min", 20.0)
    set_param(repo, "augment.noise.sigma", 0.2)
    diff = json.loads(run(repo, "dvc", "params", "diff", "--json"))
    changed = {key: (v["old"], v["new"]) for key, v in diff["params.yaml"].items()}
    assert list(diff) == ["params.yaml"]
    assert changed == {"augment.audio_noise.snr_db_min": (15.0, 20.0), "augment.noise.sigma": (0.1, 0.2)}


def test_an_audio_param_is_read_only_by_its_own_augment_stage(repo: Path):
    assert stages_reading(repo, "augment.audio_noise.snr_db_min") == ["augment@audio_noise"]
    assert stages_reading(repo, "augment.audio_speed.rate_min") == ["augment@audio_speed"]
    # the settings every method shares are read by every augment stage (and the folds by evaluate)
    assert stages_reading(repo, "augment.ratio") == [f"augment@{m}" for m in sorted(METHODS)]
