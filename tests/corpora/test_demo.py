"""The synthetic demo corpus: deterministic, complete, audible, readable as a manifest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from adan_ser.contracts.manifest import MANIFEST_COLUMNS, validate_manifest
from adan_ser.core.errors import AdanError
from adan_ser.corpora.build import build_manifest
from adan_ser.corpora.demo import LABELS_FILE, generate_demo

SMALL = dict(speakers=2, utterances_per_class=2)
EMOTIONS = ("angry", "happy", "neutral", "sad")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo") / "corpus", **SMALL)


def wav_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.wav"))}


def test_same_seed_identical_bytes(demo_dir, tmp_path):
    again = generate_demo(tmp_path / "again", **SMALL)
    assert wav_bytes(again) == wav_bytes(demo_dir)
    assert (again / LABELS_FILE).read_bytes() == (demo_dir / LABELS_FILE).read_bytes()


def test_different_seed_differs(demo_dir, tmp_path):
    other = wav_bytes(generate_demo(tmp_path / "other", seed=1, **SMALL))
    first = wav_bytes(demo_dir)
    assert other.keys() == first.keys()
    assert all(other[name] != first[name] for name in first)


def test_counts_names_and_labels(demo_dir):
    labels = pd.read_csv(demo_dir / LABELS_FILE, dtype=str)
    assert list(labels.columns) == ["file", "speaker", "gender", "emotion"]
    assert len(labels) == 2 * 4 * 2
    counts = labels.groupby(["speaker", "emotion"]).size()
    assert (counts == 2).all() and len(counts) == 8
    assert sorted(set(labels["speaker"])) == ["spk01", "spk02"]
    assert labels.drop_duplicates("speaker")["gender"].tolist() == ["f", "m"]
    assert "spk02_happy_002.wav" in set(labels["file"])
    assert sorted(p.name for p in demo_dir.glob("*.wav")) == sorted(labels["file"])


def test_audio_format_duration_level(demo_dir):
    for path in demo_dir.glob("*.wav"):
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 1.0 <= info.duration <= 2.0
        x, _ = sf.read(path)
        assert np.sqrt(np.mean(x**2)) > 0.003, path  # not silent
        assert np.abs(x).max() < 0.95, path  # not clipped


def test_emotions_differ_in_level(tmp_path):
    # Sad is generated quieter than angry: a sanity check that the emotion shaping works.
    folder = generate_demo(tmp_path / "d", speakers=2, utterances_per_class=3, emotions=("angry", "sad"))
    rms = {
        e: np.mean([np.sqrt(np.mean(sf.read(p)[0] ** 2)) for p in folder.glob(f"*_{e}_*.wav")])
        for e in ("angry", "sad")
    }
    assert rms["angry"] > 2 * rms["sad"]


def test_replaces_existing_folder_atomically(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    generate_demo(out, speakers=1, utterances_per_class=1, emotions=("sad",))
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".json") == ["labels.csv", "spk01_sad_001.wav"]
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no temp folder left beside it


def test_unknown_emotion_rejected(tmp_path):
    with pytest.raises(AdanError, match="'joy'"):
        generate_demo(tmp_path / "d", emotions=("angry", "joy"))
    assert not (tmp_path / "d").exists()


def test_build_manifest_demo(demo_dir):
    df = build_manifest("demo", demo_dir)
    validate_manifest(df)
    assert list(df.columns) == MANIFEST_COLUMNS
    assert len(df) == 16
    assert set(df["gender"]) == {"f", "m"}
    assert set(df["emotion"]) == set(EMOTIONS)
    assert (df["session"] == df["speaker"]).all()
    assert df["duration"].between(1.0, 2.0).all()


def test_build_manifest_generates_missing_demo(tmp_path):
    root = tmp_path / "data" / "demo"
    df = build_manifest("demo", root, classes=["sad", "angry"], speakers=2, utterances_per_class=1)
    assert (root / LABELS_FILE).is_file()
    assert sorted(df["emotion"]) == ["angry", "angry", "sad", "sad"]
    # Other options regenerate; the same options reuse what is there.
    assert len(build_manifest("demo", root, speakers=1, utterances_per_class=1)) == 4
    before = (root / LABELS_FILE).stat().st_mtime_ns
    build_manifest("demo", root, speakers=1, utterances_per_class=1)
    assert (root / LABELS_FILE).stat().st_mtime_ns == before


# ------------------------------------------------------------------ large-corpus mode
LARGE = dict(speakers=3, utterances=144)  # 144 > one batch of 128, and not a multiple of it


@pytest.fixture(scope="module")
def large_dir(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("large") / "corpus", **LARGE)


def test_large_mode_counts_balance_and_determinism(large_dir, tmp_path):
    labels = pd.read_csv(large_dir / LABELS_FILE)
    assert len(labels) == 144 == len(list(large_dir.glob("*.wav")))
    assert labels["file"].is_unique
    # utterance i -> speaker i % 3, emotion (i // 3) % 4: every prefix is balanced
    assert labels["speaker"].value_counts().tolist() == [48, 48, 48]
    assert sorted(labels["emotion"].value_counts().tolist()) == [36, 36, 36, 36]
    assert labels.iloc[:12].groupby(["speaker", "emotion"]).size().tolist() == [1] * 12
    again = generate_demo(tmp_path / "again", **LARGE)
    assert wav_bytes(again) == wav_bytes(large_dir)


def test_large_mode_audio_short_audible_and_distinct(large_dir):
    lengths, peaks = [], []
    for path in sorted(large_dir.glob("*.wav"))[:60]:
        x, sr = sf.read(path)
        assert sr == 16000 and x.ndim == 1
        lengths.append(len(x) / sr)
        peaks.append(np.abs(x).max())
    assert 0.5 <= min(lengths) and max(lengths) <= 1.0
    assert 10 ** (-25 / 20) <= min(peaks) and max(peaks) <= 10 ** (-0.9 / 20)
    assert len(set(np.round(lengths, 4))) > 30  # durations vary from file to file


def test_large_mode_emotions_differ_in_level(large_dir):
    labels = pd.read_csv(large_dir / LABELS_FILE)
    rms = {}
    for name, emotion in zip(labels["file"], labels["emotion"]):
        x, _ = sf.read(large_dir / name)
        rms.setdefault(emotion, []).append(np.sqrt(np.mean(x**2)))
    means = {e: np.mean(v) for e, v in rms.items()}
    assert means["angry"] > means["neutral"] > means["sad"]


def test_default_params_record_has_no_utterances_key(demo_dir, large_dir):
    import json

    from adan_ser.corpora.demo import PARAMS_FILE

    assert "utterances" not in json.loads((demo_dir / PARAMS_FILE).read_text())
    assert json.loads((large_dir / PARAMS_FILE).read_text())["utterances"] == 144


def test_large_mode_rejects_zero(tmp_path):
    with pytest.raises(AdanError, match="utterances"):
        generate_demo(tmp_path / "x", utterances=0)
