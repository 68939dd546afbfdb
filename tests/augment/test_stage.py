"""The augment stage: per-fold synthetic sets learnt from training speakers only."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.augment import stage as folds_module
from adan_ser.augment.generators.baselines import DuplicateSampler
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.contracts.synthetic import load_synthetic
from adan_ser.core.errors import AdanError


def toy(n=48, d=6, speakers=4, seed=0):
    rng = np.random.default_rng(seed)
    manifest = pd.DataFrame({
        "file": [f"u{i:03d}.wav" for i in range(n)],
        "speaker": [f"s{i % speakers}" for i in range(n)],
        "gender": "f", "emotion": np.array(["angry", "happy", "sad"])[np.arange(n) % 3],
        "session": [f"s{i % speakers}" for i in range(n)], "condition": "", "duration": 1.0,
    })
    X = rng.normal(size=(n, d))
    X[:, 0] = np.arange(n)  # row id, read back by the spy
    features = pd.DataFrame(X, columns=[f"feat{j}" for j in range(d)])
    features.insert(0, "file", manifest["file"])
    return manifest, features


class SpySampler(DuplicateSampler):
    seen: list = []

    def generate(self, X, y):
        SpySampler.seen.append(set(np.asarray(X)[:, 0].astype(int)))
        return super().generate(X, y)


def test_augmenter_never_sees_a_test_speaker_vector(tmp_path, monkeypatch):
    manifest, features = toy()
    SpySampler.seen = []
    monkeypatch.setattr(folds_module, "make_sampler", lambda method, params, seed, ratio: SpySampler(random_state=seed))
    augment_folds(manifest, features,
                  AugmentSettings("duplicate", {}, None, PlanSettings("leave-one-speaker-out", 0), progress=False),
                  tmp_path / "out")
    speakers = manifest["speaker"].to_numpy()
    assert len(SpySampler.seen) == 4
    for fold_speaker, seen in zip(sorted(set(speakers)), SpySampler.seen):
        test_rows = set(np.flatnonzero(speakers == fold_speaker))
        assert not seen & test_rows
        assert seen == set(np.flatnonzero(speakers != fold_speaker))


def test_outputs_per_fold_and_quality(tmp_path):
    manifest, features = toy()
    table = augment_folds(manifest, features,
                          AugmentSettings("duplicate", {}, 1.0, PlanSettings("leave-one-speaker-out", 0),
                                          progress=False),
                          tmp_path / "out", report_dir=tmp_path / "rep")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["seed0"]
    assert sorted(p.name for p in (tmp_path / "out" / "seed0").iterdir()) == [f"s{i}.parquet" for i in range(4)]
    df = pd.read_parquet(tmp_path / "out" / "seed0" / "s0.parquet")
    assert list(df.columns) == [f"feat{j}" for j in range(6)] + ["emotion", "synthetic"]
    assert (df["synthetic"] == 1).all() and len(df) == 36
    # duplication copies training rows: the quality measures must say so
    assert (table["copies_pct"] == 100.0).all() and (table["nn_ratio"] == 0.0).all()
    assert (tmp_path / "rep" / "quality.csv").is_file() and (tmp_path / "rep" / "tsne_feature.png").is_file()
    X, y = load_synthetic(tmp_path / "out", "s0", [f"feat{j}" for j in range(6)], seed=0)
    assert X.shape == (36, 6) and set(y) == {"angry", "happy", "sad"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_failure_leaves_previous_output_untouched(tmp_path, monkeypatch):
    manifest, features = toy()
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.parquet").write_text("previous run")
    calls = []

    class Failing(DuplicateSampler):
        def generate(self, X, y):
            calls.append(1)
            if len(calls) == 2:
                raise AdanError("boom on the second fold")
            return super().generate(X, y)

    monkeypatch.setattr(folds_module, "make_sampler", lambda method, params, seed, ratio: Failing())
    with pytest.raises(AdanError, match="boom"):
        augment_folds(manifest, features,
                      AugmentSettings("duplicate", {}, None, PlanSettings("leave-one-speaker-out", 0), progress=False),
                      out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    assert [p.name for p in out.iterdir()] == ["old.parquet"]


def test_missing_synthetic_set_is_named(tmp_path):
    with pytest.raises(AdanError, match="s9.parquet"):
        load_synthetic(tmp_path, "s9", ["feat0"])
    with pytest.raises(AdanError, match=r"seed3/s9.parquet"):
        load_synthetic(tmp_path, "s9", ["feat0"], seed=3)


def test_one_set_per_seed_each_from_its_seed_alone(tmp_path):
    manifest, features = toy()
    names = [f"feat{j}" for j in range(6)]
    table = augment_folds(manifest, features,
                          AugmentSettings("noise", {"sigma": 0.1}, 1.0, PlanSettings("leave-one-speaker-out", [0, 1]),
                                          progress=False),
                          tmp_path / "both")
    assert sorted(p.name for p in (tmp_path / "both").iterdir()) == ["seed0", "seed1"]
    assert sorted(zip(table["seed"], table["fold"])) == [(k, f"s{i}") for k in (0, 1) for i in range(4)]
    augment_folds(manifest, features,
                  AugmentSettings("noise", {"sigma": 0.1}, 1.0, PlanSettings("leave-one-speaker-out", 1),
                                  progress=False),
                  tmp_path / "one")
    X0, _ = load_synthetic(tmp_path / "both", "s2", names, seed=0)
    X1, _ = load_synthetic(tmp_path / "both", "s2", names, seed=1)
    X1_alone, _ = load_synthetic(tmp_path / "one", "s2", names, seed=1)
    assert not np.allclose(X0, X1)  # seeds give different noise
    np.testing.assert_array_equal(X1, X1_alone)  # seed 1's set does not depend on seed 0 running first


@pytest.mark.parametrize("seeds", [[], [0, 0], [-1], ["a"]])
def test_bad_seed_lists_are_named(tmp_path, seeds):
    manifest, features = toy()
    with pytest.raises(AdanError, match="eval.seeds"):
        augment_folds(manifest, features,
                      AugmentSettings("duplicate", {}, None, PlanSettings("leave-one-speaker-out", seeds),
                                      progress=False),
                      tmp_path / "out")


def test_augmenter_sees_the_downsampled_training_folds(tmp_path, monkeypatch):
    from adan_ser.contracts.folds import folds_for

    manifest, features = toy(n=96)
    spec = {"classes": ["happy"], "keep": 0.5, "seed": 3}
    SpySampler.seen = []
    monkeypatch.setattr(folds_module, "make_sampler", lambda method, params, seed, ratio: SpySampler(random_state=seed))
    augment_folds(manifest, features,
                  AugmentSettings("duplicate", {}, None,
                                  PlanSettings("leave-one-speaker-out", 0, train_downsample=spec), progress=False),
                  tmp_path / "out")
    expected = [set(f.train) for f in folds_for(manifest, "leave-one-speaker-out", spec)]
    assert SpySampler.seen == expected  # the same rows the evaluate stage trains on
    happy = set(np.flatnonzero(manifest["emotion"] == "happy"))
    whole = [set(f.train) for f in folds_for(manifest, "leave-one-speaker-out")]
    assert all(len(s & happy) == round(len(w & happy) / 2) for s, w in zip(SpySampler.seen, whole))


@pytest.mark.parametrize("method,params", [
    ("noise", {"sigma": 0.1}),
    ("adan", {"epochs": 3, "min_epochs": 1, "n_sets": 1, "batch_size": 16, "device": "cpu"}),
])
def test_dask_scheduler_writes_the_same_sets_as_local(tmp_path, dask_scheduler, one_torch_thread, method, params):
    # one torch thread here as on the workers: the thread count changes ADAN's float summation order
    manifest, features = toy()
    local = augment_folds(manifest, features,
                          AugmentSettings(method, params, 1.0, PlanSettings("leave-one-speaker-out", [0, 1]),
                                          progress=False),
                          tmp_path / "local")
    dask = augment_folds(manifest, features,
                         AugmentSettings(method, params, 1.0, PlanSettings("leave-one-speaker-out", [0, 1]),
                                         progress=False, scheduler=dask_scheduler),
                         tmp_path / "dask")
    pd.testing.assert_frame_equal(local, dask)
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.parquet"))
    assert len(files) == 8
    for f in files:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local" / f),
                                      pd.read_parquet(tmp_path / "dask" / f))


def test_failure_writes_nothing_into_the_report_folder(tmp_path, monkeypatch):
    manifest, features = toy()
    report = tmp_path / "rep"
    report.mkdir()
    (report / "quality.csv").write_text("previous run")
    calls = []

    class Failing(DuplicateSampler):
        def generate(self, X, y):
            calls.append(1)
            if len(calls) == 3:
                raise AdanError("boom on the third fold")
            return super().generate(X, y)

    monkeypatch.setattr(folds_module, "make_sampler", lambda method, params, seed, ratio: Failing())
    with pytest.raises(AdanError, match="boom"):
        augment_folds(manifest, features,
                      AugmentSettings("duplicate", {}, 1.0, PlanSettings("leave-one-speaker-out", 0), progress=False),
                      tmp_path / "out", report_dir=report)
    assert [p.name for p in report.iterdir()] == ["quality.csv"]  # no t-SNE picture of the first fold
    assert (report / "quality.csv").read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temporary folder left


def test_too_small_class_error_names_fold_and_seed(tmp_path):
    manifest, features = toy()
    with pytest.raises(AdanError, match=r"^fold s0, seed 3: SMOTESampler: class 'angry' has 12 training rows, "
                                        r"k_neighbors=20 needs 21$"):
        augment_folds(manifest, features,
                      AugmentSettings("smote", {"k_neighbors": 20}, 1.0, PlanSettings("leave-one-speaker-out", 3),
                                      progress=False),
                      tmp_path / "out", report_dir=tmp_path / "rep")
    assert not (tmp_path / "out").exists() and not (tmp_path / "rep").exists()
