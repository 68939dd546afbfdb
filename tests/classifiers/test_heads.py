import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from adan_ser.classifiers import heads as H
from adan_ser.core.errors import AdanError

N_EMB, N_CLS = 6, 4
COUNTS = [40, 20, 10, 5]


def _batch(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, N_EMB, generator=g) * 3, torch.randint(0, N_CLS, (n,), generator=g)


def _head(name, **params):
    torch.manual_seed(0)
    return H.make_head(name, N_EMB, N_CLS, COUNTS, **params)


def test_parse_every_head_name():
    assert H.parse_head_name("softmax") == ("softmax", "ce")
    assert H.parse_head_name("arcface+focal") == ("arcface", "focal")
    assert H.parse_head_name("softmax+balanced-sampling") == ("softmax", "balanced-sampling")
    for name in H.HEAD_NAMES:
        head, loss = H.parse_head_name(name)
        assert head in H.HEADS and loss in H.LOSSES
    for bad in ("sphereface", "softmax+hinge", "arcface+"):
        with pytest.raises(AdanError, match="known heads: softmax, a-softmax"):
            H.parse_head_name(bad)


def test_split_params_routes_and_rejects():
    assert H.split_params("arcface", "focal", {"s": 10, "m": 0.3, "gamma": 1}) == (
        {"s": 10, "m": 0.3}, {"gamma": 1})
    with pytest.raises(AdanError, match="'gamma'.*arcface\\+ce"):
        H.split_params("arcface", "ce", {"gamma": 1})
    with pytest.raises(AdanError, match="unknown head parameter 's'"):
        H.make_head("softmax", 3, 2, [1, 1], s=3)


@pytest.mark.parametrize("name", H.HEADS)
def test_margin_only_on_target_in_training(name):
    emb, y = _batch()
    head = _head(name)
    head.eval()
    plain = head(emb)
    assert plain.shape == (16, N_CLS)
    torch.testing.assert_close(head(emb, y), plain)  # eval: no margin even with targets
    head.train()
    train = head(emb, y)
    other = ~F.one_hot(y, N_CLS).bool()
    torch.testing.assert_close(train[other], plain[other])
    if name == "softmax":
        torch.testing.assert_close(train, plain)
    else:  # a margin lowers the target logit
        assert (train[~other] < plain[~other]).all()


def test_plain_logits_are_scaled_cosines():
    emb, _ = _batch()
    head = _head("am-softmax", s=10.0)
    cos = F.normalize(emb, dim=1) @ F.normalize(head.weight, dim=1).T
    torch.testing.assert_close(head.eval()(emb), 10.0 * cos)
    asoft = _head("a-softmax").eval()
    torch.testing.assert_close(asoft(emb), emb.norm(dim=1, keepdim=True) * cos)


def test_margin_zero_is_normalised_softmax():
    emb, y = _batch()
    for name in ("am-softmax", "arcface"):
        head = _head(name, m=0.0).train()
        torch.testing.assert_close(head(emb, y), head.eval()(emb))
    head = _head("a-softmax", lambda_base=1e12, lambda_min=1e12).train()  # λ → ∞
    torch.testing.assert_close(head(emb, y), head.eval()(emb), rtol=1e-5, atol=1e-5)


def test_a_softmax_lambda_anneals_per_step():
    head = _head("a-softmax", lambda_base=100.0, lambda_gamma=1.0, lambda_min=2.0)
    assert head.lam() == 100.0
    for _ in range(9):
        head.advance()
    assert head.n_steps == 9 and head.lam() == pytest.approx(10.0)
    for _ in range(100):
        head.advance()
    assert head.lam() == 2.0


def test_auto_margins_favour_rare_classes():
    counts = [127, 81, 15, 23, 24, 79, 62]  # EmoDB-like, three classes cut to a third
    np.testing.assert_array_equal(H.auto_margins(counts, 4), [3, 4, 5, 5, 5, 4, 4])
    np.testing.assert_array_equal(H.auto_margins([400, 100, 100, 0], 4), [2, 4, 4, 5])
    np.testing.assert_array_equal(H.auto_margins([100, 100, 5], 1), [1, 1, 2])


