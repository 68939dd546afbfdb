"""No synthetic row a model trains on comes from an augmenter that saw a speaker that model validates on.

A spy augmenter records the speakers of the rows it is fitted on (the toy features carry each row's
speaker number in their last column); a spy DNN records the speakers it held out for early stopping.
Per run seed × fold the two sets never meet, while the augmenter still sees every other training
speaker.
"""

import numpy as np

import adan_ser.augment.stage as stage_module
import adan_ser.evaluation.evaluate as evaluate_module
from adan_ser.augment.generators.base import SyntheticSampler
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import (
    SYNTHETIC_GROUP,
    augmenter_train,
    folds_for,
    inner_validation_groups,
)
from adan_ser.contracts.plan import PlanSettings
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from tests.toy import toy_corpus

TINY_DNN = {"hidden": [8], "epochs": 2, "patience": 1, "batch_size": 16, "device": "cpu"}
SEEDS = [0, 1, 2]


class SpySampler(SyntheticSampler):
    """Copies of the training rows; remembers the speakers (last feature column) it was fitted on."""

    fitted: list = []

    def __init__(self, ratio=1.0, random_state=0):
        self.ratio = ratio
        self.random_state = random_state

    def _generate(self, X, y, n_new):
        SpySampler.fitted.append((self.random_state, frozenset(np.unique(X[:, -1]).astype(int).tolist())))
        return X.copy(), y.copy()


def _corpus():
    manifest, features = toy_corpus(n=60, speakers=5, d=4)
    features["speaker_number"] = manifest["speaker"].astype(int).astype(float)
    return manifest, features


def _run(tmp_path, monkeypatch, validation_speakers):
    manifest, features = _corpus()
    SpySampler.fitted = []
    monkeypatch.setattr(stage_module, "make_sampler", lambda method, params, seed, ratio: SpySampler(random_state=seed))
    augment_folds(manifest, features,
                  AugmentSettings("spy", {}, 1.0,
                                  PlanSettings("leave-one-speaker-out", SEEDS,
                                               validation_speakers=validation_speakers),
                                  progress=False),
                  tmp_path / "spy")

    validated = []
    make_classifier = evaluate_module.make_classifier

    def spy_make_classifier(name, params, seed, **kw):
        pipe = make_classifier(name, params, seed, **kw)
        clf = pipe.named_steps["clf"]
        fit = clf.fit

        def spy_fit(X, y, groups=None, **kw):
            out = fit(X, y, groups=groups, **kw)
            groups = set(map(str, groups))
            if SYNTHETIC_GROUP in groups:  # a fit on real + synthetic rows
                held = [] if clf.val_groups_ is None else clf.val_groups_
                validated.append((seed, frozenset(groups - {SYNTHETIC_GROUP}), frozenset(map(str, held))))
            return out

        clf.fit = spy_fit
        return pipe

    monkeypatch.setattr(evaluate_module, "make_classifier", spy_make_classifier)
    evaluate(manifest, features,
             EvaluateSettings({"dnn": TINY_DNN}, "toy", "f", PlanSettings("leave-one-speaker-out", SEEDS),
                              synthetic_dirs={"spy": tmp_path / "spy"}, train_data=["real+synthetic"], scheduler=None))
    return manifest, validated


def test_augmenters_never_see_the_speakers_the_dnn_validates_on(tmp_path, monkeypatch):
    manifest, validated = _run(tmp_path, monkeypatch, validation_speakers=1)
    fitted = [(seed, {f"{s:02d}" for s in seen}) for seed, seen in SpySampler.fitted]
    assert len(validated) == len(SEEDS) * manifest["speaker"].nunique()
    for seed, train_speakers, held in validated:
        assert held, "the DNN validated on no speaker: the check would be vacuous"
        # this fold's augmenter of this seed: fitted on every training speaker but the held-out ones
        assert (seed, set(train_speakers - held)) in fitted, (seed, sorted(train_speakers), sorted(held))
        assert all(not (seen & held) for k, seen in fitted if k == seed and seen | held == train_speakers)


def test_without_the_rule_the_sets_meet(tmp_path, monkeypatch):
    """The check can fail: with validation_speakers=0 every augmenter saw the validation speaker."""
    _, validated = _run(tmp_path, monkeypatch, validation_speakers=0)
    fitted = [(seed, {f"{s:02d}" for s in seen}) for seed, seen in SpySampler.fitted]
    assert validated
    for seed, train_speakers, held in validated:
        assert held and (seed, set(train_speakers)) in fitted  # the augmenter saw the held speakers


def test_the_contract_draws_what_the_dnn_draws():
    manifest, _ = _corpus()
    speakers = manifest["speaker"].to_numpy()
    for seed in SEEDS:
        for fold in folds_for(manifest, "leave-one-speaker-out"):
            cut = augmenter_train(fold, speakers, 1, seed)
            held = inner_validation_groups(np.append(speakers[fold.train], "__synthetic__"), 1, seed, fold.name)
            assert set(speakers[cut.train]) == set(speakers[fold.train]) - set(held)
            assert len(cut.test) == len(fold.test) and np.array_equal(cut.test, fold.test)
