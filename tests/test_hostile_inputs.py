"""Hostile input and interrupts: each case ends with one line naming the culprit and exit status 2
(or the right result), no traceback, and nothing written or left behind.

The interrupt tests run ``adan`` in a subprocess whose openSMILE result callback signals its own
process on a chosen file: the exception the signal raises is then inside a ctypes callback, where
it used to be swallowed and the file blamed as one openSMILE cannot describe.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from adan_ser.cli import main
from adan_ser.core import io
from adan_ser.core.lifecycle import DVC_STAGE_ENV

from tests.test_params import _set

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    env.pop(DVC_STAGE_ENV, None)
    env.update(extra)
    return env


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name.startswith(io.TEMP_PREFIX))


def _one_line_error(capsys, *needles) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.replace("\r", "\n").splitlines() if "error:" in line]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A 2-speaker demo corpus (16 files), its manifest, features and a params file using them."""
    from adan_ser.contracts.manifest import write_manifest
    from adan_ser.corpora.build import build_manifest
    from adan_ser.corpora.demo import generate_demo
    from adan_ser.features.opensmile import extract_to_parquet

    root = tmp_path_factory.mktemp("hostile")
    generate_demo(root / "demo", speakers=3, utterances_per_class=2)
    manifest = build_manifest("demo", root / "demo")
    write_manifest(manifest, root / "manifest.csv")
    extract_to_parquet(manifest, root / "demo", "eGeMAPSv02", root / "features.parquet", progress=False)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(corpus="demo", root=str(root / "demo"))
    params["features"].update(set="eGeMAPSv02", workers=1)
    params["eval"]["seeds"] = [0]
    params["cv"]["scheduler"] = "local"
    params["augment"]["ratio"] = 1
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


# ------------------------------------------------------------------ 3. interrupts during openSMILE

_SIGNAL_INSIDE_OPENSMILE = """
import os, signal, sys
import opensmile.core.smile as sm

original, calls = sm.Smile._sink_callback, [0]

def patched(y, starts, ends):
    callback = original(y, starts, ends)
    def wrapper(data, meta):
        calls[0] += 1
        if calls[0] == {at}:
            os.kill(os.getpid(), signal.{sig})  # its handler raises right here, inside ctypes
        callback(data, meta)
    return wrapper

sm.Smile._sink_callback = staticmethod(patched)
from adan_ser.cli import main
sys.exit(main())
"""


def _foreground_sigint() -> None:
    # As in a terminal's foreground: a shell starts background jobs (`&`, nohup) with SIGINT ignored,
    # Python then installs no KeyboardInterrupt handler, and the test would depend on how pytest was run.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted_adan(cwd: Path, sig: str, at: int, *args) -> subprocess.CompletedProcess:
    code = _SIGNAL_INSIDE_OPENSMILE.format(at=at, sig=sig)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300, preexec_fn=_foreground_sigint)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_interrupt_inside_opensmile_stops_extract_blaming_no_file(demo, tmp_path, sig):
    out = tmp_path / "features" / "f.parquet"
    done = _interrupted_adan(demo, sig, 3, "--params", "params.yaml", "extract", "--skip-bad",
                             "-m", "manifest.csv", "-o", str(out))
    assert done.returncode == 128 + getattr(signal, sig), done.stderr
    assert "skipped" not in done.stderr and "cannot describe" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert f"interrupted ({sig})" in done.stderr
    assert not out.exists() and not (out.parent.exists() and list(out.parent.iterdir()))


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_interrupt_inside_opensmile_stops_audio_augmentation(demo, tmp_path, sig):
    out, report = tmp_path / "synthetic", tmp_path / "report"
    done = _interrupted_adan(demo, sig, 2, "--params", "params.yaml", "augment", "--method", "audio_noise",
                             "-m", "manifest.csv", "-f", "features.parquet", "-o", str(out),
                             "--report-dir", str(report))
    assert done.returncode == 128 + getattr(signal, sig), done.stderr
    assert "cannot describe" not in done.stderr and "error:" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not out.exists() and not report.exists() and not _temps(tmp_path)


# ------------------------------------------------------------------ 7. a killed background parent


