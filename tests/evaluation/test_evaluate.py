"""The evaluate stage: several run seeds and its predictions folder; the loop over classifiers and DNN heads."""

import numpy as np
import pandas as pd
import pytest
import torch

from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.contracts.predictions import load_predictions, write_predictions
from adan_ser.core.errors import AdanError
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate, model_variants
from tests.toy import toy_corpus

DNN = {"epochs": 4, "hidden": [8], "lr": 0.01, "patience": 2}


TINY_DNN = {"hidden": [8], "epochs": 2, "patience": 1, "batch_size": 16, "device": "cpu"}


def test_model_variants():
    assert model_variants("svm", {"C": 1}, "none", "real", ["arcface"], {}, {"none": ["real"]}) == [("-", {"C": 1})]
    assert model_variants("dnn", {"lr": 1}, "none", "real") == [("softmax", {"lr": 1})]
    runs = model_variants("dnn", {"lr": 1}, "none", "real", ["softmax", "arcface+focal"],
                          {"arcface+focal": {"s": 10}}, {"none": ["real"]})
    assert runs == [("softmax", {"lr": 1}),
                    ("arcface+focal", {"lr": 1, "head": "arcface+focal", "head_params": {"s": 10}})]
    # heads run only where heads_on says; elsewhere the DNN's own head alone
    assert model_variants("dnn", {"head": "am-softmax"}, "adan", "synthetic", ["softmax"], {},
                          {"none": ["real"], "adan": ["real+synthetic"]}) == [("am-softmax", {"head": "am-softmax"})]


def _toy_heads(n=64, d=5):
    rng = np.random.default_rng(0)
    emotion = np.array(["angry", "sad"])[np.arange(n) % 2]
    manifest = pd.DataFrame({"file": [f"u{i}.wav" for i in range(n)], "speaker": [f"s{i % 4}" for i in range(n)],
                             "emotion": emotion})
    X = rng.normal(size=(n, d)) + (emotion == "sad")[:, None] * 3.0
    features = pd.DataFrame(X, columns=[f"f{j}" for j in range(d)])
    features.insert(0, "file", manifest["file"])
    return manifest, features


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Predictions of seeds [0, 1] together and of seed 1 alone, with noise-augmented rows."""
    tmp = tmp_path_factory.mktemp("seeds")
    manifest, features = toy_corpus()
    augment_folds(manifest, features,
                  AugmentSettings("noise", {"sigma": 0.5}, 1.0, PlanSettings("leave-one-speaker-out", [0, 1]),
                                  progress=False),
                  tmp / "noise")
    kw = dict(models={"svm": {"kernel": "linear"}, "dnn": DNN}, corpus="toy", feature_set="f",
              synthetic_dirs={"noise": tmp / "noise"}, train_data=["real+synthetic"])
    both = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings("leave-one-speaker-out", [0, 1]), **kw))
    alone = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings("leave-one-speaker-out", [1]), **kw))
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


def test_evaluate_runs_every_head_with_its_name_and_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    manifest, features = _toy_heads()
    pred = evaluate(manifest, features,
                    EvaluateSettings({"dnn": TINY_DNN}, "toy", "F", PlanSettings("leave-one-speaker-out", 0),
                                     heads=["softmax", "arcface+focal"],
                                     head_params={"arcface+focal": {"s": 10, "gamma": 1}},
                                     heads_on={"none": ["real"]}),
                    tmp_path / "training")
    assert sorted(pred["head"].unique()) == ["arcface+focal", "softmax"]
    assert (pred.groupby("head").size() == 64).all()  # every test utterance once per head
    assert (tmp_path / "training" / "dnn" / "arcface_plus_focal" / "real" / "seed0" / "s0" / "metrics.json").is_file()
    assert (tmp_path / "training" / "dnn" / "softmax" / "real" / "seed0" / "s3" / "metrics.json").is_file()


def test_evaluate_rejects_bad_heads_before_running():
    manifest, features = _toy_heads()
    with pytest.raises(AdanError, match="unknown head 'cosface'"):
        evaluate(manifest, features,
                 EvaluateSettings({"dnn": TINY_DNN}, "toy", "F", PlanSettings("leave-one-speaker-out", 0),
                                  heads=["cosface"]))
    with pytest.raises(AdanError, match="unknown head 'arcfase'"):
        evaluate(manifest, features,
                 EvaluateSettings({"dnn": TINY_DNN}, "toy", "F", PlanSettings("leave-one-speaker-out", 0),
                                  heads=["softmax"], head_params={"arcfase": {"s": 1}}))


def test_params_of_an_unlisted_known_head_are_ignored(tmp_path, monkeypatch):
    """`-S classify.heads=[softmax]` must work without deleting the other heads' params blocks."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    manifest, features = _toy_heads()
    pred = evaluate(manifest, features,
                    EvaluateSettings({"dnn": TINY_DNN}, "toy", "F", PlanSettings("leave-one-speaker-out", 0),
                                     heads=["softmax"], head_params={"arcface": {"s": 1}},
                                     heads_on={"none": ["real"]}))
    assert pred["head"].unique().tolist() == ["softmax"]
