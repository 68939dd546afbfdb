"""Nuisance attribute projection: it finds planted speaker directions, removes them, keeps emotion."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import adan_ser.classifiers.nap as nap_module
from adan_ser.classifiers.nap import NuisanceProjection


def planted(seed=0, n_speakers=8, per_cell=50, d=12):
    """Two classes separated along feature 0; speakers offset along features 1 and 2 only."""
    rng = np.random.default_rng(seed)
    speakers = np.repeat(np.arange(n_speakers), 2 * per_cell)
    y = np.tile(np.repeat([0, 1], per_cell), n_speakers)
    offsets = rng.normal(scale=4.0, size=(n_speakers, 2))
    X = rng.normal(size=(len(y), d))
    X[:, 0] += 3.0 * y
    X[:, 1:3] += offsets[speakers]
    return X, y, speakers


def test_recovers_the_planted_speaker_subspace():
    X, y, speakers = planted()
    nap = NuisanceProjection(n_components=2).fit(X, y, groups=speakers)
    # the two directions lie (almost) inside span(e1, e2) of the z-units
    inside = np.linalg.norm(nap.components_[:, 1:3], axis=1)
    assert np.all(inside > 0.95), inside
    assert abs(nap.components_[:, 0]).max() < 0.2


def test_transform_removes_speaker_differences_and_keeps_the_class():
    X, y, speakers = planted()
    Xp = NuisanceProjection(n_components=2).fit(X, y, groups=speakers).transform(X)
    spread = lambda A: np.std([A[speakers == s, 1:3].mean(axis=0) for s in np.unique(speakers)], axis=0)
    assert np.all(spread(Xp) < 0.2 * spread(X))
    gap = Xp[y == 1, 0].mean() - Xp[y == 0, 0].mean()
    assert gap == pytest.approx(3.0, abs=0.5)


def test_components_are_capped_at_the_offsets_rank():
    X, y, speakers = planted(n_speakers=4)
    nap = NuisanceProjection(n_components=10).fit(X, y, groups=speakers)
    assert nap.n_components_ == 3   # 4 centred offsets span 3 directions
    np.testing.assert_allclose(nap.components_ @ nap.components_.T, np.eye(3), atol=1e-10)


def test_zero_components_is_the_identity():
    X, y, speakers = planted()
    np.testing.assert_allclose(NuisanceProjection(0).fit(X, y, groups=speakers).transform(X), X, atol=1e-10)


def test_test_rows_are_only_transformed():
    X, y, speakers = planted()
    train = speakers != 0
    nap = NuisanceProjection(2).fit(X[train], y[train], groups=speakers[train])
    before = nap.components_.copy()
    nap.transform(X[~train])
    np.testing.assert_array_equal(nap.components_, before)
    # fitting on the same training rows with any test rows appended elsewhere gives the same basis
    refit = NuisanceProjection(2).fit(X[train], y[train], groups=speakers[train])
    np.testing.assert_array_equal(refit.components_, before)


def test_bad_params_and_groups_are_refused():
    X, y, speakers = planted()
    with pytest.raises(ValueError, match="n_components"):
        NuisanceProjection(-1).fit(X, y, groups=speakers)
    with pytest.raises(ValueError, match="groups"):
        NuisanceProjection(2).fit(X, y, groups=speakers[:-1])


def test_docstring_example_runs():
    result = doctest.testmod(nap_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_validated_k_is_chosen_on_training_speakers_only():
    from adan_ser.classifiers.nap import ValidatedNuisanceProjection

    X, y, speakers = planted(per_cell=15)
    nap = ValidatedNuisanceProjection(candidates=(0, 2, 4), n_val_speakers=2, random_state=3, fold="7").fit(
        X, y, groups=speakers)
    assert len(nap.validation_speakers_) == 2
    assert set(nap.validation_speakers_) <= set(map(str, speakers))
    assert sorted(nap.validation_uar_) == [0, 2, 4] and nap.n_components_ in (0, 2, 4)
    again = ValidatedNuisanceProjection(candidates=(0, 2, 4), n_val_speakers=2, random_state=3, fold="7").fit(
        X, y, groups=speakers)
    assert again.validation_uar_ == nap.validation_uar_
    np.testing.assert_array_equal(again.transform(X), nap.transform(X))
    # the refit on every training row uses the chosen k
    assert nap.projection_.n_components == nap.n_components_

