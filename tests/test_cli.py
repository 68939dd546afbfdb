"""The CLI turns bad input into one line naming the culprit, exit status 2, and no output file."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from adan_ser.cli import main


def _params(tmp_path, **data):
    p = {"seed": 0, "data": {"corpus": "emodb", "root": str(tmp_path / "corpus"), "classes": [],
                             "merge_excited": False},
         "features": {"set": "eGeMAPSv02", "workers": 1, "skip_bad": False},
         "cv": {"scheme": "leave-one-speaker-out"}, "classify": {"models": ["svm"], "svm": {"kernel": "linear"}}}
    p["data"].update(data)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p))
    return path


def _emodb(root: Path, names):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    for i, name in enumerate(names):
        x = 0.3 * np.sin(2 * np.pi * (120 + 10 * i) * t) + 0.01 * rng.normal(size=t.size)
        sf.write(root / name, x, 16000)


def _one_line_error(capsys, *needles):
    # progress bars may share stderr; the error itself must be exactly one line
    lines = [l for l in capsys.readouterr().err.replace("\r", "\n").splitlines() if "error:" in l]
    assert len(lines) == 1, lines
    err = lines[0]
    assert err.startswith("adan "), err
    for n in needles:
        assert n in err, err
    return err


def test_missing_corpus_folder(tmp_path, capsys):
    params = _params(tmp_path, root=str(tmp_path / "nowhere"))
    out = tmp_path / "manifest.csv"
    assert main(["--params", str(params), "prepare", "-o", str(out)]) == 2
    _one_line_error(capsys, "nowhere")
    assert not out.exists()


def test_unknown_emotion_code(tmp_path, capsys):
    _emodb(tmp_path / "corpus", ["03a01Fa.wav", "03a01Qa.wav"])
    out = tmp_path / "manifest.csv"
    assert main(["--params", str(_params(tmp_path)), "prepare", "-o", str(out)]) == 2
    _one_line_error(capsys, "03a01Qa.wav")
    assert not out.exists()


@pytest.mark.parametrize("bad", ["unreadable", "zero-length"])
def test_bad_wav_in_extract(tmp_path, capsys, bad):
    root = tmp_path / "corpus"
    _emodb(root, ["03a01Fa.wav", "08a01Wa.wav"])
    if bad == "unreadable":
        (root / "08a01Wa.wav").write_bytes(b"RIFF this is not audio")
    else:
        sf.write(root / "08a01Wa.wav", np.zeros(0), 16000)
    params = _params(tmp_path)
    manifest = pd.DataFrame({"file": ["03a01Fa.wav", "08a01Wa.wav"], "speaker": ["03", "08"],
                             "gender": ["m", "f"], "emotion": ["happiness", "anger"],
                             "session": ["03", "08"], "condition": ["", ""], "duration": [0.5, 0.5]})
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    out = tmp_path / "features" / "x.parquet"
    argv = ["--params", str(params), "extract", "-m", str(tmp_path / "manifest.csv"), "-o", str(out)]
    assert main(argv) == 2
    _one_line_error(capsys, "08a01Wa.wav")
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())  # no temp file either
    # --skip-bad lists the file and goes on with the rest
    assert main(argv + ["--skip-bad"]) == 0
    assert "08a01Wa.wav" in capsys.readouterr().err
    assert pd.read_parquet(out)["file"].tolist() == ["03a01Fa.wav"]


def test_manifest_with_missing_column(tmp_path, capsys):
    pd.DataFrame({"file": ["a.wav"], "speaker": ["1"], "gender": ["f"], "session": ["1"],
                  "condition": [""], "duration": [1.0]}).to_csv(tmp_path / "manifest.csv", index=False)
    out = tmp_path / "pred.parquet"
    argv = ["--params", str(_params(tmp_path)), "evaluate", "-m", str(tmp_path / "manifest.csv"),
            "-f", str(tmp_path / "f.parquet"), "-o", str(out)]
    assert main(argv) == 2
    _one_line_error(capsys, "emotion")
    assert not out.exists()


def test_nan_features_named(tmp_path, capsys):
    manifest = pd.DataFrame({"file": [f"{s}a01Fa.wav" for s in ("03", "08")] * 2,
                             "speaker": ["03", "08"] * 2, "gender": ["m", "f"] * 2,
                             "emotion": ["happiness", "anger", "anger", "happiness"],
                             "session": ["03", "08"] * 2, "condition": "", "duration": 1.0})
    manifest["file"] = [f"{i}.wav" for i in range(4)]
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    feats = pd.DataFrame({"file": manifest["file"], "pitch_mean": [1.0, np.nan, 2.0, 3.0], "x": 1.0})
    feats.to_parquet(tmp_path / "f.parquet")
    out = tmp_path / "pred.parquet"
    assert main(["--params", str(_params(tmp_path)), "evaluate", "-m", str(tmp_path / "manifest.csv"),
                 "-f", str(tmp_path / "f.parquet"), "-o", str(out)]) == 2
    _one_line_error(capsys, "pitch_mean")
    assert not out.exists()


def test_extract_on_dask_scheduler_same_file(tmp_path, capsys, dask_scheduler):
    root = tmp_path / "corpus"
    names = ["03a01Fa.wav", "08a01Wa.wav", "09a01Fa.wav"]
    _emodb(root, names)
    params = _params(tmp_path)
    pd.DataFrame({"file": names, "speaker": ["03", "08", "09"], "gender": ["m", "f", "f"],
                  "emotion": ["happiness", "anger", "happiness"], "session": ["03", "08", "09"],
                  "condition": "", "duration": 0.5}).to_csv(tmp_path / "manifest.csv", index=False)
    base = ["--params", str(params), "extract", "-m", str(tmp_path / "manifest.csv")]
    assert main(base + ["-o", str(tmp_path / "local.parquet")]) == 0
    assert main(base + ["-o", str(tmp_path / "dask.parquet"), "--scheduler", dask_scheduler]) == 0
    assert (tmp_path / "dask.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()
    assert pd.read_parquet(tmp_path / "dask.parquet")["file"].tolist() == names


def test_bad_scheduler_in_extract(tmp_path, capsys):
    _emodb(tmp_path / "corpus", ["03a01Fa.wav"])
    pd.DataFrame({"file": ["03a01Fa.wav"], "speaker": ["03"], "gender": ["m"], "emotion": ["happiness"],
                  "session": ["03"], "condition": [""], "duration": [0.5]}).to_csv(tmp_path / "manifest.csv",
                                                                                  index=False)
    out = tmp_path / "x.parquet"
    argv = ["--params", str(_params(tmp_path)), "extract", "-m", str(tmp_path / "manifest.csv"),
            "-o", str(out), "--scheduler", "my-cluster"]
    assert main(argv) == 2
    _one_line_error(capsys, "my-cluster")
    assert not out.exists()


def test_csv_corpus_given_as_file(tmp_path, capsys):
    """data.root = the CSV itself: its `file` entries are relative to the CSV's folder in every stage."""
    corpus = tmp_path / "corpus"
    names = ["03a01Fa.wav", "08a01Wa.wav"]
    _emodb(corpus / "audio", names)
    pd.DataFrame({"file": [f"audio/{n}" for n in names], "speaker": ["03", "08"],
                  "emotion": ["happiness", "anger"]}).to_csv(corpus / "list.csv", index=False)
    params = _params(tmp_path, corpus="csv", root=str(corpus / "list.csv"))
    manifest = tmp_path / "manifest.csv"
    assert main(["--params", str(params), "prepare", "-o", str(manifest)]) == 0
    assert main(["--params", str(params), "extract", "-m", str(manifest), "-o", str(tmp_path / "f.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "f.parquet")["file"].tolist() == [f"audio/{n}" for n in names]
    assert main(["--params", str(params), "spectrogram", "-m", str(manifest), "-o", str(tmp_path / "s.npz")]) == 0
    assert (tmp_path / "s.npz").is_file()


@pytest.mark.parametrize("extra", [["--method", "smote"], ["--fold", "03"], ["-f", "x.parquet"]])
def test_export_rejects_options_a_saved_model_ignores(tmp_path, capsys, extra):
    out = tmp_path / "synth.csv"
    argv = ["--params", str(_params(tmp_path)), "export", "--model", str(tmp_path / "m.pt"), "-o", str(out)]
    assert main(argv + extra) == 2
    _one_line_error(capsys, "--model", extra[0])
    assert not out.exists()


def test_export_needs_fold_or_model(tmp_path, capsys):
    assert main(["--params", str(_params(tmp_path)), "export", "-o", str(tmp_path / "s.csv")]) == 2
    _one_line_error(capsys, "--fold")


def test_help_lists_commands_in_pipeline_order_with_examples(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    order = ["demo", "prepare", "extract", "spectrogram", "augment", "export", "evaluate", "evaluate-spectro",
             "report"]
    assert [out.index(f"\n  {c} ") for c in order] == sorted(out.index(f"\n  {c} ") for c in order)
    assert "Example:\n    adan " in out
    for command in order:
        assert main([command, "--help"]) == 0
        assert f"Example:\n    adan {command} " in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["no-such-command"]) == 2
    assert main(["extract", "-m", "x.csv"]) == 2  # -o is required
    assert main(["extract", "-o", "x.parquet", "--workers", "0"]) == 2
    assert "Error:" in capsys.readouterr().err


def test_click_runner_sees_the_exit_status(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--params", str(tmp_path / "none.yaml"), "prepare"])
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"adan prepare: error: params file not found: {tmp_path / 'none.yaml'}")


def test_report_takes_several_prediction_paths(tmp_path, capsys):
    """`-p a b` (as dvc.yaml writes it): every path after -p is read."""
    from adan_ser.contracts.predictions import write_predictions

    rows = pd.DataFrame({"corpus": "emodb", "feature_set": "x", "method": "none", "train_data": "real",
                         "classifier": "svm", "head": "-", "seed": 0, "fold": ["03", "08"] * 2,
                         "speaker": ["03", "08"] * 2, "file": [f"{i}.wav" for i in range(4)],
                         "true": ["anger", "happiness"] * 2, "pred": ["anger", "anger", "anger", "happiness"]})
    write_predictions(rows, tmp_path / "a")
    write_predictions(rows.assign(classifier="dnn", head="softmax"), tmp_path / "b")
    pd.DataFrame({"file": rows["file"], "speaker": rows["speaker"], "gender": "f", "emotion": rows["true"],
                  "session": rows["speaker"], "condition": "", "duration": 1.0}).to_csv(tmp_path / "m.csv",
                                                                                        index=False)
    argv = ["--params", str(_params(tmp_path)), "report", "-p", str(tmp_path / "a"), str(tmp_path / "b"),
            "-m", str(tmp_path / "m.csv"), "-o", str(tmp_path / "out")]
    assert main(argv) == 0, capsys.readouterr().err
    assert sorted(pd.read_csv(tmp_path / "out" / "results.csv")["classifier"]) == ["dnn", "svm"]


def test_python_dash_m_exits_with_the_commands_status(tmp_path):
    """``python -m adan_ser.cli`` (what the benchmarks and scripts run) exits 2 on bad input, like ``adan``."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "adan_ser.cli", "--params", str(tmp_path / "missing.yaml"),
                           "prepare", "-o", str(tmp_path / "m.csv")], capture_output=True, text=True)
    assert done.returncode == 2, done
    assert "params file not found" in done.stderr
