import numpy as np
import pandas as pd
import pytest

from adan_ser.contracts.folds import (
    SYNTHETIC_GROUP,
    augmenter_train,
    folds_for,
    inner_validation_groups,
    make_folds,
)
from adan_ser.core.errors import AdanError


def test_one_fold_per_group_disjoint_and_complete():
    groups = ["b", "a", "b", "c", "a", "c", "c"]
    folds = make_folds(groups)
    assert [f.name for f in folds] == ["a", "b", "c"]
    seen = np.concatenate([f.test for f in folds])
    assert sorted(seen) == list(range(len(groups)))
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert {groups[i] for i in f.test} == {f.name}
        assert f.name not in {groups[i] for i in f.train}


def test_scheme_picks_column_and_rejects_unknown():
    m = pd.DataFrame({"speaker": ["1", "2", "3", "4"], "session": ["s1", "s1", "s2", "s2"]})
    assert len(folds_for(m, "leave-one-speaker-out")) == 4
    assert len(folds_for(m, "leave-one-session-out")) == 2
    with pytest.raises(AdanError, match="unknown cv.scheme 'kfold'"):
        folds_for(m, "kfold")


def test_single_group_is_an_error():
    with pytest.raises(AdanError, match="at least 2 groups"):
        make_folds(["a", "a"])


def _manifest(seed=0):
    rng = np.random.default_rng(seed)
    emotions = np.array(["anger", "fear", "happiness", "neutral"])
    return pd.DataFrame({"speaker": np.repeat(["s1", "s2", "s3", "s4"], 60),
                         "emotion": emotions[rng.integers(0, 4, 240)]})


def test_train_downsample_cuts_named_classes_in_training_folds_only():
    m = _manifest()
    spec = {"classes": ["fear", "happiness"], "keep": 1 / 3}
    whole = folds_for(m, "leave-one-speaker-out")
    cut = folds_for(m, "leave-one-speaker-out", spec)
    y = m["emotion"].to_numpy()
    for w, c in zip(whole, cut):
        np.testing.assert_array_equal(c.test, w.test)
        assert set(c.train) <= set(w.train)
        for e in ("anger", "neutral"):
            assert (y[c.train] == e).sum() == (y[w.train] == e).sum()
        for e in ("fear", "happiness"):
            assert (y[c.train] == e).sum() == round((y[w.train] == e).sum() / 3)
    again = folds_for(m, "leave-one-speaker-out", spec)
    assert all(np.array_equal(a.train, b.train) for a, b in zip(cut, again))
    other = folds_for(m, "leave-one-speaker-out", {**spec, "seed": 1})
    assert any(not np.array_equal(a.train, b.train) for a, b in zip(cut, other))


def test_train_downsample_empty_and_bad():
    m = _manifest()
    whole = folds_for(m, "leave-one-speaker-out")
    for empty in (None, {}, {"classes": []}):
        assert all(np.array_equal(a.train, b.train)
                   for a, b in zip(whole, folds_for(m, "leave-one-speaker-out", empty)))
    with pytest.raises(AdanError, match="unknown class 'joy'"):
        folds_for(m, "leave-one-speaker-out", {"classes": ["joy"], "keep": 0.5})
    with pytest.raises(AdanError, match="keep"):
        folds_for(m, "leave-one-speaker-out", {"classes": ["fear"], "keep": 0})
    with pytest.raises(AdanError, match="'share'"):
        folds_for(m, "leave-one-speaker-out", {"classes": ["fear"], "share": 0.5})


EMODB_SPEAKERS = ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]


def _validation_draw(speakers, n_groups, seed):
    """Per leave-one-speaker-out fold (in fold order): the speakers its DNN validates on."""
    speakers = np.asarray(speakers)
    out = []
    for fold in make_folds(speakers):
        train = np.append(speakers[fold.train], SYNTHETIC_GROUP)  # as on real + synthetic data
        out.append(tuple(inner_validation_groups(train, n_groups, seed, fold.name)))
    return out


@pytest.mark.parametrize("n_groups", [1, 2, 3])
def test_validation_draw_covers_every_training_speaker_and_differs_between_seeds(n_groups):
    speakers = np.repeat(EMODB_SPEAKERS, 3)
    draws = {seed: _validation_draw(speakers, n_groups, seed) for seed in range(6)}
    for seed, draw in draws.items():
        for fold, held in zip(EMODB_SPEAKERS, draw):
            assert len(held) == n_groups and fold not in held  # never the test speaker
        # over the folds of one seed every speaker validates, each exactly n_groups times
        counts = pd.Series([s for held in draw for s in held]).value_counts()
        assert sorted(counts.index) == EMODB_SPEAKERS and set(counts) == {n_groups}, (seed, counts.to_dict())
    # two seeds draw different splits (seed 0 and seed 2 included)
    for a in draws:
        for b in draws:
            if a < b:
                assert draws[a] != draws[b], (a, b)


def test_validation_draw_depends_on_seed_fold_and_candidates_only():
    speakers = np.array(EMODB_SPEAKERS[1:])
    held = inner_validation_groups(speakers, 1, 0, "03")
    # row order, repetitions and synthetic rows do not move it
    again = inner_validation_groups(np.concatenate([speakers[::-1], speakers, [SYNTHETIC_GROUP] * 5]), 1, 0, "03")
    assert np.array_equal(held, again) and held[0] in speakers
    # the fold places the draw: over the fold names the choice is not always the same speaker
    assert len({inner_validation_groups(speakers, 1, 0, f)[0] for f in ["03", "a", "b", "c", "d", "e"]}) > 1
    # never every group, never a synthetic row, none without a speaker to spare
    assert inner_validation_groups(["a", "b"], 5, 0, "f").tolist() in (["a"], ["b"])
    assert inner_validation_groups(["a", SYNTHETIC_GROUP], 1, 0, "f").tolist() == ["a"]
    assert inner_validation_groups(["a", "a"], 1, 0, "f") is None
    assert inner_validation_groups(speakers, 0, 0, "03") is None


def test_augmenter_train_leaves_out_the_draw_of_its_seed_and_fold():
    speakers = np.repeat(EMODB_SPEAKERS, 2)
    for seed in (0, 1):
        for fold, held in zip(make_folds(speakers), _validation_draw(speakers, 1, seed)):
            cut = augmenter_train(fold, speakers, 1, seed)
            assert set(speakers[cut.train]) == set(speakers[fold.train]) - set(held)
