import math

import pytest
import torch
from torch.nn import functional as F

from adan_ser.classifiers import margins as M


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("m, theta, expected", [
    (1, 1.0, math.cos(1.0)),                      # m = 1: ψ = cos θ
    (2, math.pi / 3, -0.5),                       # k = 0: cos(2π/3)
    (2, 2 * math.pi / 3, 0.5 - 2.0),              # k = 1: −cos(4π/3) − 2
    (4, math.pi / 2, 1.0 - 4.0),                  # k = 2: cos(2π) − 4
    (3, math.pi, -1.0 - 4.0),                     # θ = π is in the last interval: −(2m − 1)
    (4, 0.0, 1.0),
])
def test_psi_hand_worked(m, theta, expected):
    got = M.sphereface_psi(_t([math.cos(theta)]), m)
    assert got.item() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_psi_continuous_and_decreasing(m):
    theta = torch.linspace(0, math.pi, 20001, dtype=torch.float64)
    psi = M.sphereface_psi(torch.cos(theta), m)
    step = torch.diff(psi)
    assert (step <= 1e-9).all()
    # Continuous: no jump bigger than the largest slope (m) times the grid spacing.
    assert step.abs().max() <= m * (math.pi / 20000) * 1.01
    assert psi[0].item() == pytest.approx(1.0) and psi[-1].item() == pytest.approx(-(2 * m - 1), abs=1e-5)


def test_psi_per_row_margins_match_scalar():
    cos = torch.linspace(-1, 1, 9, dtype=torch.float64)
    m = torch.tensor([1, 2, 3, 4, 5, 4, 3, 2, 1])
    expected = torch.stack([M.sphereface_psi(cos[i:i + 1], int(m[i]))[0] for i in range(9)])
    torch.testing.assert_close(M.sphereface_psi(cos, m), expected)


def test_interval_counts_thresholds_like_floor_of_acos():
    # k = ⌊m·acos(c)/π⌋ (clipped to m − 1), found without acos (MKL's VML, vendor-dependent bits).
    cos = torch.rand(4000, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    m = torch.randint(1, 6, (4000,), generator=torch.Generator().manual_seed(1))
    expected = torch.minimum(torch.floor(torch.acos(cos) * m / math.pi), m - 1.0)
    assert torch.equal(M._interval(cos, m).to(torch.float64), expected)
    assert torch.equal(M._interval(cos, torch.tensor(4)), torch.minimum(torch.floor(torch.acos(cos) * 4 / math.pi), torch.tensor(3.0)).long())


def test_chebyshev_is_cos_of_multiple_angle():
    theta = torch.linspace(0, math.pi, 50, dtype=torch.float64)
    for m in range(6):
        torch.testing.assert_close(M.chebyshev_cos_multiple(torch.cos(theta), m), torch.cos(m * theta))


def test_lambda_schedule():
    assert M.sphereface_lambda(0) == 1000.0
    assert M.sphereface_lambda(100) == pytest.approx(1000 / 13)
    assert M.sphereface_lambda(10_000) == 5.0
    assert M.sphereface_lambda(3, base=8, gamma=1, power=2, lambda_min=0) == pytest.approx(0.5)


def test_sphereface_logits_hand_worked():
    cos, norm, y = _t([[0.5, 0.2]]), _t([2.0]), torch.tensor([0])
    # m = 2, θ_y = π/3: ψ = −0.5
    torch.testing.assert_close(M.sphereface_logits(cos, norm, y, 2, lam=0.0), _t([[-1.0, 0.4]]))
    torch.testing.assert_close(M.sphereface_logits(cos, norm, y, 2, lam=1.0), _t([[0.0, 0.4]]))
    # λ → ∞ and m = 1 both give the normalised-weight softmax ‖x‖·cos θ.
    torch.testing.assert_close(M.sphereface_logits(cos, norm, y, 2, lam=1e9), 2 * cos)
    torch.testing.assert_close(M.sphereface_logits(cos, norm, y, 1, lam=0.0), 2 * cos)


def test_cosface_hand_worked_and_m0():
    cos, y = _t([[0.6, 0.1], [0.3, -0.2]]), torch.tensor([0, 1])
    torch.testing.assert_close(M.cosface_logits(cos, y, 10.0, 0.2), _t([[4.0, 1.0], [3.0, -4.0]]))
    torch.testing.assert_close(M.cosface_logits(cos, y, 10.0, 0.0), 10 * cos)


def test_arcface_hand_worked_fallback_and_m0():
    cos, y = _t([[0.6, 0.1], [0.2, -0.95]]), torch.tensor([0, 1])
    got = M.arcface_logits(cos, y, 10.0, 0.5)
    target0 = math.cos(math.acos(0.6) + 0.5)               # θ + m < π
    target1 = -0.95 - 0.5 * math.sin(0.5)                  # θ + m > π: fallback
    torch.testing.assert_close(got, _t([[10 * target0, 1.0], [2.0, 10 * target1]]))
    torch.testing.assert_close(M.arcface_logits(cos, y, 10.0, 0.0), 10 * cos)


@pytest.mark.parametrize("edge", [1.0, -1.0])
def test_gradients_finite_at_zero_and_pi(edge):
    cos = _t([[edge, 0.0, -edge]]).requires_grad_()
    norm = _t([3.0]).requires_grad_()
    y = torch.tensor([0])
    for out in (M.sphereface_logits(cos, norm, y, 4, 0.0), M.sphereface_logits(cos, norm, y, 3, 5.0),
                M.cosface_logits(cos, y, 30.0, 0.2), M.arcface_logits(cos, y, 30.0, 0.5)):
        g_cos, g_norm = torch.autograd.grad(F.cross_entropy(out, y), (cos, norm), allow_unused=True)
        assert torch.isfinite(g_cos).all()
        assert g_norm is None or torch.isfinite(g_norm).all()
    psi_cos = _t([edge]).requires_grad_()
    (g,) = torch.autograd.grad(M.sphereface_psi(psi_cos, 4).sum(), psi_cos)
    assert torch.isfinite(g).all()


def test_focal_hand_worked_and_reduces_to_ce():
    logits, y = _t([[0.0, math.log(3.0)]]), torch.tensor([1])  # p_t = 3/4
    expected = 0.25 * (1 / 4) ** 2 * -math.log(0.75)
    assert M.focal_loss(logits, y, gamma=2.0, alpha=0.25).item() == pytest.approx(expected)
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(16, 4, generator=g), torch.randint(0, 4, (16,), generator=g)
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    torch.testing.assert_close(M.focal_loss(logits, y, 0.0), F.cross_entropy(logits, y))
    torch.testing.assert_close(M.focal_loss(logits, y, 0.0, weight=w), F.cross_entropy(logits, y, weight=w))
    assert M.focal_loss(logits, y, 2.0) < F.cross_entropy(logits, y)  # easy rows count less


def test_focal_gradient_finite_when_certain():
    logits = _t([[200.0, 0.0]]).requires_grad_()
    (g,) = torch.autograd.grad(M.focal_loss(logits, torch.tensor([0]), 0.1), logits)
    assert torch.isfinite(g).all()
