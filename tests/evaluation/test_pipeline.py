"""The evaluate stage over several run seeds, and its predictions folder."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.augment.folds import augment_folds
from adan_ser.errors import AdanError
from adan_ser.evaluation.pipeline import evaluate
from adan_ser.evaluation.predictions import load_predictions, write_predictions

DNN = {"epochs": 4, "hidden": [8], "lr": 0.01, "patience": 2}


def _toy(n=36, speakers=4):
    rng = np.random.default_rng(2)
    emotions = np.array(["angry", "happy", "sad"])[np.arange(n) % 3]
    manifest = pd.DataFrame({
        "file": [f"u{i:03d}.wav" for i in range(n)],
        "speaker": [f"{i % speakers:02d}" for i in range(n)],
        "gender": "f", "emotion": emotions, "session": [f"{i % speakers:02d}" for i in range(n)],
        "condition": "", "duration": 1.0,
    })
    centers = {"angry": 1.0, "happy": 0.0, "sad": -1.0}
    feats = rng.normal(size=(n, 6)) + np.array([centers[e] for e in emotions])[:, None]
    features = pd.DataFrame(feats, columns=[f"f{j}" for j in range(6)])
    features.insert(0, "file", manifest["file"])
    return manifest, features


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Predictions of seeds [0, 1] together and of seed 1 alone, with noise-augmented rows."""
    tmp = tmp_path_factory.mktemp("seeds")
    manifest, features = _toy()
    augment_folds(manifest, features, "leave-one-speaker-out", "noise", {"sigma": 0.5}, [0, 1], 1.0,
                  tmp / "noise", progress=False)
    kw = dict(models={"svm": {"kernel": "linear"}, "dnn": DNN}, corpus="toy", feature_set="f",
              synthetic_dirs={"noise": tmp / "noise"}, train_data=["real+synthetic"])
    both = evaluate(manifest, features, "leave-one-speaker-out", seeds=[0, 1], **kw)
    alone = evaluate(manifest, features, "leave-one-speaker-out", seeds=[1], **kw)
    return both, alone


def _part(pred, classifier, method, seed):
    p = pred[(pred["classifier"] == classifier) & (pred["method"] == method) & (pred["seed"] == seed)]
    return p.sort_values("file").reset_index(drop=True)


def test_every_combination_runs_once_per_seed(runs):
    both, _ = runs
    counts = both.groupby(["classifier", "method", "seed"]).size()
    assert len(counts) == 2 * 2 * 2 and (counts == 36).all()
    assert sorted(c for c in both.columns if c.startswith("score_")) == ["score_angry", "score_happy", "score_sad"]
    assert both[["score_angry", "score_happy", "score_sad"]].notna().all().all()


def test_deterministic_svm_on_real_data_is_reported_under_every_seed(runs):
    both, _ = runs
    cols = ["file", "fold", "true", "pred", "score_angry", "score_happy", "score_sad"]
    pd.testing.assert_frame_equal(_part(both, "svm", "none", 0)[cols], _part(both, "svm", "none", 1)[cols])


def test_stochastic_steps_differ_between_seeds(runs):
    both, _ = runs
    for clf, method in (("dnn", "none"), ("svm", "noise"), ("dnn", "noise")):
        a, b = _part(both, clf, method, 0), _part(both, clf, method, 1)
        assert not np.allclose(a["score_angry"], b["score_angry"]), (clf, method)


def test_a_seed_gives_the_same_run_alone_as_among_others(runs):
    both, alone = runs
    for clf in ("svm", "dnn"):
        for method in ("none", "noise"):
            pd.testing.assert_frame_equal(_part(both, clf, method, 1), _part(alone, clf, method, 1))


def test_predictions_folder_round_trip_keeps_order(runs, tmp_path):
    both, _ = runs
    files = write_predictions(both, tmp_path / "predictions")
    assert len(files) == 8 and all(f.is_file() for f in files)
    assert files[0].name == "000-svm---none-real-seed0.parquet"
    back = load_predictions(tmp_path / "predictions")
    order = lambda df: list(df[["classifier", "method"]].drop_duplicates().itertuples(index=False))  # noqa: E731
    assert order(back) == order(both)
    key = ["classifier", "method", "seed", "file"]
    pd.testing.assert_frame_equal(back.sort_values(key).reset_index(drop=True),
                                  both.sort_values(key).reset_index(drop=True))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_predictions_are_named(tmp_path):
    with pytest.raises(AdanError, match="nowhere"):
        load_predictions(tmp_path / "nowhere")
