"""Speaker normalisation (classify.normalise / classify.enrol): its statistics never use labels and,
with enrolment, never the scored utterances; enrolment utterances are not scored."""

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from adan_ser.classifiers import speaker_norm
from adan_ser.classifiers.speaker_norm import (
    STD_FLOOR,
    check_normalise,
    enrolment_split,
    normalise_fold,
    speaker_znorm,
)
from adan_ser.contracts.folds import make_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.evaluation.runner import cross_validate
from tests.toy import toy_corpus


class Spy(ClassifierMixin, BaseEstimator):
    """Records the matrices it is fitted on and asked to predict."""

    def __init__(self, log=None):
        self.log = log

    def fit(self, X, y, groups=None):
        self.log.append(("fit", np.array(X)))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.log.append(("predict", np.array(X)))
        return np.full(len(X), self.classes_[0])


def _data(n=60, groups=4, d=5, seed=0):
    rng = np.random.default_rng(seed)
    speakers = np.array([f"s{i % groups}" for i in range(n)])
    # every speaker its own offset and scale, the thing speaker normalisation removes
    offset = {s: rng.normal(scale=5, size=d) for s in np.unique(speakers)}
    scale = {s: rng.uniform(0.5, 3, size=d) for s in np.unique(speakers)}
    X = np.array([offset[s] + scale[s] * rng.normal(size=d) for s in speakers])
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, size=n)]
    return X, y, speakers


def _run(X, y, speakers, enrol=None, seed=0, **kw):
    log = []
    pred = cross_validate(X, y, speakers, make_folds(speakers), lambda f: Spy(log), normalise="speaker",
                          enrol=enrol, seed=seed, progress=False, scores=False, **kw)
    return pred, log


def test_speaker_znorm_takes_no_labels():
    assert list(inspect.signature(speaker_znorm).parameters) == ["X", "speakers", "stats_rows", "scale"]
    assert "y" not in inspect.signature(normalise_fold).parameters
    assert "y" not in inspect.signature(enrolment_split).parameters


@pytest.mark.parametrize("enrol", [None, 3])
def test_shuffled_labels_leave_every_normalised_matrix_unchanged(enrol):
    X, y, speakers = _data()
    _, log = _run(X, y, speakers, enrol=enrol)
    _, log_shuffled = _run(X, np.random.default_rng(1).permutation(y), speakers, enrol=enrol)
    assert len(log) == len(log_shuffled) == 2 * 4
    for (kind, A), (kind2, B) in zip(log, log_shuffled):
        assert kind == kind2
        np.testing.assert_array_equal(A, B)


def test_training_speakers_have_mean_0_std_1():
    X, y, speakers = _data()
    folds = make_folds(speakers)
    _, log = _run(X, y, speakers)
    fits = [A for kind, A in log if kind == "fit"]
    for fold, A in zip(folds, fits):
        for s in np.unique(speakers[fold.train]):
            rows = speakers[fold.train] == s
            np.testing.assert_allclose(A[rows].mean(axis=0), 0, atol=1e-10)
            np.testing.assert_allclose(A[rows].std(axis=0), 1, atol=1e-10)


def test_without_enrolment_every_test_row_is_scored_with_its_speakers_own_statistics():
    X, y, speakers = _data()
    pred, log = _run(X, y, speakers)
    assert sorted(pred["row"]) == list(range(len(X)))
    for fold, A in zip(make_folds(speakers), [A for kind, A in log if kind == "predict"]):
        Xt = X[fold.test]
        np.testing.assert_allclose(A, (Xt - Xt.mean(axis=0)) / Xt.std(axis=0))


def test_enrolment_rows_give_the_statistics_and_are_not_scored():
    X, y, speakers = _data()
    k = 3
    folds = make_folds(speakers)
    pred, log = _run(X, y, speakers, enrol=k, seed=7)
    predicted = [A for kind, A in log if kind == "predict"]
    for fold, A in zip(folds, predicted):
        enrol, scored = enrolment_split(fold.test, speakers, k, seed=7)
        assert len(enrol) == k and len(scored) == len(fold.test) - k
        assert not set(enrol) & set(pred["row"])                       # enrolment rows: no prediction
        assert set(pred.loc[pred["fold"] == fold.name, "row"]) == set(scored)
        E = X[enrol]
        np.testing.assert_allclose(A, (X[scored] - E.mean(axis=0)) / E.std(axis=0))
    assert len(pred) == len(X) - k * len(folds)


