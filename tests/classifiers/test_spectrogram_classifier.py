"""Tests for adan_ser.classifiers.spectrogram_classifier and spectro_models on tiny generated spectrograms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier, gender_codes
from adan_ser.classifiers.spectrogram_nets import ARCHS, build_net
from adan_ser.core.errors import AdanError

N_BINS = 16
TINY = dict(channels=(2, 4), rnn_hidden=4, input_pool=(1, 1), segment_frames=16, train_hop=8,
            eval_hop=4, epochs=2, batch_size=8, patience=2, device="cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n_per_class=6, speakers=3, seed=0):
    """Two classes whose energy sits in different bins; utterances of 10 to 40 frames."""
    rng = np.random.default_rng(seed)
    X, y, g, gender = [], [], [], []
    for s in range(speakers):
        for c in range(2):
            for _ in range(n_per_class):
                spec = rng.normal(size=(int(rng.integers(10, 40)), N_BINS)).astype(np.float32)
                spec[:, 2 + 8 * c] += 3.0
                X.append(spec)
                y.append("ab"[c])
                g.append(f"s{s}")
                gender.append("fm"[s % 2])
    return X, np.array(y), np.array(g), np.array(gender)


@pytest.mark.parametrize("arch", ARCHS)
def test_nets_embed_variable_length_segments(arch):
    torch.manual_seed(0)
    net = build_net(arch, N_BINS, channels=(2, 4), rnn_hidden=4, gender_aux=True)
    for t in (8, 17, 40):
        emb, g = net(torch.randn(3, t, N_BINS))
        assert emb.shape == (3, net.out_dim)
        assert g.shape == (3, 2)


def test_input_pool_shrinks_frequency_axis():
    net = build_net("crnn", 400, channels=(2, 4), rnn_hidden=4, input_pool=(2, 4))
    assert net(torch.randn(2, 40, 400))[0].shape == (2, 4)
    assert net.rnn.input_size == 4 * (400 // 4 // 4)


def test_domain_aware_frequency_weights_in_unit_interval():
    net = build_net("domain-aware", N_BINS, channels=(2, 4))
    w = net.frequency_weights(torch.randn(3, 4, 5, N_BINS // 4))
    assert w.shape == (3, N_BINS // 4)
    assert ((w > 0) & (w < 1)).all()


def test_unknown_arch_is_named():
    with pytest.raises(AdanError, match="resnet"):
        build_net("resnet", N_BINS)


@pytest.mark.parametrize("arch", ARCHS)
def test_smoke_fit_predict_every_arch(arch):
    X, y, g, gender = _data()
    clf = SpectroClassifier(arch=arch, **TINY).fit(X, y, g, gender)
    pred = clf.predict(X[:5])
    assert pred.shape == (5,) and set(pred) <= {"a", "b"}
    logits = clf.decision_function(X[:5])
    assert logits.shape == (5, 2) and np.isfinite(logits).all()
    np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(1), 1.0, rtol=1e-6)
    assert 1 <= clf.best_epoch_ <= 2 and len(clf.history_) <= 2
    assert clf.val_groups_ is not None and len(clf.val_groups_) == 1


def test_learns_a_separable_problem():
    X, y, g, gender = _data(n_per_class=10)
    # crnn keeps the frequency layout (flattened into the LSTM input); a GAP model would not see
    # *which* bin is raised, which is all that separates these two toy classes
    clf = SpectroClassifier(arch="crnn", **{**TINY, "epochs": 10, "val_groups": 0})
    clf.fit(X, y, g, gender)
    Xt, yt, _, _ = _data(n_per_class=5, seed=1)
    assert (clf.predict(Xt) == yt).mean() >= 0.9


def test_utterance_logits_are_the_mean_of_segment_logits():
    X, y, g, gender = _data()
    clf = SpectroClassifier(arch="crnn", **TINY).fit(X, y, g, gender)
    spec = np.random.default_rng(5).normal(size=(30, N_BINS)).astype(np.float32)
    # eval_hop 4, 16 frames: segments start at 0, 4, 8, 12, then 14 (tail of 2 ≥ hop / 2)
    norm = clf.normalizer_.transform([spec])[0]
    segs = torch.as_tensor(np.stack([norm[s : s + 16] for s in (0, 4, 8, 12, 14)]))
    with torch.no_grad():
        seg_logits = clf.head_(clf.net_(segs)[0]).numpy()
    np.testing.assert_allclose(clf.decision_function([spec])[0], seg_logits.mean(0), rtol=1e-5, atol=1e-6)


def test_same_seed_same_predictions():
    X, y, g, gender = _data()
    a = SpectroClassifier(arch="cnn-blstm-att", **TINY).fit(X, y, g, gender).decision_function(X[:4])
    b = SpectroClassifier(arch="cnn-blstm-att", **TINY).fit(X, y, g, gender).decision_function(X[:4])
    np.testing.assert_array_equal(a, b)


def test_normaliser_fitted_on_training_utterances_only():
    X, y, g, gender = _data()
    clf = SpectroClassifier(arch="crnn", **TINY).fit(X, y, g, gender)
    np.testing.assert_allclose(clf.normalizer_.mean_, np.concatenate(X).mean(0), rtol=1e-5, atol=1e-6)
    shifted = [x + 100.0 for x in X[:3]]
    clf.predict(shifted)  # predicting must not refit the statistics
    np.testing.assert_allclose(clf.normalizer_.mean_, np.concatenate(X).mean(0), rtol=1e-5, atol=1e-6)


def test_balanced_sampling_and_gender_aux_and_center_loss_run():
    X, y, g, gender = _data()
    keep = np.r_[0:6, 6:8, 12:18, 18:20]  # class b under-represented
    clf = SpectroClassifier(arch="crnn", sampling="balanced", gender_weight=0.5, center_weight=0.1, **TINY)
    clf.fit([X[i] for i in keep], y[keep], g[keep], gender[keep])
    assert clf.net_.gender_head is not None and clf.center_ is not None


def test_gender_codes():
    assert gender_codes(["f", "m", "unknown"]).tolist() == [0, 1, -1]


def test_bad_input_is_one_clear_error():
    X, y, g, gender = _data()
    with pytest.raises(AdanError, match="domain-aware"):
        SpectroClassifier(arch="domain-aware", **TINY).fit(X, y, g, np.full(len(y), "unknown"))
    with pytest.raises(AdanError, match="spectrogram 1"):
        SpectroClassifier(**TINY).fit([X[0], X[1][:, :3]] + X[2:], y, g, gender)
    with pytest.raises(AdanError, match="sampling"):
        SpectroClassifier(sampling="odd", **{k: v for k, v in TINY.items()}).fit(X, y, g, gender)
    with pytest.raises(AdanError, match="head"):
        SpectroClassifier(head="no-such-head", **TINY).fit(X, y, g, gender)


@pytest.mark.parametrize("head, params", [("am-softmax", {"s": 10, "m": 0.2}), ("arcface+focal", {"s": 10, "m": 0.3}),
                                          ("softmax+center", {}), ("softmax+balanced-sampling", {})])
def test_margin_heads_train_and_predict(head, params):
    X, y, g, gender = _data()
    clf = SpectroClassifier(arch="cnn-blstm-att-stats", head=head, head_params=params, **TINY).fit(X, y, g, gender)
    logits = clf.decision_function(X[:4])
    assert logits.shape == (4, 2) and np.isfinite(logits).all()
    assert type(clf.head_).__name__ != "Linear" or head.startswith("softmax")


def test_balanced_sampling_draws_classes_equally():
    clf = SpectroClassifier(sampling="balanced", batch_size=1000)
    clf.classes_ = np.array(["a", "b"])
    clf.loss_ = None
    y = torch.as_tensor([0] * 90 + [1] * 10)
    batch = clf._epoch_batches(y.numpy(), torch.Generator().manual_seed(0))[0]
    share = float((y[batch] == 1).float().mean())
    assert 0.4 < share < 0.6


def test_loss_weights_defaults():
    assert SpectroClassifier(arch="domain-aware")._weights() == (1.0, 0.5)  # γ1 = 1, γ3 = 0.5 (γ2 = 1)
    assert SpectroClassifier(arch="crnn")._weights() == (0.0, 0.0)
    assert SpectroClassifier(arch="crnn", gender_weight=0.3)._weights() == (0.3, 0.0)
    with pytest.raises(AdanError, match="gender_weight"):
        SpectroClassifier(arch="domain-aware", gender_weight=0)._weights()
