"""The shared dvclive logger: parallel folds may not fail on dvclive's one-per-repository signal file."""

import json

import pytest

from adan_ser.core.live import open_live


def test_no_folder_no_logger():
    assert open_live(None) is None


def test_end_survives_signal_file_removed_by_another_process(tmp_path, monkeypatch):
    # Reproduce the race deterministically: the signal file exists when dvclive checks it and is
    # gone (another fold's Live.end removed it) when dvclive removes it.
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    import dvclive.vscode as vscode

    signal = tmp_path / ".dvc" / "tmp" / "exps" / "run" / "DVCLIVE_STEP_COMPLETED"
    live = open_live(tmp_path / "log")
    live.log_metric("train/loss", 1.0)
    live.next_step()
    assert json.loads(signal.read_text())["step"] == 0
    signal.unlink()
    real_exists = vscode.os.path.exists
    monkeypatch.setattr(vscode.os.path, "exists", lambda p: True if str(p) == str(signal) else real_exists(p))
    live.end()  # dvclive's own Live raises FileNotFoundError here
    assert (tmp_path / "log" / "plots" / "metrics" / "train" / "loss.tsv").exists()


def test_other_missing_files_still_raise(tmp_path, monkeypatch):
    import dvclive.live

    def lost(*_args, **_kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "metrics.json"))

    live = open_live(tmp_path / "log")
    monkeypatch.setattr(dvclive.live, "cleanup_dvclive_step_completed", lost)
    with pytest.raises(FileNotFoundError):
        live.end()