def test_scored_rows_never_enter_the_statistics():
    """Make the scored rows of every test speaker extreme outliers: what the model is shown for them
    moves by exactly (change / enrolment std), i.e. the statistics stay those of the enrolment rows."""
    X, y, speakers = _data()
    k = 3
    folds = make_folds(speakers)
    calls = []
    real = speaker_norm.speaker_znorm

    def spy(X_, speakers_, stats_rows=None, scale=True):
        calls.append((np.array(X_), None if stats_rows is None else np.array(stats_rows)))
        return real(X_, speakers_, stats_rows, scale)

    _, log = _run(X, y, speakers, enrol=k)
    X_out = X.copy()
    scored_all = np.concatenate([enrolment_split(f.test, speakers, k, 0)[1] for f in folds])
    X_out[scored_all] += 1e6
    speaker_norm.speaker_znorm, saved = spy, speaker_norm.speaker_znorm
    try:
        _, log_out = _run(X_out, y, speakers, enrol=k)
    finally:
        speaker_norm.speaker_znorm = saved
    for fold, (_, A), (_, B) in zip(folds, [e for e in log if e[0] == "predict"],
                                    [e for e in log_out if e[0] == "predict"]):
        enrol, _ = enrolment_split(fold.test, speakers, k, 0)
        np.testing.assert_allclose(B - A, 1e6 / X[enrol].std(axis=0)[None, :].repeat(len(A), 0), rtol=1e-6)
    # the test call of each fold: its statistics rows are exactly the k enrolment rows, none an outlier
    test_calls = [(Xc, rows) for Xc, rows in calls if rows is not None]
    assert len(test_calls) == len(folds)
    for Xc, rows in test_calls:
        assert rows.sum() == k and np.abs(Xc[rows]).max() < 1e5


def test_enrolment_draw_is_seeded_per_run_seed_and_speaker():
    speakers = np.array([f"s{i % 3}" for i in range(45)])
    test = np.arange(45)
    a = enrolment_split(test, speakers, 4, seed=0)
    b = enrolment_split(test, speakers, 4, seed=0)
    c = enrolment_split(test, speakers, 4, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    # one speaker's draw does not depend on which other speakers share the test fold
    alone = enrolment_split(test[speakers == "s1"], speakers, 4, seed=0)[0]
    np.testing.assert_array_equal(alone, a[0][speakers[a[0]] == "s1"])
    assert enrolment_split(test, speakers, None, seed=0)[0] is not None
    np.testing.assert_array_equal(enrolment_split(test, speakers, None, 0)[1], test)


def test_a_speaker_without_enough_utterances_is_refused():
    speakers = np.array(["a"] * 3 + ["b"] * 10)
    with pytest.raises(AdanError, match=r"classify.enrol 3: test speaker 'a' has only 3 utterances"):
        enrolment_split(np.arange(13), speakers, 3, seed=0)


def test_synthetic_rows_by_synthetic_speaker_else_pooled_real_statistics():
    X, _, speakers = _data()
    train = np.flatnonzero(speakers != "s0")
    test = np.flatnonzero(speakers == "s0")
    rng = np.random.default_rng(3)
    X_syn = rng.normal(loc=10, scale=4, size=(20, X.shape[1]))
    syn_speakers = np.array(["v1", "v2"] * 10)
    Xtr, _ = normalise_fold(X, speakers, train, X_syn, syn_speakers, test, test)
    for v in ("v1", "v2"):
        part = Xtr[len(train):][syn_speakers == v]
        np.testing.assert_allclose(part.mean(axis=0), 0, atol=1e-10)
    Xtr, _ = normalise_fold(X, speakers, train, X_syn, None, test, test)
    pooled = X[train]
    np.testing.assert_allclose(Xtr[len(train):], (X_syn - pooled.mean(axis=0)) / pooled.std(axis=0))


def test_constant_feature_is_centred_not_divided():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]])
    Z = speaker_znorm(X, ["a", "a", "a"])
    assert np.isfinite(Z).all() and (Z[:, 1] == 0).all()
    assert STD_FLOOR > 0


