import numpy as np
import pandas as pd
import pytest

from adan_ser.classifiers.preprocess import make_preprocessor
from adan_ser.contracts.align import check_finite
from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import Z_CLIP


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(40, 4))
    X[:, 2] = 7.0  # constant on the training rows
    return X


def test_drops_constant_column_and_znorms_with_training_stats():
    X = _data()
    pre = make_preprocessor().fit(X)
    Xt = pre.transform(X)
    assert Xt.shape == (40, 3)
    kept = X[:, [0, 1, 3]]
    np.testing.assert_allclose(pre["scale"].mean_, kept.mean(axis=0))
    np.testing.assert_allclose(pre["scale"].scale_, kept.std(axis=0))  # population std (ddof=0)
    np.testing.assert_allclose(Xt, (kept - kept.mean(0)) / kept.std(0))


def test_test_rows_do_not_change_fitted_stats():
    X = _data()
    pre = make_preprocessor().fit(X)
    mean, scale = pre["scale"].mean_.copy(), pre["scale"].scale_.copy()
    row = np.full((1, 4), 1e9)
    out = pre.transform(row)
    np.testing.assert_array_equal(pre["scale"].mean_, mean)
    np.testing.assert_array_equal(pre["scale"].scale_, scale)
    np.testing.assert_allclose(out[0], np.minimum((1e9 - mean) / scale, Z_CLIP))  # far rows sit at the bound


def test_scale_on_real_fits_on_the_marked_rows_and_transforms_all():
    X = _data()
    X[:, 2] = np.arange(40.0)
    real = np.arange(40) < 25
    X[~real] += 100.0  # "synthetic" rows far from the real ones
    pre = make_preprocessor("real", clip=None).fit(X, real_rows=real)
    np.testing.assert_allclose(pre["scale"].mean_, X[real].mean(axis=0))
    np.testing.assert_allclose(pre["scale"].scale_, X[real].std(axis=0))
    np.testing.assert_allclose(pre.transform(X), (X - X[real].mean(0)) / X[real].std(0))
    # "all" ignores the mask; "real" without a mask (or with no real row) fits on every row
    for pre in (make_preprocessor("all").fit(X, real_rows=real), make_preprocessor("real").fit(X),
                make_preprocessor("real").fit(X, real_rows=np.zeros(40, bool))):
        np.testing.assert_allclose(pre["scale"].mean_, X.mean(axis=0))


def test_z_scores_are_clipped_to_the_bound_and_unbounded_without_one():
    X = _data()
    far = X[:2] + np.array([[1e6, 0, 0, 0], [-1e6, 0, 0, 0]])  # an audio copy's noise-floor feature
    pre = make_preprocessor("real", clip=30.0).fit(X)
    z = pre.transform(far)
    assert z[0, 0] == 30.0 and z[1, 0] == -30.0
    np.testing.assert_array_equal(z[:, 1:], make_preprocessor("real", clip=None).fit(X).transform(far)[:, 1:])
    # rows inside the bound are untouched
    np.testing.assert_array_equal(pre.transform(X), make_preprocessor("real", clip=None).fit(X).transform(X))
    assert abs(make_preprocessor("real", clip=None).fit(X).transform(far)[0, 0]) > 1e5
    with pytest.raises(AdanError, match=r"classify.clip_z must be a positive number"):
        make_preprocessor("real", clip=0.0)


def test_scale_on_bad_value_names_the_key():
    with pytest.raises(AdanError, match=r"classify.scale_on must be one of real, all, got 'synthetic'"):
        make_preprocessor("synthetic")
    with pytest.raises(AdanError, match=r"real_rows has shape"):
        make_preprocessor("real").fit(_data(), real_rows=np.ones(3, bool))


def test_check_finite_names_first_bad_column():
    X = np.zeros((5, 4))
    X[3, 2] = np.nan
    X[1, 3] = np.inf
    with pytest.raises(AdanError, match=r"'f2' \(index 2\).*row 3"):
        check_finite(X, names=["f0", "f1", "f2", "f3"])
    with pytest.raises(AdanError, match="index 2"):
        check_finite(X)
    with pytest.raises(AdanError, match="'loud'"):
        check_finite(pd.DataFrame(X[:, 2:], columns=["loud", "pitch"]))


def test_check_finite_passes_clean_input():
    out = check_finite([[1, 2], [3, 4]])
    assert out.dtype == float and out.shape == (2, 2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("constant", [True, False])
def test_transform_equals_the_sklearn_pipeline_bitwise_and_leaves_its_input(dtype, constant):
    # transform makes one matrix (the scaler runs in place on the column selection): same floats
    # as VarianceThreshold → StandardScaler → clip, and the caller's array untouched.
    X = _data().astype(dtype)
    if not constant:
        X[:, 2] = np.arange(40)
    pre = make_preprocessor().fit(X)
    before = X.copy()
    got = pre.transform(X)
    expected = np.clip(pre.pipeline_.transform(X), -Z_CLIP, Z_CLIP)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert np.array_equal(X, before) and not np.may_share_memory(got, X)


def test_real_prefix_is_fitted_like_the_masked_rows():
    # The runner stacks real rows first: the fit takes a view of them, with the masked copy's stats.
    X = _data()
    X[:, 2] = np.arange(40)
    prefix = np.arange(40) < 25
    scattered = np.zeros(40, dtype=bool)
    scattered[::2] = True
    for rows in (prefix, scattered):
        pre = make_preprocessor(scale_on="real").fit(X, real_rows=rows)
        ref = make_preprocessor(scale_on="all").fit(X[rows].copy())
        assert pre.n_fit_rows_ == int(rows.sum())
        assert np.array_equal(pre["scale"].mean_, ref["scale"].mean_)
        assert np.array_equal(pre["scale"].scale_, ref["scale"].scale_)
