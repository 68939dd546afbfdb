"""The shared epoch loop and inner split of the torch classifiers."""

import numpy as np
import pytest

from adan_ser.classifiers.torch_base import class_weights, train_epochs, uar, validation_split
from adan_ser.core.errors import AdanError


def test_train_epochs_keeps_the_best_validation_epoch_and_stops_on_patience(tmp_path):
    state = {"w": 0}
    scores = iter([(1.0, 0.5), (0.9, 0.7), (0.8, 0.7), (0.95, 0.6), (0.7, 0.6), (0.1, 0.99)])

    def run_epoch():
        state["w"] += 1
        return 1.0 / state["w"]

    history, best = train_epochs(run_epoch, lambda: next(scores), snapshot=lambda: dict(state),
                                 restore=lambda s: state.update(s), epochs=10, patience=2,
                                 log_dir=tmp_path / "live")
    # epoch 3 ties epoch 2 on UAR with a lower loss; epochs 4 and 5 do not improve → stop after 5
    assert best == 3 and len(history) == 5 and state == {"w": 3}
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5]
    assert (tmp_path / "live" / "plots" / "metrics" / "val" / "uar.tsv").exists()


def test_train_epochs_without_validation_keeps_the_last_epoch():
    history, best = train_epochs(lambda: 0.5, None, snapshot=lambda: None, restore=lambda s: None,
                                 epochs=4, patience=1)
    assert best == 4 and len(history) == 4 and np.isnan(history[0]["val_uar"])


def test_validation_split_holds_out_whole_speakers():
    y = np.tile([0, 1], 30)
    g = np.repeat(["a", "b", "c"], 20)
    tr, va, held = validation_split(y, g, 1, 0, np.random.default_rng(0), "dnn")
    assert len(held) == 1 and set(g[va]) == set(held) and not set(g[tr]) & set(held)
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(60))
    tr, va, held = validation_split(y, None, 1, 0, np.random.default_rng(0), "dnn")
    assert held is None and len(va) == 6
    assert len(validation_split(y, g, 0, 0, np.random.default_rng(0), "dnn")[1]) == 0


def test_class_weights_and_uar():
    classes = np.array(["a", "b", "c"])
    np.testing.assert_allclose(class_weights("balanced", np.array([0, 0, 0, 1]), classes, "dnn"), [1, 3, 0])
    np.testing.assert_allclose(class_weights({"b": 2.0}, np.array([0, 1]), classes, "dnn"), [1, 2, 1])
    assert class_weights(None, np.array([0, 1]), classes, "dnn") is None
    with pytest.raises(AdanError, match="unknown class 'z'"):
        class_weights({"z": 1.0}, np.array([0]), classes, "spectro")
    assert uar(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 3) == pytest.approx(0.75)
