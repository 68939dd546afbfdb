"""Interrupt safety: a ``kill -9`` mid-write leaves no output half-written, no debris Git or DVC
sees, and no helper process behind; the next run cleans up and completes.

The subprocess tests run ``adan extract`` (a process pool) and ``adan augment`` (a Dask
LocalCluster) on a small generated corpus, kill them by pid once their helpers are up, and run
them again; the last one kills ``dvc repro`` while it runs the augment stage, in a throw-away
git + DVC project, and checks that the stage ends with it and that ``dvc status`` is clean after
the re-run (also with a killed write's debris lying in a folder a stage depends on).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adan_ser.core import io
from adan_ser.core.lifecycle import DVC_STAGE_ENV, exit_with_parent, pid_alive

psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[1]
FEATURES = "data/features/eGeMAPSv02.parquet"


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name.startswith(io.TEMP_PREFIX))


# ------------------------------------------------------------------ atomic writes (fast)


def test_temp_names_share_one_ignored_pattern(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    io.write_text("x", tmp_path / "t.txt")
    with io.atomic_dir(tmp_path / "folder") as tmp:
        (tmp / "f").write_text("y")
    monkeypatch.undo()
    assert len(seen) == 3 and all(name.startswith(io.TEMP_PREFIX) for name in seen), seen
    for ignore_file in (".gitignore", ".dvcignore"):
        lines = (REPO / ignore_file).read_text().splitlines()
        assert io.TEMP_GLOB in lines, f"{ignore_file} must ignore {io.TEMP_GLOB}"


def test_outputs_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        io.write_parquet(pd.DataFrame({"a": [1.0]}), tmp_path / "f.parquet")
        with io.atomic_dir(tmp_path / "d") as tmp:
            (tmp / "x").write_text("1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_stale_temps_of_the_target_removed_on_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    stale_file = tmp_path / f"{io.TEMP_PREFIX}{dead.pid}-0123abcd-out.csv.csv"
    stale_dir = tmp_path / f"{io.TEMP_PREFIX}{dead.pid}-0123abcd-sets"
    live = tmp_path / f"{io.TEMP_PREFIX}{os.getppid()}-0123abcd-out.csv.csv"  # a live writer's
    other = tmp_path / f"{io.TEMP_PREFIX}{dead.pid}-0123abcd-out.csv.bak.csv"  # another target's
    stale_file.write_text("")
    (stale_dir / "seed0").mkdir(parents=True)
    live.write_text("")
    other.write_text("")
    io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    with io.atomic_dir(tmp_path / "sets"):
        pass
    assert not stale_file.exists() and not stale_dir.exists()
    assert live.exists() and other.exists()


def test_write_csv_fixed_float_precision(tmp_path):
    df = pd.DataFrame({"x": [80.0, 72.81, -2.499999999999986, np.nan, 1e-05, 0.1 + 0.2, -3.0],
                       "f32": np.array([0.1, 1, 2, 3, 4, 5, 6], dtype=np.float32),
                       "n": [1, 2, 3, 4, 5, 6, 7], "s": list("abcdefg")})
    io.write_csv(df, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[1:] == ["80.0,0.1,1,a", "72.81,1.0,2,b", "-2.5,2.0,3,c", ",3.0,4,d", "1e-05,4.0,5,e",
                         "0.3,5.0,6,f", "-3.0,6.0,7,g"]
    # values of at most 10 significant digits (the rounded results tables) are written as pandas does
    rounded = pd.DataFrame({"wa": [66.56, 72.5, 100.0, 0.0], "uar": [1.25, 33.33, 50.0, 12.0]})
    io.write_csv(rounded, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text() == rounded.to_csv(index=False)


# ------------------------------------------------------------------ exit_with_parent


def test_exit_with_parent_only_under_dvc(monkeypatch):
    monkeypatch.delenv(DVC_STAGE_ENV, raising=False)
    assert exit_with_parent() is None


@pytest.mark.slow
def test_exit_with_parent_ends_the_child_of_a_killed_parent(tmp_path):
    pid_file = tmp_path / "child.pid"
    child = (f"import time, pathlib; from adan_ser.core.lifecycle import exit_with_parent; "
             f"exit_with_parent(grace_s=5); pathlib.Path({str(pid_file)!r}).write_text(str(__import__('os').getpid())); "
             f"time.sleep(60)")
    parent = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", parent], env={**os.environ, DVC_STAGE_ENV: "augment@smote"})
    try:
        deadline = time.monotonic() + 20
        while not pid_file.is_file() or not pid_file.read_text():
            assert time.monotonic() < deadline, "child did not start"
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        assert pid_alive(pid)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while pid_alive(pid):
        assert time.monotonic() < deadline, "the child outlived its killed parent"
        time.sleep(0.1)


# ------------------------------------------------------------------ kill -9 of adan commands (slow)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A folder with params.yaml (the repository's), a 4-speaker demo corpus in data/demo, its
    manifest and eGeMAPS features (extracted in this process: the reference bytes)."""
    from adan_ser.contracts.manifest import write_manifest
    from adan_ser.corpora.build import build_manifest
    from adan_ser.corpora.demo import generate_demo
    from adan_ser.features.opensmile import extract_to_parquet

    root = tmp_path_factory.mktemp("interrupts")
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    generate_demo(root / "data" / "demo", speakers=4, utterances_per_class=6)
    manifest = build_manifest("demo", root / "data" / "demo")
    write_manifest(manifest, root / "data" / "manifest.csv")
    extract_to_parquet(manifest, root / "data" / "demo", "eGeMAPSv02", root / FEATURES, progress=False)
    return root