def test_background_stage_ends_with_its_killed_parent(demo, tmp_path):
    """``dvc repro &``: the stage inherits SIGINT ignored; a ``kill -9`` of DVC still stops it
    well before the watchdog's grace period (10 s), through its ``finally`` blocks, and with
    ``--skip-bad`` it skips no file on the way out."""
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "f.parquet"
    slow = ("import time, opensmile.core.smile as sm\n"
            "original = sm.Smile._sink_callback\n"
            "def patched(*a):\n"
            "    cb = original(*a)\n"
            "    def wrapper(data, meta):\n"
            "        time.sleep(0.5)\n"
            "        cb(data, meta)\n"
            "    return wrapper\n"
            "sm.Smile._sink_callback = staticmethod(patched)\n"
            "import sys; from adan_ser.cli import main; sys.exit(main())\n")
    log = tmp_path / "stage.log"
    stage = subprocess.list2cmdline([sys.executable, "-c", slow, "--params", "params.yaml", "extract", "--skip-bad",
                                     "-m", "manifest.csv", "-o", str(out)]) + f" 2> {log}"
    # the parent stands in for DVC: it runs the stage through a shell, as DVC does, with SIGINT
    # ignored as in a background job
    parent = ("import signal, subprocess, sys, time\n"
              "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
              f"subprocess.Popen(['sh', '-c', {stage!r}])\n"
              "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", parent], cwd=demo, env=_env(**{DVC_STAGE_ENV: "extract"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _temps(tmp_path):  # the stage is writing
            assert time.monotonic() < deadline, "the stage never started"
            time.sleep(0.05)
        kids = psutil.Process(proc.pid).children(recursive=True)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = time.monotonic()
    _, alive = psutil.wait_procs(kids, timeout=8)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    assert not alive, "the stage outlived its killed parent"
    assert time.monotonic() - killed_at < 8
    assert not out.exists() and not _temps(tmp_path)  # interrupted, and its finally blocks ran
    said = log.read_text()
    assert "interrupted (SIGTERM)" in said and "skipped" not in said and "Traceback" not in said, said


# ------------------------------------------------------------------ 4. an output that is an input


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["prepare-csv", "prepare-demo-labels", "extract", "augment-holds-input"])
def test_output_that_is_an_input_is_refused(demo, tmp_path, capsys, case):
    work = tmp_path / "w"
    shutil.copytree(demo, work, ignore=shutil.ignore_patterns("*.wav"))
    before = _snapshot(work)
    params = ["--params", str(work / "params.yaml")]
    if case == "prepare-csv":
        labels = work / "demo" / "labels.csv"
        argv = [*params, "prepare", "--corpus", "csv", "--root", str(labels), "-o", str(labels)]
        culprit = "corpus CSV"
    elif case == "prepare-demo-labels":
        argv = [*params, "prepare", "--root", str(demo / "demo"), "-o", str(demo / "demo" / "labels.csv")]
        culprit = "demo labels"
    elif case == "extract":
        argv = [*params, "extract", "-m", str(work / "manifest.csv"), "-o", str(work / "manifest.csv")]
        culprit = "manifest"
    else:  # the output folder is replaced whole: one holding the features would lose them
        argv = [*params, "augment", "--method", "smote", "-m", str(work / "manifest.csv"),
                "-f", str(work / "features.parquet"), "-o", str(work)]
        culprit = "holds the manifest"
    assert main(argv) == 2
    _one_line_error(capsys, "-o", culprit)
    assert _snapshot(work) == before and not _temps(work)


# ------------------------------------------------------------------ 5. the report, all or nothing


def test_failed_report_leaves_the_last_report_whole(tmp_path, monkeypatch):
    import adan_ser.reporting.significance as significance
    from adan_ser.core.errors import AdanError
    from adan_ser.reporting.report import write_report

    rows = [dict(corpus="c", feature_set="IS11", method="none", train_data="real", classifier="svm", head="-",
                 seed=0, fold=f"f{i % 2}", file=f"{i}.wav", speaker=f"s{i % 2}", true=t, pred=p)
            for i, (t, p) in enumerate([("a", "a"), ("b", "b"), ("a", "b"), ("b", "b")])]
    predictions = pd.DataFrame(rows)
    out = tmp_path / "results"
    (out / "predictions").mkdir(parents=True)
    (out / "predictions" / "keep.parquet").write_bytes(b"another stage's")
    write_report(predictions, ["a", "b"], out)
    before = _snapshot(out)
    assert {"results.csv", "results.md", "runs.csv", "metrics.json"} <= {p.name for p in out.iterdir()}

    def fail(*args, **kwargs):
        raise AdanError("eval.references: no such method")

    monkeypatch.setattr(significance, "significance_table", fail)
    with pytest.raises(AdanError):
        write_report(predictions.assign(pred="a"), ["a", "b"], out)  # other figures, had it finished
    assert _snapshot(out) == before
    assert not _temps(tmp_path)


# ------------------------------------------------------------------ 9. outputs that cannot be written


@pytest.mark.parametrize("output", ["", "a-folder", "under-a-file/f.parquet"])
def test_unwritable_output_is_one_line(demo, tmp_path, capsys, output):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "under-a-file").write_text("a file, not a folder")
    before = _snapshot(tmp_path)
    target = "" if output == "" else str(tmp_path / output)
    argv = ["--params", str(demo / "params.yaml"), "extract", "-m", str(demo / "manifest.csv"), "-o", target]
    assert main(argv) == 2
    _one_line_error(capsys, "-o")
    assert _snapshot(tmp_path) == before and not _temps(tmp_path)


