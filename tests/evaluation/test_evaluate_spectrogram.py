"""Tests for adan_ser.evaluation.evaluate_spectrogram: folds, leakage, columns the report understands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError
from adan_ser.evaluation import evaluate_spectrogram as spectro_eval
from adan_ser.evaluation.evaluate_spectrogram import SpectroSettings
from adan_ser.features.spectrogram import SpectrogramSet
from adan_ser.reporting.report import summarize

N_BINS = 16
TRAIN = dict(channels=[2, 4], rnn_hidden=4, input_pool=[1, 1], epochs=1, batch_size=8, device="cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _corpus(speakers=3, per_class=3):
    rng = np.random.default_rng(0)
    rows, specs = [], []
    for s in range(speakers):
        for c, emo in enumerate(["anger", "sadness"]):
            for k in range(per_class):
                rows.append({"file": f"s{s}_{emo}_{k}.wav", "speaker": f"s{s}", "gender": "fm"[s % 2],
                             "emotion": emo, "session": f"s{s}"})
                spec = rng.normal(size=(int(rng.integers(12, 30)), N_BINS)).astype(np.float32)
                spec[:, 3 + 8 * c] += 2
                specs.append(spec)
    manifest = pd.DataFrame(rows)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in specs])])
    cache = SpectrogramSet(manifest["file"].to_numpy(), offsets, np.concatenate(specs),
                           {"kind": "linear", "hop_ms": 10.0})
    # a shuffled manifest: predictions must follow manifest rows, not cache order
    return manifest.sample(frac=1.0, random_state=0).reset_index(drop=True), cache


def test_seconds_to_frames():
    assert spectro_eval.segment_frames(10.0, 2.0, 1.0, 1.6) == {"segment_frames": 200, "train_hop": 100, "eval_hop": 40}
    with pytest.raises(AdanError, match="eval_overlap_s"):
        spectro_eval.segment_frames(10.0, 2.0, 1.0, 2.0)


def test_rows_have_the_pipeline_columns_and_every_utterance_once(monkeypatch):
    manifest, cache = _corpus()
    pred = spectro_eval.evaluate_spectro(manifest, cache,
                                         SpectroSettings(["crnn", "cnn-blstm-att-stats"], ["softmax"], "toy",
                                                         PlanSettings("leave-one-speaker-out", 0), train_params=TRAIN,
                                                         segment_s=0.16, train_overlap_s=0.08, eval_overlap_s=0.12,
                                                         progress=False))
    assert list(pred.columns) == spectro_eval.COLUMNS
    assert set(pred["feature_set"]) == {"spectrogram-linear"}
    assert set(pred["method"]) == {"none"} and set(pred["train_data"]) == {"real"}
    for _, part in pred.groupby("classifier"):
        assert sorted(part["file"]) == sorted(manifest["file"])
        truth = manifest.set_index("file").loc[part["file"], "emotion"].to_numpy()
        np.testing.assert_array_equal(part["true"].to_numpy(), truth)
        assert (part["fold"] == part["speaker"]).all()
    # one inner-validation UAR per fit (model × fold), a percentage, the same on all its rows
    per_fit = pred.groupby(["classifier", "fold"])["val_uar"]
    assert (per_fit.nunique() == 1).all() and per_fit.ngroups == 6
    assert pred["val_uar"].between(0, 100).all()
    results = summarize(pred, ["anger", "sadness"])
    assert sorted(results["classifier"]) == ["cnn-blstm-att-stats", "crnn"]
    assert (results["n_folds"] == 3).all()


def test_no_test_speaker_reaches_fit(monkeypatch):
    manifest, cache = _corpus()
    seen = []
    real_fit = spectro_eval.SpectroClassifier.fit
    real_predict = spectro_eval.SpectroClassifier.predict

    def spy_fit(self, X, y, groups=None, gender=None):
        seen.append(("fit", set(np.asarray(groups))))
        return real_fit(self, X, y, groups, gender)

    def spy_predict(self, X):
        seen.append(("predict", len(X)))
        return real_predict(self, X)

    monkeypatch.setattr(spectro_eval.SpectroClassifier, "fit", spy_fit)
    monkeypatch.setattr(spectro_eval.SpectroClassifier, "predict", spy_predict)
    pred = spectro_eval.evaluate_spectro(manifest, cache,
                                         SpectroSettings(["crnn"], ["softmax"], "toy",
                                                         PlanSettings("leave-one-speaker-out", 0), train_params=TRAIN,
                                                         segment_s=0.16, train_overlap_s=0.08, eval_overlap_s=0.12,
                                                         progress=False))
    fits = [s for kind, s in seen if kind == "fit"]
    folds = list(dict.fromkeys(pred["fold"]))
    assert len(fits) == len(folds) == 3
    for speakers, test in zip(fits, folds):
        assert test not in speakers and len(speakers) == 2


def test_bad_settings_are_named():
    manifest, cache = _corpus()
    with pytest.raises(AdanError, match="vgg"):
        spectro_eval.evaluate_spectro(manifest, cache,
                                      SpectroSettings(["vgg"], ["softmax"], "toy",
                                                      PlanSettings("leave-one-speaker-out", 0)))
    with pytest.raises(AdanError, match="chanels"):
        spectro_eval.evaluate_spectro(manifest, cache,
                                      SpectroSettings(["crnn"], ["softmax"], "toy",
                                                      PlanSettings("leave-one-speaker-out", 0),
                                                      train_params={"chanels": [2]}))
    empty = spectro_eval.evaluate_spectro(manifest, cache,
                                          SpectroSettings([], ["softmax"], "toy",
                                                          PlanSettings("leave-one-speaker-out", 0)))
    assert empty.empty and list(empty.columns) == spectro_eval.COLUMNS


def test_every_run_seed_and_dask_match_local(dask_scheduler):
    manifest, cache = _corpus()
    kw = dict(models=["cnn-tf-gap"], heads=["softmax"], corpus="toy", plan=PlanSettings(seeds=[0, 5]),
              train_params=TRAIN, segment_s=0.16, train_overlap_s=0.08, eval_overlap_s=0.12, progress=False)
    local = spectro_eval.evaluate_spectro(manifest, cache, SpectroSettings(**kw))
    assert sorted(local["seed"].unique()) == [0, 5]
    assert (local.groupby("seed").size() == len(manifest)).all()
    dask = spectro_eval.evaluate_spectro(manifest, cache, SpectroSettings(scheduler=dask_scheduler, **kw))
    pd.testing.assert_frame_equal(local, dask)