def _adan(*args) -> list[str]:
    exe = shutil.which("adan")
    return [exe, *args] if exe else [sys.executable, "-m", "adan_ser.cli", *args]


def _kill_when(proc: subprocess.Popen, ready, timeout_s: float = 180.0) -> list:
    """Poll until ``ready(children)`` holds for ``proc``'s descendants, then ``kill -9`` ``proc``
    alone (not its group) and return the descendants it had."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, "the command finished before it could be killed"
        children = parent.children(recursive=True)
        if ready(children):
            break
        assert time.monotonic() < deadline, "the command never got going"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return children


def _assert_all_gone(processes, timeout_s: float = 15.0) -> None:
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:  # do not leave them to the next test
        p.kill()
    assert not alive, f"processes survived their killed parent: {[' '.join(p.cmdline())[:80] for p in alive]}"


@pytest.mark.slow
def test_kill_9_extract_leaves_no_worker_and_rerun_completes(project, tmp_path):
    out = tmp_path / "features" / "f.parquet"
    cmd = _adan("extract", "-m", str(project / "data/manifest.csv"), "--root", str(project / "data/demo"),
                "-o", str(out), "--workers", "2")
    proc = subprocess.Popen(cmd, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # two pool workers (besides the fork server and resource tracker) and the output's temp file
    children = _kill_when(proc, lambda kids: len(kids) >= 4 and _temps(out.parent))
    _assert_all_gone(children)
    left = list(out.parent.iterdir())
    assert left and all(p.name.startswith(io.TEMP_PREFIX) for p in left), left  # only ignored debris
    subprocess.run(cmd, cwd=project, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert [p.name for p in out.parent.iterdir()] == ["f.parquet"]  # debris of the killed run removed
    assert out.read_bytes() == (project / FEATURES).read_bytes()  # complete, same bytes as in-process


@pytest.mark.slow
def test_kill_9_augment_leaves_no_dask_worker_and_rerun_completes(project):
    out = project / "data/synthetic/smote"
    cmd = _adan("augment", "--method", "smote", "-f", FEATURES, "-o", "data/synthetic/smote")
    proc = subprocess.Popen([*cmd, "--scheduler", "localcluster:2"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # both LocalCluster workers started, the output folder being assembled
    children = _kill_when(proc, lambda kids: len(kids) >= 2 and _temps(out.parent))
    _assert_all_gone(children)
    assert not out.exists() and all(p.name.startswith(io.TEMP_PREFIX) for p in out.parent.iterdir())
    # the sets do not depend on the scheduler: the re-run runs here, without a cluster to start
    subprocess.run([*cmd, "--scheduler", "local"], cwd=project, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert not _temps(project / "data")
    assert sorted(p.name for p in (out / "seed0").iterdir()) == [f"spk0{i}.parquet" for i in range(1, 5)]


_STAGE_CMD = ("python -c 'import sys; from adan_ser.core.lifecycle import exit_with_parent; exit_with_parent(); "
              "from adan_ser.cli import main; sys.exit(main())' ")

_DVC_YAML = f"""stages:
  augment:
    cmd: >-
      {_STAGE_CMD}augment --method smote -f {FEATURES} -o data/synthetic/smote --scheduler local
    deps: [data/manifest.csv, {FEATURES}]
    outs: [data/synthetic/smote]
  listing:
    cmd: find data/synthetic -type f | sort > listing.txt
    deps: [data/synthetic]
    outs: [listing.txt]
"""


@pytest.mark.slow
def test_dvc_status_clean_after_kill_9_of_dvc_repro_and_rerun(project, tmp_path):
    if not (shutil.which("git") and shutil.which("dvc")):
        pytest.skip("git and dvc are needed")
    work = tmp_path / "work"
    (work / "data/features").mkdir(parents=True)
    for name in ("params.yaml", "data/manifest.csv", FEATURES):
        shutil.copy(project / name, work / name)
    shutil.copytree(project / "data/demo", work / "data/demo")
    shutil.copy(REPO / ".dvcignore", work / ".dvcignore")
    (work / "dvc.yaml").write_text(_DVC_YAML)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    env.pop(DVC_STAGE_ENV, None)

    def run(*cmd):
        return subprocess.run(cmd, cwd=work, env=env, check=True, capture_output=True, text=True).stdout

    run("git", "init", "-q")
    run("dvc", "init", "-q")
    run("dvc", "repro", "-q")
    proc = subprocess.Popen(["dvc", "repro", "-f", "augment"], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stage_started(kids):  # the stage's python has had time to call exit_with_parent
        for kid in kids:
            try:
                if "exit_with_parent" in " ".join(kid.cmdline()) and time.time() - kid.create_time() > 1.0:
                    return True
            except psutil.Error:  # gone meanwhile (dvc's short-lived helpers)
                continue
        return False

    children = _kill_when(proc, stage_started)
    _assert_all_gone(children, timeout_s=30)  # the stage noticed DVC's death and ended
    # ended early: DVC removed the old output before the run, and the stage never wrote its own
    assert not (work / "data/synthetic/smote").exists()
    run("dvc", "repro", "-q")
    assert not _temps(work / "data") and not _temps(work)
    assert "up to date" in run("dvc", "status").lower()
    # debris a kill left where a stage reads a whole folder does not count as a change
    debris = work / "data/synthetic" / f"{io.TEMP_PREFIX}999999-0123abcd-smote" / "seed0"
    debris.mkdir(parents=True)
    (debris / "spk01.parquet").write_text("partial")
    assert "up to date" in run("dvc", "status").lower()
