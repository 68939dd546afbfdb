"""The plan of jobs: the rows every stage cuts, built once, in one order."""

import numpy as np
import pytest

from adan_ser.contracts.folds import augmenter_train, folds_for, train_subset
from adan_ser.contracts.plan import Plan, PlanSettings
from adan_ser.contracts.results import FRACTION, KEY, Combination
from adan_ser.core.errors import AdanError
from tests.augment.test_stage import toy

SCHEME = "leave-one-speaker-out"


def test_jobs_are_fractions_then_seeds_then_folds_with_the_stages_draws():
    manifest, _ = toy(n=96)
    speakers, labels = manifest["speaker"].to_numpy(), manifest["emotion"].to_numpy()
    plan = Plan(manifest, PlanSettings(SCHEME, [3, 1], [0.5, 1.0], validation_speakers=1))
    folds = folds_for(manifest, SCHEME)
    expected = [(f, s, fold) for f in (0.5, 1.0) for s in (3, 1) for fold in folds]
    assert [(j.fraction, j.seed, j.fold.name) for j in plan.jobs] == [(f, s, fold.name) for f, s, fold in expected]
    for job, (fraction, seed, fold) in zip(plan.jobs, expected):
        subset = train_subset(fold, speakers, labels, fraction, seed)
        assert np.array_equal(job.fold.train, subset.train) and np.array_equal(job.fold.test, fold.test)
        assert np.array_equal(job.augmenter.train, augmenter_train(subset, speakers, 1, seed).train)
        # the validation rows: the cut's training rows the augmenter does not see, never a test row
        assert sorted([*job.validation, *job.augmenter.train]) == sorted(job.fold.train)
        assert len(job.validation) and not set(job.validation) & set(fold.test)
    assert plan.with_fraction


def test_runs_and_seeds_group_the_same_jobs():
    manifest, _ = toy()
    plan = Plan(manifest, PlanSettings(SCHEME, [0, 2], [0.25, 1.0]))
    runs = list(plan.runs())
    assert [(f, s) for f, s, _ in runs] == [(0.25, 0), (0.25, 2), (1.0, 0), (1.0, 2)]
    assert [j for _, _, jobs in runs for j in jobs] == plan.jobs
    by_seed = dict(plan.by_seed())
    assert [(j.fraction, j.fold.name) for j in by_seed[2]] == [(f, fold.name) for f in (0.25, 1.0) for fold in plan.folds]
    # without validation speakers the augmenter learns from the whole cut
    job = plan.job("s1", seed=2, fraction=0.25)
    assert job.augmenter is job.fold and len(job.validation) == 0


def test_whole_folds_and_one_seed_are_the_schemes_folds():
    manifest, _ = toy()
    plan = Plan(manifest, PlanSettings(SCHEME, 5))
    assert not plan.with_fraction and plan.seeds == (5,) and plan.fractions == (1.0,)
    for job, fold, built in zip(plan.jobs, plan.folds, folds_for(manifest, SCHEME)):
        assert job.fold is fold and np.array_equal(fold.train, built.train)
    with pytest.raises(AdanError, match="unknown fold 'zz'; folds: s0, s1, s2, s3"):
        plan.job("zz")


def test_settings_are_checked_when_made():
    with pytest.raises(AdanError, match="eval.seeds"):
        PlanSettings(seeds=[])
    with pytest.raises(AdanError, match="cv.train_fraction"):
        PlanSettings(train_fraction=1.5)


def test_validation_speakers_that_take_every_training_speaker_are_refused_before_any_fit():
    manifest, _ = toy(speakers=2)
    plan = Plan(manifest, PlanSettings(SCHEME, 0, validation_speakers=1))
    with pytest.raises(AdanError, match="fold s0, seed 0: the DNN's validation speakers"):
        plan.augmenter_jobs()


def test_combination_columns_follow_the_key():
    whole = Combination("toy", "f", "adan[validated]", "real+synthetic", "dnn", "softmax")
    assert list(whole.columns()) == KEY and whole.name == "dnn-softmax-adan[validated]-real_plus_synthetic"
    part = Combination("toy", "f", "none", "real", "svm", "-", 0.5)
    assert list(part.columns()) == [*KEY, FRACTION] and part.name.endswith("-fraction0.5")
