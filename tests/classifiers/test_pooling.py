"""Tests for adan_ser.classifiers.pooling."""

from __future__ import annotations

import torch

from adan_ser.classifiers.pooling import AttentionPooling, AttentiveStatsPooling


def test_attention_weights_sum_to_one_and_pool_is_convex_combination():
    torch.manual_seed(0)
    pool = AttentionPooling(6, hidden=4)
    h = torch.randn(3, 11, 6)
    out, alpha = pool(h)
    assert out.shape == (3, 6) and alpha.shape == (3, 11)
    torch.testing.assert_close(alpha.sum(dim=1), torch.ones(3))
    assert (alpha > 0).all()
    torch.testing.assert_close(out, (alpha[:, :, None] * h).sum(1))


def test_stats_pooling_mean_and_std():
    torch.manual_seed(0)
    pool = AttentiveStatsPooling(4, hidden=3)
    h = torch.randn(2, 9, 4)
    out, alpha = pool(h)
    assert out.shape == (2, 8)
    mean = (alpha[:, :, None] * h).sum(1)
    var = (alpha[:, :, None] * (h - mean[:, None]) ** 2).sum(1)
    torch.testing.assert_close(out[:, :4], mean)
    torch.testing.assert_close(out[:, 4:], var.sqrt(), atol=1e-4, rtol=1e-4)


def test_stats_pooling_finite_for_constant_input_with_finite_gradient():
    pool = AttentiveStatsPooling(5)
    h = torch.full((2, 7, 5), 3.0, requires_grad=True)
    out, _ = pool(h)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(h.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in pool.parameters())