def test_margins_by_list_class_and_group():
    head = _head("class-specific-a-softmax", margins=[1, 2, 3, 4])
    assert head.margins.tolist() == [1, 2, 3, 4]
    head = H.make_head("class-specific-a-softmax", N_EMB, N_CLS, COUNTS, classes=["ang", "hap", "neu", "sad"],
                       m0=3, margins={"hap, sad": 5, "ang": 2})
    assert head.margins.tolist() == [2, 5, 3, 5]
    assert _head("class-specific-a-softmax").margins.tolist() == [3, 4, 5, 5]  # auto from COUNTS
    with pytest.raises(AdanError, match="unknown class 'fear'"):
        H.make_head("class-specific-a-softmax", N_EMB, N_CLS, COUNTS, classes=list("abcd"), margins={"fear": 2})
    with pytest.raises(AdanError, match="3 margins for 4 classes"):
        _head("class-specific-a-softmax", margins=[1, 2, 3])
    with pytest.raises(AdanError, match="≥ 1"):
        _head("class-specific-a-softmax", margins=[0, 2, 3, 4])
    with pytest.raises(AdanError, match="margins must be an integer, got 2.5"):
        _head("class-specific-a-softmax", margins=[1, 2.5, 3, 4])
    with pytest.raises(AdanError, match="a-softmax: m must be an integer"):
        _head("a-softmax", m=1.5)


def test_class_specific_uses_each_rows_target_margin():
    emb, y = _batch()
    cs = _head("class-specific-a-softmax", margins=[1, 2, 3, 4], lambda_base=0, lambda_min=0).train()
    out = cs(emb, y)
    for m in range(1, 5):
        single = _head("a-softmax", m=m, lambda_base=0, lambda_min=0).train()
        rows = y == m - 1
        torch.testing.assert_close(out[rows], single(emb, y)[rows])


# ----------------------------------------------------------- pytorch-metric-learning agreement


def _pml_logits(loss_fn, emb, y):
    """The library's training logits, assembled from its own methods (compute_loss's steps)."""
    cos = loss_fn.get_cosine(emb)
    mask = loss_fn.get_target_mask(emb, y)
    cos_y = cos[mask == 1]
    diff = (loss_fn.modify_cosine_of_target_classes(cos_y) - cos_y).unsqueeze(1)
    return loss_fn.scale_logits(cos + mask * diff, emb)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the library calls scipy with NumPy-2-deprecated arrays
@pytest.mark.parametrize("name, lib, lib_kw, params", [
    ("arcface", "ArcFaceLoss", {"margin": math.degrees(0.5), "scale": 30.0}, {"m": 0.5, "s": 30.0}),
    ("arcface", "ArcFaceLoss", {"margin": math.degrees(0.3), "scale": 10.0}, {"m": 0.3, "s": 10.0}),
    ("am-softmax", "CosFaceLoss", {"margin": 0.2, "scale": 30.0}, {"m": 0.2, "s": 30.0}),
    ("am-softmax", "CosFaceLoss", {"margin": 0.4, "scale": 10.0}, {"m": 0.4, "s": 10.0}),
    # The library's SphereFace has no λ annealing: compare the un-annealed (λ = 0) margin logits.
    ("a-softmax", "SphereFaceLoss", {"margin": 4}, {"m": 4, "lambda_base": 0, "lambda_min": 0}),
    ("a-softmax", "SphereFaceLoss", {"margin": 2}, {"m": 2, "lambda_base": 0, "lambda_min": 0}),
])
def test_agrees_with_pytorch_metric_learning(name, lib, lib_kw, params):
    losses = pytest.importorskip("pytorch_metric_learning.losses")
    emb, y = _batch(64, seed=3)
    emb = emb.double()
    head = _head(name, **params).double().train()
    loss_fn = getattr(losses, lib)(num_classes=N_CLS, embedding_size=N_EMB, **lib_kw)
    loss_fn.W.data = head.weight.detach().T.clone().double()  # the library stores W as (emb, classes)
    ours = head(emb, y)
    torch.testing.assert_close(ours, _pml_logits(loss_fn, emb, y).double())
    torch.testing.assert_close(F.cross_entropy(ours, y), loss_fn(emb, y).double())
    torch.testing.assert_close(head.eval()(emb), loss_fn.get_logits(emb).double())


