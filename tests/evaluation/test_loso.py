import numpy as np
import pandas as pd
import pytest

from adan_ser.errors import AdanError
from adan_ser.evaluation.loso import folds_for, make_folds


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
