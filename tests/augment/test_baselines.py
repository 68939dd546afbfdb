"""Augmentation baselines and the sampler registry."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.svm import SVC

from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_separate import SeparateADAN
from adan_ser.augment.generators.base import synthetic_counts
from adan_ser.augment.generators.baselines import (
    ADASYNSampler,
    BorderlineSMOTESampler,
    DuplicateSampler,
    GaussianNoiseSampler,
    SMOTESampler,
)
from adan_ser.augment.registry import SAMPLERS, make_sampler
from adan_ser.augment.generators.samplers import ADANSampler, SeparateADANSampler
from adan_ser.core.errors import AdanError

CONST_COL = 2


def make_data(counts=(30, 20, 10), d=12, seed=0, spread=1.0):
    """Overlapping Gaussian classes on very different feature scales, one constant column."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, label) for n, label in zip(counts, ["neutral", "anger", "sad", "happy"])])
    means = rng.normal(0.0, spread, size=(len(counts), d))
    codes = np.unique(y, return_inverse=True)[1]
    X = means[codes] + rng.normal(size=(len(y), d))
    X = X * np.geomspace(1e-3, 1e4, d) + 50.0
    X[:, CONST_COL] = -4.0
    return X, y


def class_counts(y):
    labels, counts = np.unique(y, return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


ALL = [DuplicateSampler, GaussianNoiseSampler, SMOTESampler, BorderlineSMOTESampler, ADASYNSampler]
EXACT = [DuplicateSampler, GaussianNoiseSampler, SMOTESampler]


def test_synthetic_counts_round_half_up():
    y = np.array(["a"] * 5 + ["b"] * 3)
    assert synthetic_counts(y, 0.5) == {"a": 3, "b": 2}
    assert synthetic_counts(y, 2.0) == {"a": 10, "b": 6}
    assert synthetic_counts(y, 0.0) == {"a": 0, "b": 0}


@pytest.mark.parametrize("cls", EXACT)
@pytest.mark.parametrize("ratio", [1.0, 0.5, 2.5])
def test_exact_counts(cls, ratio):
    X, y = make_data()
    Xs, ys = cls(ratio=ratio).generate(X, y)
    assert class_counts(ys) == {k: v for k, v in synthetic_counts(y, ratio).items() if v}
    assert Xs.shape == (len(ys), X.shape[1])
    Xr, yr = cls(ratio=ratio).fit_resample(X, y)
    np.testing.assert_array_equal(Xr[: len(X)], X)
    np.testing.assert_array_equal(Xr[len(X):], Xs)
    np.testing.assert_array_equal(yr, np.concatenate([y, ys]))


def test_adasyn_and_borderline_counts_close():
    X, y = make_data(spread=0.3)  # strongly overlapping: every row is "hard"/in danger
    _, ys = ADASYNSampler(ratio=1.0).generate(X, y)
    # imblearn rounds each row's share separately, so a class can be off by a fair fraction.
    for label, n in synthetic_counts(y, 1.0).items():
        assert abs(class_counts(ys)[label] - n) <= 0.4 * n
    _, ys = BorderlineSMOTESampler(ratio=1.0).generate(X, y)
    got = class_counts(ys)
    assert all(got.get(label, 0) <= n for label, n in synthetic_counts(y, 1.0).items())


@pytest.mark.parametrize("cls", ALL)
def test_seeds(cls):
    X, y = make_data(spread=0.3)
    a, _ = cls(random_state=1, ratio=0.7).generate(X, y)
    b, _ = cls(random_state=1, ratio=0.7).generate(X, y)
    c, _ = cls(random_state=2, ratio=0.7).generate(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_duplicate_copies_rows_of_the_same_class():
    X, y = make_data()
    Xs, ys = DuplicateSampler(ratio=0.5, random_state=3).generate(X, y)
    for row, label in zip(Xs, ys):
        matches = np.flatnonzero((X == row).all(axis=1))
        assert len(matches) == 1 and y[matches[0]] == label
    # fractional part: without replacement
    assert len({r.tobytes() for r in Xs}) == len(Xs)
    Xs, _ = DuplicateSampler(ratio=2.0).generate(X, y)
    assert len(Xs) == 2 * len(X)


def test_noise_scale_and_constant_features():
    X, y = make_data(counts=(400, 400), d=6)
    Xs, ys = GaussianNoiseSampler(ratio=1.0, sigma=0.1, random_state=0).generate(X, y)
    # ratio 1 copies every row once, class by class (np.unique order)
    order = np.concatenate([np.flatnonzero(y == label) for label in np.unique(y)])
    np.testing.assert_array_equal(ys, y[order])
    std = X.std(0)
    varies = std > 0
    noise = (Xs - X[order])[:, varies] / std[varies]
    np.testing.assert_allclose(noise.std(0), 0.1, rtol=0.1)
    np.testing.assert_allclose(noise.mean(0), 0.0, atol=0.02)
    np.testing.assert_array_equal(Xs[:, CONST_COL], X[order, CONST_COL])


@pytest.mark.parametrize("cls", [SMOTESampler, BorderlineSMOTESampler, ADASYNSampler])
def test_tiny_class_error_names_the_class(cls):
    X, y = make_data(counts=(30, 20, 3))
    with pytest.raises(AdanError, match=r"class 'sad' has 3 training rows, k_neighbors=5 needs 6"):
        cls(k_neighbors=5).generate(X, y)
    # ratio small enough that the tiny class gets no synthetic rows: no error
    Xs, ys = SMOTESampler(k_neighbors=5, ratio=0.1).generate(X, y)
    assert "sad" not in set(ys)


@pytest.mark.parametrize("cls", [SMOTESampler, BorderlineSMOTESampler, ADASYNSampler, GaussianNoiseSampler])
def test_output_in_feature_units(cls):
    X, y = make_data(counts=(60, 60, 60), spread=0.3)
    Xs, ys = cls(ratio=1.0).generate(X, y)
    assert len(Xs) > 0
    std = np.where(X.std(0) > 0, X.std(0), 1.0)
    # Per feature, the synthetic mean lies within a fraction of a standard deviation of the real
    # mean, across 7 decades of feature scale (so no feature was left in z-units).
    assert np.all(np.abs(Xs.mean(0) - X.mean(0)) / std < 0.3)
    np.testing.assert_array_equal(Xs[:, CONST_COL], -4.0)


def test_well_separated_classes_do_not_crash():
    X, y = make_data(counts=(30, 30), spread=50.0)  # no row has a neighbour from the other class
    Xs, ys = BorderlineSMOTESampler().generate(X, y)  # no danger rows → nothing generated
    assert len(Xs) == len(ys)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Xs, ys = ADASYNSampler().generate(X, y)
    assert len(Xs) == 0 and any("no synthetic rows" in str(w.message) for w in caught)


def test_dataframe_and_float32_preserved():
    X, y = make_data()
    df = pd.DataFrame(X.astype(np.float32), columns=[f"c{i}" for i in range(X.shape[1])])
    Xr, yr = SMOTESampler().fit_resample(df, pd.Series(y, name="emotion"))
    assert isinstance(Xr, pd.DataFrame) and list(Xr.columns) == list(df.columns)
    assert isinstance(yr, pd.Series) and yr.name == "emotion" and len(Xr) == 2 * len(X)
    Xs, _ = DuplicateSampler().generate(X.astype(np.float32), y)
    assert Xs.dtype == np.float32


def test_bad_inputs():
    X, y = make_data()
    with pytest.raises(AdanError, match="ratio"):
        DuplicateSampler(ratio=-1).generate(X, y)
    with pytest.raises(AdanError, match="sigma"):
        GaussianNoiseSampler(sigma=-0.1).generate(X, y)
    with pytest.raises(AdanError, match="SMOTESampler"):
        SMOTESampler().generate(X[:, :0], y)
    Xn = X.copy()
    Xn[3, 3] = np.inf
    with pytest.raises(AdanError, match="infinity"):
        SMOTESampler().generate(Xn, y)


def test_baseline_in_pipeline_with_svc():
    X, y = make_data(spread=3.0)
    pipe = Pipeline([("aug", SMOTESampler(k_neighbors=3)), ("svm", SVC())]).fit(X, y)
    assert pipe.predict(X).shape == y.shape


# ---- registry ---------------------------------------------------------------------------------


def test_registry_names():
    assert set(SAMPLERS) == {"duplicate", "noise", "smote", "borderline_smote", "adasyn", "adan", "adan_separate",
                             "wadan", "adan_latent", "aae", "speaker_swap", "speaker_new", "adan_speaker"}
    assert SAMPLERS["adan"] is ADANSampler and SAMPLERS["adan_separate"] is SeparateADANSampler


def test_make_sampler():
    assert make_sampler("none", {}, seed=0, ratio=1.0) is None
    s = make_sampler("smote", {"k_neighbors": 3}, seed=7, ratio=0.5)
    assert isinstance(s, SMOTESampler) and s.get_params() == {"k_neighbors": 3, "random_state": 7, "ratio": 0.5}
    a = make_sampler("adan", {"epochs": 10, "n_sets": 5, "class_weight": "balanced"}, seed=1)
    assert isinstance(a, ADANSampler) and a.ratio is None and a.n_sets == 5 and a.random_state == 1
    assert isinstance(a.adan, ADAN) and a.adan.epochs == 10 and a.adan.class_weight == "balanced"
    assert a.adan.random_state == 1
    s = make_sampler("adan_separate", {"ae_epochs": 3, "n_sets": 2}, seed=4, ratio=0.5)
    assert isinstance(s.adan, SeparateADAN) and s.adan.ae_epochs == 3 and s.adan.random_state == 4
    assert (s.n_sets, s.ratio, s.random_state) == (2, 0.5, 4)
    for method in SAMPLERS:
        assert make_sampler(method, {}, seed=0, ratio=1.0).random_state == 0


def test_make_sampler_errors():
    with pytest.raises(AdanError, match="unknown augmentation method 'mixup'"):
        make_sampler("mixup", {}, seed=0, ratio=1.0)
    with pytest.raises(AdanError, match="unknown parameter 'sigma' for augmentation method 'smote'"):
        make_sampler("smote", {"sigma": 0.1}, seed=0, ratio=1.0)
    with pytest.raises(AdanError, match="unknown parameter 'k_neighbors' for augmentation method 'adan'"):
        make_sampler("adan", {"k_neighbors": 3}, seed=0)
    with pytest.raises(AdanError, match="activation"):
        make_sampler("adan", {"activation": "relu"}, seed=0)
    with pytest.raises(AdanError, match="k_neighbors"):
        make_sampler("adasyn", {"k_neighbors": 0}, seed=0)
    with pytest.raises(AdanError, match="ratio given both"):
        make_sampler("noise", {"ratio": 2.0}, seed=0, ratio=1.0)
