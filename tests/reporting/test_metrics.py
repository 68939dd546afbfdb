import numpy as np
import pytest

from adan_ser.reporting.metrics import scores


def test_wa_uar_by_hand():
    # class a: 3 of 4 right, class b: 1 of 2 right → WA 4/6, UAR (75 + 50) / 2
    true = ["a", "a", "a", "a", "b", "b"]
    pred = ["a", "a", "a", "b", "b", "a"]
    s = scores(true, pred, ["a", "b", "c"])
    assert s["wa"] == pytest.approx(100 * 4 / 6)
    assert s["uar"] == pytest.approx(62.5)
    assert s["recall"] == {"a": 75.0, "b": 50.0}  # c absent from the truth: not averaged
    assert s["confusion"] == [[3, 1, 0], [1, 1, 0], [0, 0, 0]]
    assert s["n"] == 6


def test_perfect_and_chance():
    y = np.array(["x", "y"] * 5)
    assert scores(y, y, ["x", "y"])["uar"] == 100.0
    assert scores(y, np.full(10, "x"), ["x", "y"])["uar"] == 50.0