# ------------------------------------------------------------------ 6. a manifest given with -m


def test_manifest_given_with_m_is_spelled_as_prepare_spells_it(tmp_path):
    from adan_ser.contracts.folds import folds_for
    from adan_ser.contracts.manifest import load_manifest

    rows = pd.DataFrame({"file": [f"u{i}.wav" for i in range(6)],
                         "speaker": ["03", " 03", "08", "08", "11", "11 "],
                         "gender": ["m", "Male", "f", "f", "F", "female"],
                         "emotion": ["anger", "Anger", " sadness", "anger", "SADNESS", "anger"],
                         "session": ["03", "03 ", "08", "08", "11", "11"], "condition": "", "duration": 1.0})
    rows.to_csv(tmp_path / "m.csv", index=False)
    manifest = load_manifest(tmp_path / "m.csv")
    assert sorted(manifest["emotion"].unique()) == ["anger", "sadness"]  # two classes, not four
    assert sorted(manifest["speaker"].unique()) == ["03", "08", "11"]
    assert set(manifest["gender"]) == {"f", "m"}
    folds = folds_for(manifest, "leave-one-speaker-out")
    assert sorted(f.name for f in folds) == ["03", "08", "11"]  # no fold " 03" beside "03"


# ------------------------------------------------------------------ 8. one recording twice, nothing, rubbish


def _csv_corpus(demo: Path, folder: Path, alias: str) -> Path:
    """A CSV corpus of two demo files, plus a third row that is the first again (``alias``)."""
    (folder / "audio" / "sub").mkdir(parents=True)
    names = sorted(p.name for p in (demo / "demo").glob("*.wav"))[:2]
    for name in names:
        shutil.copy(demo / "demo" / name, folder / "audio" / name)
    third = {"copy": f"audio/sub/{names[0]}", "alias": f"audio/../audio/{names[0]}",
             "renamed-copy": "audio/sub/other.wav"}[alias]
    if alias != "alias":
        shutil.copy(demo / "demo" / names[0], folder / third)
    pd.DataFrame({"file": [f"audio/{names[0]}", f"audio/{names[1]}", third], "speaker": ["1", "2", "2"],
                  "emotion": ["anger", "sadness", "anger"]}).to_csv(folder / "labels.csv", index=False)
    return folder / "labels.csv"


@pytest.mark.parametrize("alias", ["copy", "alias"])
def test_one_recording_listed_twice_is_refused(demo, tmp_path, capsys, alias):
    labels = _csv_corpus(demo, tmp_path / "corpus", alias)
    out = tmp_path / "manifest.csv"
    argv = ["--params", str(demo / "params.yaml"), "prepare", "--corpus", "csv", "--root", str(labels), "-o", str(out)]
    assert main(argv) == 2
    line = _one_line_error(capsys, "one recording", "identical bytes" if alias == "copy" else "the same file")
    assert "'audio/sub/" in line or "'audio/../audio/" in line
    assert not out.exists()
    # the same manifest given to extract with -m: its two lines named
    manifest = pd.read_csv(labels).assign(gender="f", session=lambda d: d["speaker"], condition="", duration=1.0)
    manifest.to_csv(tmp_path / "m.csv", index=False)
    argv = ["--params", str(demo / "params.yaml"), "extract", "-m", str(tmp_path / "m.csv"),
            "--root", str(tmp_path / "corpus"), "-o", str(tmp_path / "f.parquet")]
    assert main(argv) == 2
    assert "line 2 (" in _one_line_error(capsys, "one recording", "and line 4 (")
    assert not (tmp_path / "f.parquet").exists()


