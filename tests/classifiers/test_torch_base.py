"""The shared base of the torch classifiers: epoch loop, inner split, per-step margin schedules."""

import numpy as np
import pytest

from adan_ser.classifiers import heads as H
from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
from adan_ser.classifiers.torch_base import (
    TorchClassifier,
    train_epochs,
    uar,
    validation_split,
)
from adan_ser.core.class_weights import class_weights
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


# ------------------------------------------------------------- margin schedules, every torch model

def _fit(kind: str, head: str):
    rng = np.random.default_rng(0)
    y = np.tile(["a", "b", "c"], 16)
    g = np.repeat(["s0", "s1", "s2", "s3"], 12)
    if kind == "dnn":
        X = rng.normal(size=(len(y), 6))
        X[np.arange(len(y)), np.searchsorted(["a", "b", "c"], y)] += 2.0
        return DNNClassifier(hidden=(8,), epochs=3, batch_size=8, patience=3, device="cpu", head=head).fit(X, y, g)
    X = [rng.normal(size=(int(rng.integers(8, 16)), 6)).astype(np.float32) for _ in y]
    return SpectroClassifier(channels=(2, 4), rnn_hidden=4, input_pool=(1, 1), segment_frames=8, train_hop=4,
                             eval_hop=4, epochs=2, batch_size=8, patience=2, device="cpu", head=head).fit(X, y, g)


def _scores(clf, kind):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 6)) if kind == "dnn" else [rng.normal(size=(10, 6)).astype(np.float32)] * 2
    return clf.decision_function(X)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("kind", ["dnn", "spectro"])
@pytest.mark.parametrize("head", H.HEAD_NAMES)
def test_margin_schedules_advance_every_step_of_every_model(kind, head, monkeypatch):
    lams = []
    advance = H.ASoftmaxHead.advance

    def spy(self):
        advance(self)
        lams.append(self.lam())

    monkeypatch.setattr(H.ASoftmaxHead, "advance", spy)
    clf = _fit(kind, head)
    scheduled = "lambda_base" in H.HEAD_PARAMS[H.parse_head_name(head)[0]]
    with_hook = _scores(clf, kind)
    monkeypatch.setattr(TorchClassifier, "_after_step", lambda self: None)
    without_hook = _scores(_fit(kind, head), kind)
    if scheduled:
        # λ anneals from lambda_base once per optimiser step, so the margin comes in during training.
        assert clf.n_steps_ > 5 and len(lams) == clf.n_steps_ == clf.head_.n_steps
        assert (np.diff([H.HEAD_PARAMS["a-softmax"]["lambda_base"], *lams]) < 0).all()
        assert not np.array_equal(with_hook, without_hook)
    else:
        assert lams == [] and not hasattr(clf.head_, "advance")
        np.testing.assert_array_equal(with_hook, without_hook)  # the hook leaves them alone
