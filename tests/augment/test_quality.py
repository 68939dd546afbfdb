import numpy as np
import pytest

from adan_ser.augment.measures.quality import (
    nearest_neighbour_stats,
    quality,
    spread_ratio,
    two_sample_accuracy,
)


def test_copies_are_flagged_and_fresh_samples_are_not():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 10))
    copies = nearest_neighbour_stats(real, real[:50])
    assert copies["copies_pct"] == 100.0 and copies["nn_ratio"] == 0.0
    fresh = nearest_neighbour_stats(real, rng.normal(size=(200, 10)))
    assert fresh["copies_pct"] == 0.0 and 0.5 < fresh["nn_ratio"] < 2.0


def test_two_sample_accuracy_near_chance_for_same_distribution_and_high_for_shifted():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 5))
    assert two_sample_accuracy(real, rng.normal(size=(300, 5))) < 60
    assert two_sample_accuracy(real, rng.normal(size=(300, 5)) + 3) > 95


def test_copies_do_not_read_as_below_chance():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 5))
    acc = two_sample_accuracy(real, real.copy())
    assert 40 <= acc <= 60, acc


def test_empty_synthetic_set():
    q = quality(np.ones((5, 2)), np.empty((0, 2)))
    assert q["n_synthetic"] == 0 and np.isnan(q["nn_ratio"])


def test_spread_ratio_flags_collapse_and_accepts_fresh_draws():
    rng = np.random.default_rng(3)
    y = np.repeat(["a", "b"], 100)
    real = rng.normal(size=(200, 6)) + (y == "b")[:, None] * 4
    fresh = rng.normal(size=(200, 6)) + (y == "b")[:, None] * 4
    assert 0.85 < spread_ratio(real, y, fresh, y) < 1.15
    centres = np.where((y == "b")[:, None], 4.0, 0.0) + 0.05 * rng.normal(size=(200, 6))
    assert spread_ratio(real, y, centres, y) < 0.1
    assert np.isnan(spread_ratio(real, y, fresh[:10], np.array(["c"] * 10)))
    assert np.isnan(quality(real, fresh)["spread_ratio"])
    assert quality(real, fresh, y_real=y, y_syn=y)["spread_ratio"] == pytest.approx(spread_ratio(real, y, fresh, y))


def test_subsample_keeps_every_row_below_the_cap_and_is_stratified_and_seeded_above():
    from adan_ser.augment.measures.quality import subsample

    y = np.repeat(list("abc"), [600, 300, 100])
    assert np.array_equal(subsample(y, cap=1000), np.arange(1000))
    keep = subsample(y, cap=200, seed=3)
    assert len(keep) == 200 and np.all(np.diff(keep) > 0)
    assert dict(zip(*np.unique(y[keep], return_counts=True))) == {"a": 120, "b": 60, "c": 20}
    assert np.array_equal(keep, subsample(y, cap=200, seed=3))
    assert not np.array_equal(keep, subsample(y, cap=200, seed=4))


def test_measures_are_deterministic_under_subsampling(monkeypatch):
    import adan_ser.augment.measures.diagnostics as diagnostics
    import adan_ser.augment.measures.quality as quality_mod

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) + np.repeat(np.eye(8)[:3] * 3, 100, axis=0)
    y = np.repeat(list("abc"), 100)
    X_syn = X + 0.5 * rng.normal(size=X.shape)
    full = quality(X, X_syn, seed=0, y_real=y, y_syn=y)
    full_uar = diagnostics.svm_uar(X_syn, y, X, y)
    # a cap below the set sizes: measures drawn from subsets, the same on every call
    monkeypatch.setattr(quality_mod, "MEASURE_ROWS", 90)
    monkeypatch.setattr(quality_mod, "QUERY_ROWS", 90)
    monkeypatch.setattr(quality_mod.subsample, "__defaults__", (90, 0))
    capped = [quality(X, X_syn, seed=0, y_real=y, y_syn=y) for _ in range(2)]
    uars = [diagnostics.svm_uar(X_syn, y, X, y) for _ in range(2)]
    assert capped[0] == capped[1] and uars[0] == uars[1]
    # drawn from 90 of 300 rows, the measures stay close to the whole sets' ones
    assert abs(capped[0]["nn_ratio"] - full["nn_ratio"]) < 0.2 * full["nn_ratio"]
    assert abs(capped[0]["two_sample_acc"] - full["two_sample_acc"]) < 15
    assert abs(uars[0] - full_uar) < 10


def test_svm_uar_on_the_gram_matrix_is_the_linear_svc():
    from sklearn.metrics import recall_score
    from sklearn.svm import SVC

    from adan_ser.augment.measures.diagnostics import SVM_C, svm_uar
    from adan_ser.augment.measures.quality import znorm_like

    rng = np.random.default_rng(1)
    y = np.repeat(list("abcd"), 60)
    X = rng.normal(size=(240, 30)) + 0.6 * np.repeat(rng.normal(size=(4, 30)), 60, axis=0)
    X_fit, X_test = X[::2], X[1::2]
    R, S = znorm_like(X_test, X_fit)
    pred = SVC(kernel="linear", C=SVM_C).fit(S, y[::2]).predict(R)
    expected = 100 * recall_score(y[1::2], pred, average="macro")
    assert svm_uar(X_fit, y[::2], X_test, y[1::2]) == pytest.approx(expected, abs=1e-9)