def test_identical_bytes_under_another_name_are_named_in_a_warning(demo, tmp_path, capsys):
    # a corpus may ship such a pair (two takes stored as one): it is named, and both rows stay
    labels = _csv_corpus(demo, tmp_path / "corpus", "renamed-copy")
    out = tmp_path / "manifest.csv"
    argv = ["--params", str(demo / "params.yaml"), "prepare", "--corpus", "csv", "--root", str(labels), "-o", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "warning:" in line]
    assert len(warned) == 1 and "identical bytes" in warned[0] and "'audio/sub/other.wav'" in warned[0], err
    assert len(pd.read_csv(out)) == 3


def test_manifest_rows_without_features_are_named(demo):
    from adan_ser.contracts.align import align, load_features
    from adan_ser.contracts.manifest import load_manifest

    manifest, features = load_manifest(demo / "manifest.csv"), load_features(demo / "features.parquet")
    with pytest.warns(UserWarning, match=r"2 of 24 manifest rows have no features \(first "):
        rows, X, _ = align(manifest, features.iloc[2:])
    assert len(rows) == len(X) == 22


@pytest.mark.parametrize("case", ["every-file-bad", "header-only"])
def test_nothing_to_extract_is_an_error(demo, tmp_path, capsys, case):
    manifest = pd.read_csv(demo / "manifest.csv", dtype=str)
    if case == "every-file-bad":
        for i, name in enumerate(manifest["file"][:3]):
            (tmp_path / name).write_bytes(b"RIFF not audio %d" % i)
        manifest = manifest.iloc[:3]
    else:
        manifest = manifest.iloc[:0]
    manifest.to_csv(tmp_path / "m.csv", index=False)
    out = tmp_path / "out" / "f.parquet"
    argv = ["--params", str(demo / "params.yaml"), "extract", "--skip-bad", "-m", str(tmp_path / "m.csv"),
            "--root", str(tmp_path), "-o", str(out)]
    assert main(argv) == 2
    _one_line_error(capsys, "every file is bad (3)" if case == "every-file-bad" else "no rows")
    assert not out.exists() and not _temps(tmp_path)


def test_corrupt_quality_table_is_named(demo, tmp_path, capsys):
    from adan_ser.contracts.predictions import write_predictions

    rows = pd.DataFrame({"corpus": "demo", "feature_set": "x", "method": "smote", "train_data": "real+synthetic",
                         "classifier": "svm", "head": "-", "seed": 0, "fold": ["03", "08"] * 2,
                         "speaker": ["03", "08"] * 2, "file": [f"{i}.wav" for i in range(4)],
                         "true": ["anger", "sadness"] * 2, "pred": ["anger", "anger", "anger", "sadness"]})
    write_predictions(rows, tmp_path / "predictions")
    pd.DataFrame({"file": rows["file"], "speaker": rows["speaker"], "gender": "f", "emotion": rows["true"],
                  "session": rows["speaker"], "condition": "", "duration": 1.0}).to_csv(tmp_path / "m.csv", index=False)
    (tmp_path / "augment" / "smote").mkdir(parents=True)
    quality = tmp_path / "augment" / "smote" / "quality.csv"
    quality.write_bytes(b"seed,fold\x00\xff\xfe,garbage\n\x00\x01")
    out = tmp_path / "results"
    argv = ["--params", str(demo / "params.yaml"), "report", "-p", str(tmp_path / "predictions"),
            "-m", str(tmp_path / "m.csv"), "-o", str(out), "--augment-dir", str(tmp_path / "augment")]
    assert main(argv) == 2
    _one_line_error(capsys, str(quality))
    assert not out.exists() and not _temps(tmp_path)


