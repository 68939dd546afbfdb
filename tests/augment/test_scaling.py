"""The one z-scaler (core.scaling.ZScaler) that the noise/SMOTE baselines, ADAN and the quality measures share."""

import numpy as np

from adan_ser.augment.measures.quality import znorm_like
from adan_ser.core.scaling import ZScaler


def data(n=50, d=6, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, d)) * np.geomspace(1e-3, 1e4, d) + 7.0
    X[:, 2] = -4.0  # zero variance
    return X


def test_fit_transform_inverse_and_the_zero_variance_rule():
    X = data()
    s = ZScaler().fit(X)
    np.testing.assert_array_equal(s.mean_, X.mean(axis=0))
    std = X.std(axis=0)
    assert list(s.varies_) == [True, True, False, True, True, True]
    np.testing.assert_array_equal(s.scale_, np.where(std > 0, std, 1.0))  # a constant feature: scale 1
    Z = s.transform(X)
    np.testing.assert_array_equal(Z, (X - X.mean(axis=0)) / s.scale_)  # the exact float operations
    np.testing.assert_array_equal(Z[:, 2], 0.0)
    back = s.inverse_transform(Z)
    np.testing.assert_array_equal(back[:, 2], -4.0)  # the constant comes back exactly
    np.testing.assert_allclose(back, X, rtol=1e-12)


def test_statistics_keep_the_float_precision_of_the_input():
    X32 = data().astype(np.float32)
    assert ZScaler().fit(X32).mean_.dtype == np.float32
    assert ZScaler().fit(X32.astype(np.float64)).mean_.dtype == np.float64
    assert ZScaler().fit(np.arange(6).reshape(3, 2)).mean_.dtype == np.float64


def test_from_stats_round_trip():
    X = data()
    s = ZScaler().fit(X)
    t = ZScaler.from_stats(s.mean_, s.scale_)
    np.testing.assert_array_equal(t.transform(X), s.transform(X))
    np.testing.assert_array_equal(t.inverse_transform(s.transform(X)), s.inverse_transform(s.transform(X)))


def test_quality_scaling_drops_constant_features():
    X = data()
    other = data(n=20, seed=1)
    Zr, Zo = znorm_like(X, other)
    s = ZScaler().fit(X)
    assert Zr.shape == (50, 5) and Zo.shape == (20, 5)
    np.testing.assert_array_equal(Zo, s.transform(other)[:, s.varies_])
    np.testing.assert_array_equal(Zr, s.transform(X)[:, s.varies_])
    (only,) = znorm_like(X, other, include_reference=False)  # the reference serves its statistics only
    np.testing.assert_array_equal(only, Zo)
