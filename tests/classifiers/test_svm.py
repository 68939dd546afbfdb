import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from adan_ser.classifiers.svm import SVMClassifier, inner_splits
from adan_ser.contracts.folds import SYNTHETIC_GROUP


def _data(seed=0):
    X, y = make_classification(300, 20, n_informative=10, n_redundant=0, n_classes=4,
                               class_sep=3.0, random_state=seed)
    groups = np.repeat([f"spk{i}" for i in range(6)], 50)
    np.random.default_rng(seed).shuffle(groups)
    return StandardScaler().fit_transform(X), np.array(list("abcd"))[y], groups


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_learns_separable_data(kernel):
    X, y, _ = _data()
    clf = SVMClassifier(kernel=kernel).fit(X[:240], y[:240])
    assert (clf.predict(X[240:]) == y[240:]).mean() > 0.9
    assert list(clf.classes_) == list("abcd")
    assert clf.decision_function(X[:5]).shape == (5, 4)


def test_inner_search_picks_from_grid_with_groups(monkeypatch):
    X, y, g = _data()
    seen = {}
    import adan_ser.classifiers.svm as svm_mod

    real = svm_mod.inner_splits

    def spy(groups):
        seen["splits"] = real(groups)
        return seen["splits"]

    monkeypatch.setattr(svm_mod, "inner_splits", spy)
    grid = {"C": [0.01, 10.0], "gamma": ["scale"]}
    clf = SVMClassifier(inner_search=True, grid=grid).fit(X, y, groups=g)
    assert clf.best_params_["C"] in grid["C"]
    assert clf.best_params_["C"] == 10.0  # C=0.01 underfits badly
    assert len(clf.cv_results_["params"]) == 2
    splits = seen["splits"]
    assert len(splits) == 5  # 6 speakers > 5 → GroupKFold(5)
    for tr, te in splits:
        assert not set(g[tr]) & set(g[te])


def test_inner_splits_logo_and_synthetic_rows_stay_in_training():
    g = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 4 + [SYNTHETIC_GROUP] * 3, dtype=object)
    splits = inner_splits(g)
    assert len(splits) == 3  # leave-one-speaker-out over the 3 real speakers
    for tr, te in splits:
        assert len(set(g[te])) == 1 and SYNTHETIC_GROUP not in set(g[te])
        assert set(range(12, 15)) <= set(tr)


def test_inner_search_without_groups_warns_and_uses_fixed_params():
    X, y, _ = _data()
    with pytest.warns(UserWarning, match="inner_search"):
        clf = SVMClassifier(inner_search=True, C=3.0).fit(X, y)
    assert clf.best_params_["C"] == 3.0 and clf.cv_results_ is None


def test_sklearn_params_roundtrip():
    clf = SVMClassifier(C=5.0).set_params(kernel="linear")
    assert clf.get_params()["kernel"] == "linear" and clf.get_params()["C"] == 5.0
