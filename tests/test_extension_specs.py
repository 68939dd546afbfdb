"""An augmenter, a classifier and a head added through their specs alone (one class and one
``register`` call each) run through the augment and evaluate stages' library functions and get
their params blocks, with nothing else edited."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval

from adan_ser.augment import specs as augment_specs
from adan_ser.augment.generators.base import SyntheticSampler
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.classifiers import heads, specs as classifier_specs
from adan_ser.classifiers.head_modules import CosineHead
from adan_ser.core.errors import AdanError
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.params import validate_params
from tests.toy import toy_corpus


class JitterSampler(SyntheticSampler):
    """Copies of random training rows of each class plus N(0, scale²) noise."""

    _parameter_constraints: dict = {"ratio": [Interval(Real, 0, None, closed="left")],
                                    "scale": [Interval(Real, 0, None, closed="left")],
                                    "random_state": [Interval(Integral, 0, None, closed="left"), None]}

    def __init__(self, ratio: float = 1.0, scale: float = 0.05, random_state=0):
        self.ratio = ratio
        self.scale = scale
        self.random_state = random_state

    def _generate(self, X, y, n_new):
        rng = np.random.default_rng(self.random_state)
        rows = np.concatenate([rng.choice(np.flatnonzero(y == c), n) for c, n in n_new.items()])
        return X[rows] + self.scale * rng.standard_normal((len(rows), X.shape[1])), y[rows]


class CentroidClassifier(ClassifierMixin, BaseEstimator):
    """Nearest class mean, the means pulled ``shrink`` of the way to the overall mean."""

    _parameter_constraints: dict = {"shrink": [Interval(Real, 0, 1, closed="both")],
                                    "random_state": [Interval(Integral, 0, None, closed="left"), None]}

    def __init__(self, shrink: float = 0.0, random_state=0):
        self.shrink = shrink
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        means = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        self.means_ = (1 - self.shrink) * means + self.shrink * X.mean(axis=0)
        return self

    def decision_function(self, X):
        return -((np.asarray(X, dtype=float)[:, None, :] - self.means_[None]) ** 2).sum(axis=2)

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class PlainCosineHead(CosineHead):
    """s·cos θ without a margin."""

    def __init__(self, n_emb, n_classes, s):
        super().__init__(n_emb, n_classes)
        self.s = float(s)

    def forward(self, emb, target=None):
        return self.s * self.cosine(emb)


@pytest.fixture
def toys():
    """The three specs registered for one test, then removed."""
    added = [
        augment_specs.register(augment_specs.AugmenterSpec("jitter", "feature", JitterSampler)),
        classifier_specs.register(classifier_specs.ClassifierSpec("centroid", CentroidClassifier)),
        heads.register(heads.HeadSpec("cosine", "head", lambda n_emb, n_classes, counts, classes, **p:
                                      PlainCosineHead(n_emb, n_classes, **p), {"s": 16.0})),
    ]
    yield added
    augment_specs.unregister("jitter")
    classifier_specs.unregister("centroid")
    heads.unregister("cosine")


def test_toy_extensions_run_through_the_pipeline(toys, tmp_path):
    torch.set_num_threads(1)
    manifest, features = toy_corpus(n=48, speakers=4, separation=3.0)
    # the params file knows them, with the constructors' defaults and bounds
    p = validate_params({"augment": {"methods": ["none", "jitter"], "jitter": {"scale": 0.1}},
                         "classify": {"models": ["centroid", "dnn"], "centroid": {"shrink": 0.1},
                                      "heads": ["cosine"], "head_params": {"cosine": {"s": 8}}}})
    assert p.augment.jitter.ratio == 1.0 and p.classify.centroid.shrink == 0.1
    with pytest.raises(AdanError, match=r"augment\.jitter\.scale: -1 is not a number ≥ 0"):
        validate_params({"augment": {"jitter": {"scale": -1}}})
    with pytest.raises(AdanError, match=r"classify\.centroid\.shrink: 2 is not a number in \[0, 1\]"):
        validate_params({"classify": {"centroid": {"shrink": 2}}})

    augment_folds(manifest, features, AugmentSettings("jitter", p.block("augment.jitter"), ratio=1.0,
                                                      progress=False), tmp_path / "jitter")
    pred = evaluate(manifest, features, EvaluateSettings(
        {"centroid": p.block("classify.centroid"),
         "dnn": {"hidden": [8], "epochs": 2, "patience": 1, "batch_size": 16, "device": "cpu"}},
        corpus="toy", feature_set="F", synthetic_dirs={"jitter": tmp_path / "jitter"},
        heads=["cosine"], head_params=p.classify.head_params, heads_on={"jitter": ["real+synthetic"]}))
    runs = set(map(tuple, pred[["method", "classifier", "head"]].drop_duplicates().to_numpy()))
    assert {("jitter", "centroid", "-"), ("none", "centroid", "-"), ("jitter", "dnn", "cosine")} <= runs
    centroid = pred[(pred["classifier"] == "centroid") & (pred["method"] == "jitter")]
    assert len(centroid) == 48 and (centroid["pred"] == centroid["true"]).mean() > 0.8


def test_toy_specs_are_gone_after_the_test():
    assert "jitter" not in augment_specs.AUGMENTERS and "centroid" not in classifier_specs.CLASSIFIERS
    assert "cosine" not in heads.HEADS
    with pytest.raises(AdanError, match="unknown key"):
        validate_params({"augment": {"jitter": {}}})