# ------------------------------------------------------------------ 9. params that would crash or exhaust


@pytest.mark.parametrize("dotted, value", [
    ("augment.ratio", 1e9),
    ("augment.smote.ratio", 101),
    ("data.demo.speakers", 1_000_000),
    ("data.demo.utterances_per_class", 100_000),
    ("data.demo.utterances", 10**7),
    ("eval.seeds", [0, 2**32]),
    ("seed", 2**32),
    ("data.demo.seed", 2**40),
    ("classify.dnn.device", "cuda"),
    ("augment.adan.device", "cuda:0"),
    ("classify.dnn.device", "toaster"),
])
def test_param_that_would_crash_or_exhaust_is_named(tmp_path, capsys, dotted, value):
    import torch

    if "device" in dotted and value != "toaster" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    params = _set(yaml.safe_load((REPO / "params.yaml").read_text()), dotted, value)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    out = tmp_path / "m.csv"
    assert main(["--params", str(path), "prepare", "-o", str(out)]) == 2
    line = _one_line_error(capsys, f"{dotted}: ")
    if "device" in dotted and value != "toaster":
        assert "no CUDA device" in line
    assert not out.exists()


def test_params_file_not_utf8_is_named(tmp_path, capsys):
    path = tmp_path / "params.yaml"
    path.write_bytes((REPO / "params.yaml").read_bytes() + b"# caf\xe9\n")
    assert main(["--params", str(path), "prepare", "-o", str(tmp_path / "m.csv")]) == 2
    _one_line_error(capsys, str(path), "not UTF-8")


def test_demo_that_would_not_fit_on_disk_is_refused_before_writing(tmp_path, monkeypatch):
    import adan_ser.corpora.demo as demo_module
    from adan_ser.core.errors import AdanError

    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr(demo_module.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(free, free - 1000, 1000))
    with pytest.raises(AdanError, match=r"demo corpus: about .* GB of wav \(16 files\), but .* free"):
        demo_module.generate_demo(tmp_path / "demo", speakers=2, utterances_per_class=2)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 9. rows that used to end in a traceback


