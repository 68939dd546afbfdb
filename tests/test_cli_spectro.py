"""CLI: spectrogram → evaluate-spectro → report on a tiny generated EmoDB-named corpus."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from adan_ser.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _corpus(root: Path) -> None:
    """Speakers 03 (m), 08 (f), 09 (f); anger (W) and sadness (T); 0.3 s at 22.05 kHz (resampled)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(0.3 * 22050)) / 22050
    for spk in ("03", "08", "09"):
        for code, f0 in (("W", 300.0), ("T", 120.0)):
            for k in range(3):
                x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.normal(size=t.size)
                sf.write(root / f"{spk}a0{k}{code}a.wav", x, 22050)


def _params(tmp_path: Path, **spectro) -> Path:
    p = {
        "seed": 0,
        "eval": {"seeds": [3, 4]},  # spectrogram models run once per run seed
        "data": {"corpus": "emodb", "root": str(tmp_path / "corpus"), "classes": [], "merge_excited": False},
        "cv": {"scheme": "leave-one-speaker-out"},
        "spectro": {
            "frontend": {"kind": "mel"}, "segment_s": 0.2, "train_overlap_s": 0.1, "eval_overlap_s": 0.16,
            "models": ["crnn"], "heads": ["softmax"],
            "train": {"channels": [2, 4], "rnn_hidden": 4, "input_pool": [1, 1], "epochs": 1, "device": "cpu"},
            **spectro,
        },
    }
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p))
    return path


@pytest.mark.slow
def test_spectrogram_evaluate_report(tmp_path, capsys):
    _corpus(tmp_path / "corpus")
    params = str(_params(tmp_path))
    manifest, cache = tmp_path / "manifest.csv", tmp_path / "spec" / "mel.npz"
    pred, empty, out = tmp_path / "spectro.parquet", tmp_path / "empty.parquet", tmp_path / "results"
    assert main(["--params", params, "prepare", "-o", str(manifest)]) == 0
    assert main(["--params", params, "spectrogram", "-m", str(manifest), "-o", str(cache)]) == 0
    assert main(["--params", params, "evaluate-spectro", "-m", str(manifest), "-s", str(cache), "-o", str(pred),
                 "--log-dir", str(tmp_path / "logs")]) == 0
    assert (tmp_path / "logs" / "crnn" / "softmax" / "seed3" / "03").is_dir()
    assert sorted(pd.read_parquet(pred)["seed"].unique().tolist()) == [3, 4]
    none = str(_params(tmp_path, models=[]))
    assert main(["--params", none, "evaluate-spectro", "-m", str(manifest), "-s", str(cache), "-o", str(empty)]) == 0
    assert pd.read_parquet(empty).empty
    assert main(["--params", params, "report", "-p", str(pred), str(empty), "-m", str(manifest),
                 "-o", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert results[["classifier", "head", "feature_set"]].values.tolist() == [["crnn", "softmax", "spectrogram-mel"]]
    assert results["n_folds"].tolist() == [3]


def test_unknown_model_is_one_line_error(tmp_path, capsys):
    _corpus(tmp_path / "corpus")
    params = str(_params(tmp_path, models=["lenet"]))
    manifest, cache, pred = tmp_path / "m.csv", tmp_path / "s.npz", tmp_path / "p.parquet"
    assert main(["--params", params, "prepare", "-o", str(manifest)]) == 0
    assert main(["--params", params, "spectrogram", "-m", str(manifest), "-o", str(cache)]) == 0
    capsys.readouterr()
    assert main(["--params", params, "evaluate-spectro", "-m", str(manifest), "-s", str(cache), "-o", str(pred)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(err) == 1 and "lenet" in err[0]
    assert not pred.exists()
