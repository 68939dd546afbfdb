"""cv.train_fraction end to end: the augment and evaluate stages cut the same training rows.

The toy features carry each row's position in their last column, so a spy augmenter (copies of its
training rows) and a spy around the fold runner can say which rows each stage used.
"""

import numpy as np
import pandas as pd

import adan_ser.augment.stage as stage_module
import adan_ser.evaluation.evaluate as evaluate_module
from adan_ser.augment.generators.base import SyntheticSampler
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import augmenter_train, folds_for, train_subset
from adan_ser.contracts.plan import PlanSettings
from adan_ser.contracts.predictions import load_predictions, write_predictions
from adan_ser.contracts.results import FRACTION
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from tests.toy import toy_corpus

SEEDS = [0, 1]
FRACTIONS = [0.25, 0.5, 1.0]
SCHEME = "leave-one-speaker-out"


class CopySampler(SyntheticSampler):
    """Copies of the training rows; remembers which rows (last feature column) it was fitted on."""

    fitted: list = []

    def __init__(self, ratio=1.0, random_state=0):
        self.ratio = ratio
        self.random_state = random_state

    def _generate(self, X, y, n_new):
        CopySampler.fitted.append((self.random_state, frozenset(X[:, -1].astype(int).tolist())))
        return X.copy(), y.copy()


def _corpus():
    manifest, features = toy_corpus(n=96, speakers=4, d=3)
    features["row"] = np.arange(len(features), dtype=float)
    return manifest, features


def test_augmenter_sees_the_kept_rows_and_evaluate_trains_on_them(tmp_path, monkeypatch):
    manifest, features = _corpus()
    CopySampler.fitted = []
    monkeypatch.setattr(stage_module, "make_sampler",
                        lambda method, params, seed, ratio: CopySampler(random_state=seed))
    table = augment_folds(manifest, features,
                          AugmentSettings("copy", {}, 1.0,
                                          PlanSettings(SCHEME, SEEDS, train_fraction=FRACTIONS, validation_speakers=1),
                                          progress=False),
                          tmp_path / "copy", report_dir=tmp_path / "report")
    speakers, labels = manifest["speaker"].to_numpy(), manifest["emotion"].to_numpy()
    folds = folds_for(manifest, SCHEME)
    expected = {(f, k, fold.name): train_subset(fold, speakers, labels, f, k)
                for f in FRACTIONS for k in SEEDS for fold in folds}
    # the augmenter: the kept rows minus the DNN's validation speaker, fraction × seed × fold in order
    assert CopySampler.fitted == [(k, frozenset(augmenter_train(sub, speakers, 1, k).train.tolist()))
                                  for (f, k, _), sub in expected.items()]
    assert table[FRACTION].tolist() == [f for f in FRACTIONS for _ in SEEDS for _ in folds]
    assert (tmp_path / "copy" / "seed0").is_dir() and (tmp_path / "copy" / "fraction0.25" / "seed1").is_dir()
    assert not (tmp_path / "copy" / "fraction1").exists()
    assert (tmp_path / "report" / "fraction0.5").exists() is False  # no training curves for copies

    used = []
    fold_jobs = evaluate_module.fold_jobs

    def spy(X, y, speakers_, folds_, make_model, *, train_data, synthetic, desc):
        for fold in folds_:
            rows = None if synthetic is None else frozenset(synthetic(fold.name)[0][:, -1].astype(int).tolist())
            used.append((desc, fold.name, frozenset(fold.train.tolist()), rows))
        return fold_jobs(X, y, speakers_, folds_, make_model, train_data=train_data, synthetic=synthetic, desc=desc)

    monkeypatch.setattr(evaluate_module, "fold_jobs", spy)
    pred = evaluate(manifest, features,
                    EvaluateSettings({"svm": {"kernel": "linear"}}, "toy", "f",
                                     PlanSettings(SCHEME, SEEDS, train_fraction=FRACTIONS),
                                     synthetic_dirs={"copy": tmp_path / "copy"}, train_data=["real+synthetic"],
                                     scheduler=None))
    # none and copy per fraction × fold; the SVM on whole real folds once, for the first seed
    assert len(used) == (2 * len(FRACTIONS) * len(SEEDS) - 1) * len(folds)
    for desc, fold_name, real, synthetic in used:
        f = float(desc.split("fraction")[1].split()[0]) if "fraction" in desc else 1.0
        k = int(desc.rsplit(" ", 1)[1])
        sub = expected[(f, k, fold_name)]
        assert real == frozenset(sub.train.tolist())  # the classifier trains on the kept rows
        if synthetic is not None:  # and these are the rows its augmenter was fitted on
            assert synthetic == frozenset(augmenter_train(sub, speakers, 1, k).train.tolist())
    assert pred[FRACTION].drop_duplicates().tolist() == FRACTIONS
    # every fraction tests on every utterance of every seed
    assert all(len(part) == len(manifest) * len(SEEDS) for _, part in pred.groupby([FRACTION, "method"]))


