"""The evaluate stage's loop over classifiers and DNN heads."""

import numpy as np
import pandas as pd
import pytest
import torch

from adan_ser.errors import AdanError
from adan_ser.evaluation.pipeline import evaluate, model_variants

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


def _toy(n=64, d=5):
    rng = np.random.default_rng(0)
    emotion = np.array(["angry", "sad"])[np.arange(n) % 2]
    manifest = pd.DataFrame({"file": [f"u{i}.wav" for i in range(n)], "speaker": [f"s{i % 4}" for i in range(n)],
                             "emotion": emotion})
    X = rng.normal(size=(n, d)) + (emotion == "sad")[:, None] * 3.0
    features = pd.DataFrame(X, columns=[f"f{j}" for j in range(d)])
    features.insert(0, "file", manifest["file"])
    return manifest, features


def test_evaluate_runs_every_head_with_its_name_and_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    manifest, features = _toy()
    pred = evaluate(manifest, features, "leave-one-speaker-out", {"dnn": TINY_DNN}, seed=0, corpus="toy",
                    feature_set="F", log_dir=tmp_path / "training", heads=["softmax", "arcface+focal"],
                    head_params={"arcface+focal": {"s": 10, "gamma": 1}}, heads_on={"none": ["real"]})
    assert sorted(pred["head"].unique()) == ["arcface+focal", "softmax"]
    assert (pred.groupby("head").size() == 64).all()  # every test utterance once per head
    assert (tmp_path / "training" / "dnn" / "arcface_plus_focal" / "real" / "s0" / "metrics.json").is_file()
    assert (tmp_path / "training" / "dnn" / "softmax" / "real" / "s3" / "metrics.json").is_file()


def test_evaluate_rejects_bad_heads_before_running():
    manifest, features = _toy()
    with pytest.raises(AdanError, match="unknown head 'cosface'"):
        evaluate(manifest, features, "leave-one-speaker-out", {"dnn": TINY_DNN}, 0, "toy", "F", heads=["cosface"])
    with pytest.raises(AdanError, match="unknown head 'arcfase'"):
        evaluate(manifest, features, "leave-one-speaker-out", {"dnn": TINY_DNN}, 0, "toy", "F",
                 heads=["softmax"], head_params={"arcfase": {"s": 1}})


def test_params_of_an_unlisted_known_head_are_ignored(tmp_path, monkeypatch):
    """`-S classify.heads=[softmax]` must work without deleting the other heads' params blocks."""
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    manifest, features = _toy()
    pred = evaluate(manifest, features, "leave-one-speaker-out", {"dnn": TINY_DNN}, 0, "toy", "F",
                    heads=["softmax"], head_params={"arcface": {"s": 1}}, heads_on={"none": ["real"]})
    assert pred["head"].unique().tolist() == ["softmax"]