def _toy_project(tmp_path: Path, *, speakers: int = 4, emotion=None, constant: bool = False,
                 duplicate_row: bool = False) -> list[str]:
    """A toy manifest, features and params under ``tmp_path``; returns ``adan augment`` argv."""
    sys.path.insert(0, str(REPO / "tests"))
    from toy import toy_corpus

    manifest, features = toy_corpus(n=36, speakers=speakers)
    if emotion is not None:
        manifest["emotion"] = emotion
    if constant:
        features.iloc[:, 1:] = 1.0
    if duplicate_row:
        features = pd.concat([features, features.iloc[[5]]], ignore_index=True)
    manifest.to_csv(tmp_path / "m.csv", index=False)
    features.to_parquet(tmp_path / "f.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["eval"]["seeds"] = [0]
    params["cv"]["scheduler"] = "local"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return ["--params", str(tmp_path / "params.yaml"), "augment", "--method", "smote", "-m", str(tmp_path / "m.csv"),
            "-f", str(tmp_path / "f.parquet"), "-o", str(tmp_path / "out" / "sets"),
            "--report-dir", str(tmp_path / "out" / "report")]


@pytest.mark.parametrize("case, culprit", [
    ("duplicate-feature-row", "features hold file 'u005.wav' twice (rows 5 and 36"),
    ("one-class", "hold one emotion ('angry')"),
    ("constant-features", "every feature is constant over the 36 rows"),
])
def test_augment_input_that_used_to_raise_is_one_line(tmp_path, capsys, case, culprit):
    argv = _toy_project(tmp_path, emotion="angry" if case == "one-class" else None,
                        constant=case == "constant-features", duplicate_row=case == "duplicate-feature-row")
    assert main(argv) == 2
    _one_line_error(capsys, culprit)
    # 10: nor an empty folder above the outputs
    assert not (tmp_path / "out").exists() and not _temps(tmp_path)


def test_smote_on_one_class_rows_is_named():
    from adan_ser.augment.generators.baselines import SMOTESampler
    from adan_ser.core.errors import AdanError

    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(AdanError, match=r"SMOTESampler: the training rows hold one class \('sad'\)"):
        SMOTESampler(ratio=1.0).generate(X, np.array(["sad"] * 10))


def test_export_seed_beyond_2_32_is_a_usage_error(demo, tmp_path, capsys):
    argv = ["--params", str(demo / "params.yaml"), "export", "--fold", "spk01", "--seed", str(2**32),
            "-o", str(tmp_path / "x.csv")]
    assert main(argv) == 2
    assert "--seed" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


# ------------------------------------------------------------------ 10. messages that say what is wrong


def test_csv_corpus_duplicate_names_its_file_lines(demo, tmp_path, capsys):
    names = [f"demo/{n}" for n in sorted(p.name for p in (demo / "demo").glob("*.wav"))[:13]]
    order = [names[5]] + names[:5] + names[6:] + [names[0]]  # not sorted; names[0] on lines 3 and 15
    pd.DataFrame({"file": order, "speaker": "1", "emotion": "anger"}).to_csv(tmp_path / "labels.csv", index=False)
    shutil.copytree(demo / "demo", tmp_path / "demo")
    argv = ["--params", str(demo / "params.yaml"), "prepare", "--corpus", "csv", "--root", str(tmp_path / "labels.csv"),
            "-o", str(tmp_path / "m.csv")]
    assert main(argv) == 2
    _one_line_error(capsys, f"file {names[0]!r} listed twice", "lines 3 and 15")


def test_missing_audio_file_is_called_missing(demo, tmp_path, capsys):
    manifest = pd.read_csv(demo / "manifest.csv", dtype=str).iloc[:2]
    manifest.loc[1, "file"] = "gone.wav"
    manifest.to_csv(tmp_path / "m.csv", index=False)
    argv = ["--params", str(demo / "params.yaml"), "extract", "-m", str(tmp_path / "m.csv"), "-o", str(tmp_path / "f.parquet")]
    assert main(argv) == 2
    line = _one_line_error(capsys, "gone.wav: file not found")
    assert "System error" not in line


def test_two_speakers_with_a_validation_speaker_says_why(tmp_path, capsys):
    argv = _toy_project(tmp_path, speakers=2)
    assert main(argv) == 2
    _one_line_error(capsys, "classify.dnn.val_groups: 1", "no rows")
    assert not (tmp_path / "out").exists()


def test_library_warning_is_one_line(demo, tmp_path, capsys):
    features = pd.read_parquet(demo / "features.parquet").iloc[1:]
    features.to_parquet(tmp_path / "f.parquet")
    argv = ["--params", str(demo / "params.yaml"), "augment", "--method", "none", "-m", str(demo / "manifest.csv"),
            "-f", str(tmp_path / "f.parquet"), "-o", str(tmp_path / "sets")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.replace("\r", "\n").splitlines() if "warning:" in line]
    assert warned == ["adan augment: warning: 1 of 24 manifest rows have no features (first "
                      "'spk01_angry_001.wav': skipped by extract --skip-bad?); they are left out"], err
    assert "UserWarning" not in err and "warnings.warn" not in err


def test_one_class_in_data_classes_is_refused(tmp_path, capsys):
    params = _set(yaml.safe_load((REPO / "params.yaml").read_text()), "data.classes", ["angry"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["--params", str(tmp_path / "params.yaml"), "prepare", "-o", str(tmp_path / "m.csv")]) == 2
    _one_line_error(capsys, "data.classes: ['angry'] is not a list of two or more")


def test_stereo_files_are_mixed_down_and_said_so_once(demo, tmp_path, capsys):
    import soundfile as sf

    manifest = pd.read_csv(demo / "manifest.csv", dtype=str).iloc[:3]
    for name in manifest["file"]:
        x, sr = sf.read(demo / "demo" / name)
        sf.write(tmp_path / name, np.stack([x, 0.5 * x], axis=1), sr)
    manifest.to_csv(tmp_path / "m.csv", index=False)
    argv = ["--params", str(demo / "params.yaml"), "extract", "-m", str(tmp_path / "m.csv"), "--root", str(tmp_path),
            "-o", str(tmp_path / "f.parquet")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.replace("\r", "\n").splitlines() if "warning:" in line]
    assert len(warned) == 1 and "3 of 3 files have more than one channel" in warned[0], err
    assert len(pd.read_parquet(tmp_path / "f.parquet")) == 3
