import numpy as np
import pytest

from adan_ser.augment.quality import (
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
