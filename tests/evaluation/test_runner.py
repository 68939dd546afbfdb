"""No statistic of a test fold may reach a fitted step: proven with spies that record what they see."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import Pipeline

from adan_ser.classifiers.factory import make_classifier
from adan_ser.contracts.folds import make_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.evaluation import runner
from adan_ser.evaluation.runner import MissingClassWarning, cross_validate, fold_jobs, run_jobs, take
from adan_ser.features.spectrogram import SpectrogramSet
from tests.toy import toy_corpus


class SpyTransformer(TransformerMixin, BaseEstimator):
    """Identity transform that logs the row ids (column 0) it is fitted on."""

    def __init__(self, log=None):
        self.log = log

    def fit(self, X, y=None):
        self.log.append(("pre.fit", set(X[:, 0].astype(int))))
        return self

    def transform(self, X):
        return X


class SpyClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, log=None):
        self.log = log

    def fit(self, X, y, groups=None):
        self.log.append(("clf.fit", set(X[:, 0].astype(int))))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _data(n=60, groups=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 0] = np.arange(n)  # a row id the spies can read back
    y = np.array(["a", "b", "c"])[np.arange(n) % 3]
    speakers = np.array([f"s{i % groups}" for i in range(n)])
    return X, y, speakers


@pytest.mark.parametrize("train_data", ["real", "real+synthetic", "synthetic"])
def test_fitted_steps_never_see_test_rows(train_data):
    X, y, speakers = _data()
    folds = make_folds(speakers)
    log, asked = [], []

    def synthetic(fold_name):
        # an augmenter's output for this fold: ids ≥ 1000 so they are told apart from real rows
        asked.append(fold_name)
        Xs = np.full((6, 4), 0.5)
        Xs[:, 0] = 1000 + np.arange(6)
        return Xs, np.array(["a", "b", "c"] * 2)

    def make_model(fold_name):
        return Pipeline([("pre", SpyTransformer(log)), ("clf", SpyClassifier(log))])

    pred = cross_validate(X, y, speakers, folds, make_model, train_data=train_data,
                          synthetic=synthetic, progress=False)
    assert len(log) == 2 * len(folds)
    for i, fold in enumerate(folds):
        train_ids, test_ids = set(fold.train), set(fold.test)
        for step, seen in log[2 * i: 2 * i + 2]:
            assert not seen & test_ids, f"{step} saw test rows of fold {fold.name}"
            real_seen = {r for r in seen if r < 1000}
            expected = set() if train_data == "synthetic" else train_ids
            assert real_seen == expected
    if train_data != "real":
        assert asked == [f.name for f in folds]
    assert sorted(pred["row"]) == list(range(len(X)))


def test_real_preprocessor_statistics_come_from_training_rows_only():
    X, y, speakers = _data()
    X[speakers == "s0"] += 1000.0  # a test speaker far away: its stats would show in the scaler
    folds = make_folds(speakers)
    fitted = {}

    def make_model(fold_name):
        model = make_classifier("svm", {"kernel": "linear"}, seed=0)
        fitted[fold_name] = model
        return model

    cross_validate(X, y, speakers, folds, make_model, progress=False)
    for fold in folds:
        scaler = fitted[fold.name].named_steps["pre"][-1]
        kept = fitted[fold.name].named_steps["pre"][0].get_support()
        np.testing.assert_allclose(scaler.mean_, X[fold.train][:, kept].mean(axis=0))
        np.testing.assert_allclose(scaler.scale_, X[fold.train][:, kept].std(axis=0))


@pytest.mark.parametrize("name", ["svm", "dnn"])
@pytest.mark.parametrize("scale_on", ["real", "all"])
def test_scale_on_real_fits_the_scaler_on_the_real_training_rows_alone(name, scale_on, one_torch_thread):
    """classify.scale_on: with ``real`` the scaler's statistics are those of the fold's real
    training rows alone (synthetic rows far away leave no trace); with ``all`` those of every row
    the classifier trains on."""
    X, y, speakers = _data()
    folds = make_folds(speakers)
    Xs = np.full((6, 4), 50.0)
    Xs[:, 0] = 1000 + np.arange(6)
    Xs[:, 1] = 80.0 + np.arange(6)
    fitted = {}

    def make_model(fold_name):
        params = {"kernel": "linear"} if name == "svm" else {"hidden": [4], "epochs": 1, "device": "cpu"}
        fitted[fold_name] = make_classifier(name, params, seed=0, fold=fold_name, scale_on=scale_on)
        return fitted[fold_name]

    cross_validate(X, y, speakers, folds, make_model, train_data="real+synthetic",
                   synthetic=lambda f: (Xs, np.array(["a", "b", "c"] * 2)), progress=False)
    for fold in folds:
        pre = fitted[fold.name]["pre"]
        rows = X[fold.train] if scale_on == "real" else np.concatenate([X[fold.train], Xs])
        assert pre.n_fit_rows_ == len(rows) and pre[0].get_support().all()
        np.testing.assert_allclose(pre["scale"].mean_, rows.mean(axis=0))
        np.testing.assert_allclose(pre["scale"].scale_, rows.std(axis=0))


def test_scale_on_real_without_real_rows_fits_on_the_synthetic_rows():
    X, y, speakers = _data()
    folds = make_folds(speakers)[:1]
    Xs = np.random.default_rng(1).normal(5.0, 2.0, size=(9, 4))
    fitted = []

    def make_model(fold_name):
        fitted.append(make_classifier("svm", {"kernel": "linear"}, seed=0, scale_on="real"))
        return fitted[-1]

    cross_validate(X, y, speakers, folds, make_model, train_data="synthetic",
                   synthetic=lambda f: (Xs, np.array(["a", "b", "c"] * 3)), progress=False)
    np.testing.assert_allclose(fitted[0]["pre"]["scale"].mean_, Xs.mean(axis=0))


def test_synthetic_train_data_without_source_is_an_error():
    X, y, speakers = _data()
    with pytest.raises(AdanError, match="needs synthetic data"):
        cross_validate(X, y, speakers, make_folds(speakers), lambda f: None,
                       train_data="synthetic", progress=False)


def test_evaluate_end_to_end_on_separable_features():
    n = 120
    manifest, features = toy_corpus(n=n, d=10, separation=3.0, seed=1)
    features["const"] = 1.0
    pred = evaluate(manifest, features.sample(frac=1, random_state=0),
                    EvaluateSettings(
                                     {"svm": {"kernel": "rbf"}, "dnn": {"epochs": 60, "hidden": [32], "lr": 0.01, "patience": 10}},
                                     "toy", "f", PlanSettings("leave-one-speaker-out", 0)))
    assert set(pred["classifier"]) == {"svm", "dnn"}
    assert len(pred) == 2 * n
    for _, part in pred.groupby("classifier"):
        assert (part["true"] == part["pred"]).mean() > 0.9
        # predictions line up with the manifest row of the same file
        truth = dict(zip(manifest["file"], manifest["emotion"]))
        assert all(truth[f] == t for f, t in zip(part["file"], part["true"]))


def test_folds_on_dask_match_local(dask_scheduler):
    X, y, speakers = _data(seed=3)
    X[:, 0] = np.random.default_rng(4).normal(size=len(X))
    folds = make_folds(speakers)

    def make_model(fold_name):  # the DNN on Dask is covered by the evaluate test below
        return make_classifier("svm", {"kernel": "rbf", "C": 10.0}, seed=0)

    local = cross_validate(X, y, speakers, folds, make_model, progress=False)
    dask = cross_validate(X, y, speakers, folds, make_model, progress=False, scheduler=dask_scheduler)
    assert [c for c in local.columns if c.startswith("score_")]  # scores come back from the workers too
    pd.testing.assert_frame_equal(dask, local)


@pytest.mark.slow  # DNN and SVM on every fold, twice
def test_evaluate_results_on_dask_match_local(dask_scheduler):
    from adan_ser.reporting.report import summarize

    manifest, features = toy_corpus(n=96, d=8)
    models = {"svm": {"kernel": "rbf"}, "dnn": {"epochs": 20, "hidden": [16], "lr": 0.01, "patience": 5}}
    local = evaluate(manifest, features, EvaluateSettings(models, "toy", "f"))
    dask = evaluate(manifest, features, EvaluateSettings(models, "toy", "f", scheduler=dask_scheduler))
    pd.testing.assert_frame_equal(dask, local)
    accuracy = (local["true"] == local["pred"]).mean()
    assert 0.4 < accuracy < 1.0  # neither trivial nor perfect, so equal predictions mean something
    classes = sorted(manifest["emotion"].unique())
    pd.testing.assert_frame_equal(summarize(dask, classes), summarize(local, classes))


def test_several_cross_validations_run_as_one_stream_of_tasks(dask_scheduler, monkeypatch):
    """run_jobs submits every job's folds to one task stream (so a cluster runs more than a job's folds
    at once) and gives each job the frame its own cross_validate gives, locally and on Dask."""
    X, y, speakers = _data(seed=3)
    X[:, 0] = np.random.default_rng(4).normal(size=len(X))
    folds = make_folds(speakers)
    models = {"C1": {"kernel": "linear", "C": 1.0}, "C10": {"kernel": "rbf", "C": 10.0}}

    def maker(params):
        return lambda fold_name: make_classifier("svm", params, seed=0)

    alone = [cross_validate(X, y, speakers, folds, maker(p), progress=False) for p in models.values()]
    calls = []
    run_tasks = runner.run_tasks

    def spy(fn, tasks, scheduler, **kw):
        calls.append(kw["total"])
        return run_tasks(fn, tasks, scheduler, **kw)

    monkeypatch.setattr(runner, "run_tasks", spy)
    for scheduler in (None, dask_scheduler):
        jobs = [fold_jobs(X, y, speakers, folds, maker(p), desc=name) for name, p in models.items()]
        together = run_jobs(X, jobs, scheduler, progress=False)
        assert len(together) == 2
        for frame, expected in zip(together, alone):
            pd.testing.assert_frame_equal(frame, expected)
    assert not alone[0]["pred"].equals(alone[1]["pred"])  # two different jobs, not one repeated
    assert calls == [2 * len(folds)] * 2  # one stream of every fold of both jobs, per scheduler


def test_localcluster_folds_match_one_thread_local(one_torch_thread):
    # localcluster:N starts its own single-threaded workers, so it matches a one-thread local run
    X, y, speakers = _data(seed=3)
    folds = make_folds(speakers)

    def make_model(fold_name):
        return make_classifier("dnn", {"epochs": 5, "hidden": [8], "patience": 2, "device": "cpu"}, seed=0)

    local = cross_validate(X, y, speakers, folds, make_model, progress=False)
    cluster = cross_validate(X, y, speakers, folds, make_model, progress=False, scheduler="localcluster:2")
    pd.testing.assert_frame_equal(cluster, local)


def test_bad_cv_scheduler_named():
    X, y, speakers = _data()
    with pytest.raises(AdanError, match="'threads'"):
        cross_validate(X, y, speakers, make_folds(speakers), lambda f: None, progress=False,
                       scheduler="threads")


def test_each_fold_reports_its_inner_validation_uar():
    X, y, speakers = _data(n=90, groups=6)
    X[:, 0] = 0.0
    folds = make_folds(speakers)
    dnn = cross_validate(X, y, speakers, folds,
                         lambda f: make_classifier("dnn", {"hidden": [8], "epochs": 3, "patience": 2,
                                                           "device": "cpu"}, seed=0),
                         progress=False)
    per_fold = dnn.groupby("fold")["val_uar"]
    assert (per_fold.nunique() == 1).all() and dnn["val_uar"].between(0, 100).all()
    svm = cross_validate(X, y, speakers, folds, lambda f: make_classifier("svm", {"kernel": "linear"}, seed=0),
                         progress=False)
    assert svm["val_uar"].isna().all()  # no inner validation: nothing to choose a head by


def test_a_class_missing_from_a_training_fold_is_warned_by_fold_and_class():
    X, y, speakers = _data(n=60, groups=5)
    y = y.copy()
    y[(speakers == "s2") & (y == "c")] = "d"  # "d" only ever said by s2: absent from s2's training fold
    folds = make_folds(speakers)
    with pytest.warns(MissingClassWarning, match=r"fold s2: class 'd' has no training rows") as caught:
        cross_validate(X, y, speakers, folds, lambda f: make_classifier("svm", {"kernel": "linear"}, seed=0),
                       progress=False)
    assert [str(w.message).split(":")[0] for w in caught if w.category is MissingClassWarning] == ["fold s2"]


def test_training_features_with_nan_are_named():
    X, y, speakers = _data()
    X[7, 2] = np.nan
    with pytest.raises(AdanError, match="training features: column index 2 .* first at row"):
        cross_validate(X, y, speakers, make_folds(speakers),
                       lambda f: make_classifier("svm", {}, seed=0), progress=False)


def test_groups_and_fit_data_reach_the_final_step_by_name():
    seen = []

    class Recorder(SpyClassifier):
        def fit(self, X, y, groups=None, gender=None):
            seen.append((set(groups), set(gender)))
            return super().fit(X, y)

    X, y, speakers = _data(n=30, groups=5)
    gender = np.array([f"g{s[-1]}" for s in speakers])
    folds = make_folds(speakers)
    for make in (lambda f: Recorder([]), lambda f: Pipeline([("pre", SpyTransformer([])), ("net", Recorder([]))])):
        seen.clear()
        cross_validate(X, y, speakers, folds, make, fit_data={"gender": gender}, progress=False)
        for fold, (groups, genders) in zip(folds, seen):
            assert groups == set(speakers[fold.train]) and genders == set(gender[fold.train])


def test_take_cuts_utterances_of_a_spectrogram_set():
    lengths = np.array([3, 1, 4, 2])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    frames = np.arange(offsets[-1] * 2, dtype=np.float32).reshape(-1, 2)
    specs = SpectrogramSet(np.array(list("abcd")), offsets, frames, {"kind": "mel"})
    part = take(specs, np.array([2, 0, 3]))
    assert part.files.tolist() == ["c", "a", "d"] and part.offsets.tolist() == [0, 4, 7, 9]
    for i, j in enumerate([2, 0, 3]):
        np.testing.assert_array_equal(part[i], specs[j])
    assert part.config == {"kind": "mel"} and len(take(specs, np.array([], dtype=int))) == 0
    np.testing.assert_array_equal(take(frames, [1, 0]), frames[[1, 0]])
    assert take([10, 11, 12], np.array([2, 0])) == [12, 10]