# ------------------------------------------------------------------------------------ losses


def test_make_loss_weights():
    cw = [1.0, 2.0, 1.0, 1.0]
    assert H.make_loss("ce", N_EMB, N_CLS, COUNTS).weight.tolist() == [1, 1, 1, 1]
    assert H.make_loss("ce", N_EMB, N_CLS, COUNTS, class_weight=cw).weight.tolist() == cw
    w = H.make_loss("weighted", N_EMB, N_CLS, COUNTS, class_weight=cw).weight
    np.testing.assert_allclose(w.numpy(), [1.0, 4.0, 4.0, 8.0])
    assert H.make_loss("balanced-sampling", N_EMB, N_CLS, COUNTS).balanced_sampling
    with pytest.raises(AdanError, match="unknown loss parameter 'gamma' for ce"):
        H.make_loss("ce", N_EMB, N_CLS, COUNTS, gamma=2)
    with pytest.raises(AdanError, match="unknown loss 'hinge'"):
        H.make_loss("hinge", N_EMB, N_CLS, COUNTS)


def test_loss_values():
    emb, y = _batch()
    logits = torch.randn(16, N_CLS, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(H.make_loss("ce", N_EMB, N_CLS, COUNTS)(logits, y, emb), F.cross_entropy(logits, y))
    focal = H.make_loss("focal", N_EMB, N_CLS, COUNTS, gamma=0.0, alpha=1.0)
    torch.testing.assert_close(focal(logits, y, emb), F.cross_entropy(logits, y))
    center = H.make_loss("center", N_EMB, N_CLS, COUNTS, center_weight=0.5)
    assert center.needs_emb
    with torch.no_grad():
        center.centers.copy_(torch.arange(N_CLS * N_EMB, dtype=torch.float32).view(N_CLS, N_EMB))
    pull = 0.5 * ((emb - center.centers[y]) ** 2).sum(1).mean()
    torch.testing.assert_close(center(logits, y, emb), F.cross_entropy(logits, y) + 0.5 * pull)
    with pytest.raises(AdanError, match="embeddings"):
        center(logits, y)


def test_sample_weights_make_classes_equally_likely():
    y = np.array([0] * 40 + [1] * 20 + [2] * 10 + [3] * 5)
    w = H.sample_weights(y, 4)
    per_class = torch.bincount(torch.as_tensor(y), weights=w, minlength=4)
    torch.testing.assert_close(per_class, torch.ones(4, dtype=torch.float64))
    g = torch.Generator().manual_seed(0)
    draws = torch.multinomial(w, 20000, replacement=True, generator=g)
    share = torch.bincount(torch.as_tensor(y)[draws], minlength=4) / 20000
    assert (share - 0.25).abs().max() < 0.02


@pytest.mark.parametrize("name", H.HEAD_NAMES)
def test_head_and_loss_parameters_learn(name):
    head_name, loss_name = H.parse_head_name(name)
    emb, y = _batch(32)
    emb.requires_grad_()
    head = _head(head_name)
    loss = H.make_loss(loss_name, N_EMB, N_CLS, COUNTS)
    params = list(head.parameters()) + list(loss.parameters())
    before = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=0.01)
    value = loss(head(emb, y), y, emb)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in params)
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, params))
    if loss_name == "center":
        assert any(p is loss.centers for p in params)  # the centres are optimised too
