import numpy as np
import pandas as pd
import pytest

from adan_ser.contracts.folds import folds_for, make_folds
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