@pytest.mark.parametrize("normalise, enrol, match", [
    ("test", None, r"classify.normalise must be one of none, speaker, speaker_mean, nap, got 'test'"),
    ("speaker", 0, r"classify.enrol must be null or an integer ≥ 1, got 0"),
    ("speaker", 2.5, r"classify.enrol must be null or an integer ≥ 1, got 2.5"),
    ("none", 3, r"classify.enrol 3 needs classify.normalise: speaker"),
])
def test_bad_values_name_the_key(normalise, enrol, match):
    with pytest.raises(AdanError, match=match):
        check_normalise(normalise, enrol)
    X, y, speakers = _data()
    with pytest.raises(AdanError, match=match):
        cross_validate(X, y, speakers, make_folds(speakers), lambda f: Spy([]), normalise=normalise,
                       enrol=enrol, progress=False)


def test_evaluate_records_the_normalisation_and_draws_enrolment_per_seed():
    manifest, features = toy_corpus(n=48, speakers=4)
    models = {"svm": {"kernel": "linear", "C": 1.0}}
    common = dict(models=models, corpus="toy", feature_set="f")
    plain = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings(seeds=[0]), **common))
    assert "normalise" not in plain.columns
    allrows = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings(seeds=[0]), normalise="speaker", **common))
    assert (allrows["normalise"] == "speaker:all").all() and len(allrows) == 48
    enrolled = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings(seeds=[0, 1]), normalise="speaker",
                                                             enrol=2, **common))
    assert (enrolled["normalise"] == "speaker:enrol2").all()
    per_seed = {s: set(part["file"]) for s, part in enrolled.groupby("seed")}
    assert all(len(files) == 48 - 2 * 4 for files in per_seed.values())
    assert per_seed[0] != per_seed[1]  # the deterministic SVM is not reused across seeds here


def test_report_says_it_uses_unlabelled_test_speaker_audio_and_k(tmp_path):
    import json

    from adan_ser.contracts.predictions import load_predictions, write_predictions
    from adan_ser.reporting.report import write_report

    manifest, features = toy_corpus(n=48, speakers=4)
    pred = evaluate(manifest, features,
                    EvaluateSettings({"svm": {"kernel": "linear"}}, "toy", "f",
                                     PlanSettings("leave-one-speaker-out", [0]), normalise="speaker", enrol=3))
    write_predictions(pred, tmp_path / "predictions")
    back = load_predictions(tmp_path / "predictions")
    assert (back["normalise"] == "speaker:enrol3").all()
    write_report(back, ["angry", "happy", "sad"], tmp_path / "report")
    md = (tmp_path / "report" / "results.md").read_text()
    assert md.startswith("**Speaker-normalised features") and "unlabelled audio of the test speakers" in md
    assert "3 enrolment utterances per test speaker, which are not scored" in md
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["normalise"] == ["speaker:enrol3"]


def test_synthetic_speakers_read_from_the_store_when_it_has_the_column(tmp_path):
    from adan_ser.contracts.synthetic import seed_dir, synthetic_frame
    from adan_ser.contracts.synthetic import load_synthetic_speakers as synthetic_speakers

    df = synthetic_frame(np.zeros((3, 2)), ["a", "b", "a"], ["f0", "f1"])
    seed_dir(tmp_path, 0).mkdir(parents=True)
    df.to_parquet(seed_dir(tmp_path, 0) / "01.parquet")
    assert synthetic_speakers(tmp_path, "01", seed=0) is None
    df.assign(synthetic_speaker=["v1", "v2", "v1"]).to_parquet(seed_dir(tmp_path, 0) / "01.parquet")
    assert list(synthetic_speakers(tmp_path, "01", seed=0)) == ["v1", "v2", "v1"]


