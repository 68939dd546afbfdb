"""cv.train_fraction in the fold contract: which training rows a fraction keeps, and where its sets lie."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.contracts.folds import (
    Fold,
    inner_validation_groups,
    make_folds,
    train_fractions,
    train_subset,
)
from adan_ser.contracts.results import (
    FRACTION,
    KEY,
    combination_name,
    fill_fraction,
    key_columns,
)
from adan_ser.contracts.synthetic import load_synthetic, seed_dir, synthetic_frame
from adan_ser.core.errors import AdanError
from adan_ser.core.io import write_parquet

# speaker s0: 5 angry, 3 happy, 1 sad, 0 neutral; s1: 8 angry, 2 happy; s2 (the test speaker): 4 of each
COUNTS = {"s0": {"angry": 5, "happy": 3, "sad": 1}, "s1": {"angry": 8, "happy": 2},
          "s2": {"angry": 4, "happy": 4, "sad": 4}}


def corpus():
    speakers, labels = [], []
    for speaker, per in COUNTS.items():
        for emotion, n in per.items():
            speakers += [speaker] * n
            labels += [emotion] * n
    rng = np.random.default_rng(0)
    order = rng.permutation(len(speakers))  # interleaved rows, as in a real manifest
    return np.array(speakers)[order], np.array(labels)[order]


def fold_of(speakers, test="s2"):
    return next(f for f in make_folds(speakers) if f.name == test)


@pytest.mark.parametrize("fraction,expected", [
    # round(f · n) per speaker × emotion, halves to even, at least 1 where n ≥ 1
    (0.5, {("s0", "angry"): 2, ("s0", "happy"): 2, ("s0", "sad"): 1, ("s1", "angry"): 4, ("s1", "happy"): 1}),
    (0.25, {("s0", "angry"): 1, ("s0", "happy"): 1, ("s0", "sad"): 1, ("s1", "angry"): 2, ("s1", "happy"): 1}),
    (0.9, {("s0", "angry"): 4, ("s0", "happy"): 3, ("s0", "sad"): 1, ("s1", "angry"): 7, ("s1", "happy"): 2}),
])
def test_kept_rows_per_speaker_and_emotion(fraction, expected):
    speakers, labels = corpus()
    fold = fold_of(speakers)
    sub = train_subset(fold, speakers, labels, fraction, seed=0)
    kept = pd.Series(list(zip(speakers[sub.train], labels[sub.train]))).value_counts().to_dict()
    assert kept == expected
    assert np.all(np.diff(sub.train) > 0) and set(sub.train) <= set(fold.train)  # manifest order, a subset
    assert np.array_equal(sub.test, fold.test)  # the test fold is untouched
    # every training speaker stays, so the DNN's validation speakers do not depend on the fraction
    for seed in range(5):
        assert np.array_equal(inner_validation_groups(speakers[sub.train], 1, seed, fold.name),
                              inner_validation_groups(speakers[fold.train], 1, seed, fold.name))


def test_seeded_by_run_seed_and_fold():
    speakers, labels = corpus()
    fold = fold_of(speakers)
    a = train_subset(fold, speakers, labels, 0.5, seed=0)
    assert np.array_equal(a.train, train_subset(fold, speakers, labels, 0.5, seed=0).train)
    others = [train_subset(fold, speakers, labels, 0.5, seed=k).train for k in range(1, 6)]
    assert any(not np.array_equal(a.train, o) for o in others)
    renamed = train_subset(Fold("other", fold.train, fold.test), speakers, labels, 0.5, seed=0)
    assert not np.array_equal(a.train, renamed.train)  # another fold, another draw


def test_nested_and_whole():
    speakers, labels = corpus()
    fold = fold_of(speakers)
    for seed in range(3):
        small = set(train_subset(fold, speakers, labels, 0.25, seed).train)
        half = set(train_subset(fold, speakers, labels, 0.5, seed).train)
        assert small <= half  # a smaller fraction keeps a subset of a larger one's rows
    assert train_subset(fold, speakers, labels, 1.0, seed=3) is fold
    assert train_subset(fold, speakers, labels, 1, seed=3) is fold


def test_fraction_values():
    assert train_fractions(None) == [1.0]
    assert train_fractions(1) == [1.0]
    assert train_fractions([0.25, 0.5, 1]) == [0.25, 0.5, 1.0]
    for bad in (0, 1.5, [], [0.5, 0.5], "0.5", True, [0.5, None]):
        with pytest.raises(AdanError, match="cv.train_fraction"):
            train_fractions(bad)


def test_store_layout_per_fraction(tmp_path):
    assert seed_dir(tmp_path, 2) == tmp_path / "seed2"
    assert seed_dir(tmp_path, 2, 1.0) == tmp_path / "seed2"  # fraction 1: today's layout
    assert seed_dir(tmp_path, 2, 0.25) == tmp_path / "fraction0.25" / "seed2"
    write_parquet(synthetic_frame(np.ones((2, 3)), np.array(["a", "b"]), ["f0", "f1", "f2"]),
                  seed_dir(tmp_path, 0, 0.5) / "s2.parquet")
    X, y = load_synthetic(tmp_path, "s2", ["f0", "f1", "f2"], seed=0, fraction=0.5)
    assert X.shape == (2, 3) and list(y) == ["a", "b"]
    with pytest.raises(AdanError, match="seed0"):
        load_synthetic(tmp_path, "s2", ["f0"], seed=0)  # fraction 1's set is elsewhere


def test_optional_key_column():
    row = {"classifier": "dnn", "head": "softmax", "method": "smote", "train_data": "real+synthetic"}
    assert combination_name(row) == "dnn-softmax-smote-real_plus_synthetic"
    assert combination_name({**row, FRACTION: 1.0}) == "dnn-softmax-smote-real_plus_synthetic"
    assert combination_name({**row, FRACTION: 0.25}) == "dnn-softmax-smote-real_plus_synthetic-fraction0.25"
    plain = pd.DataFrame(columns=KEY)
    assert key_columns(plain) == KEY
    assert key_columns(plain.assign(**{FRACTION: []})) == KEY + [FRACTION]
    pooled = pd.DataFrame({FRACTION: [0.5, np.nan]})
    assert fill_fraction(pooled)[FRACTION].tolist() == [0.5, 1.0]
    assert fill_fraction(plain) is plain