def test_several_fractions_in_predictions_files(tmp_path):
    manifest, features = _corpus()
    augment_folds(manifest, features,
                  AugmentSettings("noise", {"sigma": 0.3}, 1.0,
                                  PlanSettings(SCHEME, SEEDS, train_fraction=[0.5, 1.0]), progress=False),
                  tmp_path / "noise")
    pred = evaluate(manifest, features,
                    EvaluateSettings({"svm": {"kernel": "linear"}}, "toy", "f",
                                     PlanSettings(SCHEME, SEEDS, train_fraction=[0.5, 1.0]),
                                     synthetic_dirs={"noise": tmp_path / "noise"}, train_data=["real+synthetic"],
                                     scheduler=None))
    assert list(pred.columns[:8]) == ["corpus", "feature_set", "method", "train_data", "classifier", "head",
                                      FRACTION, "seed"]
    files = write_predictions(pred, tmp_path / "pred")
    names = sorted(p.name for p in files)
    assert len(names) == 2 * 2 * len(SEEDS)  # fraction × (none, noise) × seed
    # fraction 0.5's combinations come first; fraction 1 keeps its names
    assert {"000-svm---none-real-fraction0.5-seed0.parquet", "002-svm---none-real-seed0.parquet"} <= set(names)
    back = load_predictions(tmp_path / "pred")
    assert sorted(back[FRACTION].unique()) == [0.5, 1.0]


def test_the_default_fraction_changes_nothing(tmp_path):
    manifest, features = _corpus()
    augment_folds(manifest, features,
                  AugmentSettings("noise", {"sigma": 0.3}, 1.0, PlanSettings(SCHEME, SEEDS), progress=False),
                  tmp_path / "a")
    augment_folds(manifest, features,
                  AugmentSettings("noise", {"sigma": 0.3}, 1.0, PlanSettings(SCHEME, SEEDS, train_fraction=[1.0]),
                                  progress=False),
                  tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    kw = dict(models={"svm": {"kernel": "linear"}}, corpus="toy", feature_set="f",
              train_data=["real+synthetic"], scheduler=None)
    without = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings(SCHEME, SEEDS),
                                                            synthetic_dirs={"noise": tmp_path / "a"}, **kw))
    for value in (1.0, [1.0], 1):
        with_key = evaluate(manifest, features, EvaluateSettings(plan=PlanSettings(SCHEME, SEEDS, value),
                                                                 synthetic_dirs={"noise": tmp_path / "b"}, **kw))
        pd.testing.assert_frame_equal(without, with_key, check_exact=True)
    assert FRACTION not in without


def test_svm_reruns_per_seed_below_fraction_one(tmp_path, monkeypatch):
    """On whole folds the SVM on real data runs once; on a fraction each seed draws other rows."""
    manifest, features = _corpus()
    calls = []
    fold_jobs = evaluate_module.fold_jobs

    def spy(*args, desc, **kw):
        calls.append(desc)
        return fold_jobs(*args, desc=desc, **kw)

    monkeypatch.setattr(evaluate_module, "fold_jobs", spy)
    evaluate(manifest, features,
             EvaluateSettings({"svm": {"kernel": "linear"}}, "toy", "f",
                              PlanSettings(SCHEME, SEEDS, train_fraction=[0.5, 1.0]), scheduler=None))
    assert calls == ["svm - none real fraction0.5 seed 0", "svm - none real fraction0.5 seed 1",
                     "svm - none real seed 0"]