def test_params_yaml_defaults_leave_features_alone():
    from pathlib import Path

    from adan_ser.params import load_params

    p = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
    assert p.classify.normalise == "none" and p.classify.enrol is None


@pytest.mark.parametrize("named", [True, False])
def test_runner_normalises_synthetic_rows_per_synthetic_speaker(named):
    X, y, speakers = _data()
    rng = np.random.default_rng(5)
    X_syn = rng.normal(loc=20, scale=3, size=(12, X.shape[1]))
    y_syn = np.array(["a", "b", "c"] * 4)
    syn_spk = np.array(["v1"] * 6 + ["v2"] * 6)
    log = []
    cross_validate(X, y, speakers, make_folds(speakers), lambda f: Spy(log), train_data="real+synthetic",
                   synthetic=lambda f: (X_syn, y_syn), synthetic_speakers=(lambda f: syn_spk) if named else None,
                   normalise="speaker", progress=False, scores=False)
    for fold, A in zip(make_folds(speakers), [A for kind, A in log if kind == "fit"]):
        syn = A[len(fold.train):]
        assert len(syn) == 12
        if named:
            for v in ("v1", "v2"):
                np.testing.assert_allclose(syn[syn_spk == v].mean(axis=0), 0, atol=1e-10)
        else:
            pooled = X[fold.train]
            np.testing.assert_allclose(syn, (X_syn - pooled.mean(axis=0)) / pooled.std(axis=0))


@pytest.mark.parametrize("classify, error", [
    ({"normalise": "speaker", "enrol": 2}, None),
    ({"normalise": "none", "enrol": 2}, "classify.enrol 2 needs classify.normalise: speaker"),
    ({"normalise": "speaker", "enrol": 12}, "classify.enrol 12: test speaker '00' has only 12 utterances"),
])
def test_cli_evaluate_reads_the_keys(tmp_path, capsys, classify, error):
    import yaml

    from adan_ser.cli import main
    from adan_ser.contracts.predictions import load_predictions

    manifest, features = toy_corpus(n=48, speakers=4)
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    features.to_parquet(tmp_path / "f.parquet")
    params = {"seed": 0, "data": {"corpus": "emodb", "root": str(tmp_path), "classes": []},
              "features": {"set": "eGeMAPSv02"}, "cv": {"scheme": "leave-one-speaker-out", "scheduler": "local"},
              "eval": {"seeds": [0]},
              "classify": {"models": ["svm"], "svm": {"kernel": "linear"}, **classify}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = tmp_path / "pred"
    code = main(["--params", str(tmp_path / "params.yaml"), "evaluate", "-m", str(tmp_path / "manifest.csv"),
                 "-f", str(tmp_path / "f.parquet"), "-o", str(out), "--synthetic-dir", str(tmp_path / "syn")])
    err = capsys.readouterr().err.strip().splitlines()
    if error is None:
        assert code == 0, err
        pred = load_predictions(out)
        assert len(pred) == 48 - 2 * 4 and (pred["normalise"] == "speaker:enrol2").all()
    else:
        assert code == 2 and len(err) == 1 and error in err[0], err
        assert not out.exists()


def test_speaker_mean_centres_without_scaling():
    X, y, speakers = _data()
    log = []
    pred = cross_validate(X, y, speakers, make_folds(speakers), lambda f: Spy(log), normalise="speaker_mean",
                          enrol=3, seed=0, progress=False, scores=False)
    for fold, (_, A), (_, B) in zip(make_folds(speakers), [e for e in log if e[0] == "fit"],
                                    [e for e in log if e[0] == "predict"]):
        Xt = X[fold.train]
        for s in np.unique(speakers[fold.train]):
            rows = speakers[fold.train] == s
            np.testing.assert_allclose(A[rows], Xt[rows] - Xt[rows].mean(axis=0))
        enrol, scored = enrolment_split(fold.test, speakers, 3, 0)
        np.testing.assert_allclose(B, X[scored] - X[enrol].mean(axis=0))
    assert len(pred) == len(X) - 3 * 4
