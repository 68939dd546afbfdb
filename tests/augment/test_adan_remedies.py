"""ADAN's remedies against mode collapse, latent SMOTE and the collapse diagnostics (small, fast data)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_training import ADANTrainer
from adan_ser.augment.measures.diagnostics import (
    DIAGNOSTICS,
    frechet_distance,
    latent_diagnostics,
    latent_frechet,
    svm_uar,
)
from adan_ser.augment.generators.latent_smote import LatentSMOTESampler
from adan_ser.augment.measures.quality import spread_ratio
from adan_ser.augment.registry import MODELS, PRESETS, SAMPLERS, make_sampler
from adan_ser.augment.generators.samplers import ADANSampler, load_model
from adan_ser.augment.stage import AugmentSettings, fit_and_measure
from adan_ser.core.errors import AdanError

from .test_adan import SMALL, make_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data():
    return make_data(n=120)


def fit(X, y, **kw):
    params = {"epochs": 6, "early_stop": False, "random_state": 0, **SMALL, **kw}
    return ADAN(**params).fit(X, y)


def weights(m):
    return {k: v.clone() for k, v in m.net_.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


# ---- defaults ----------------------------------------------------------------------------------


def test_defaults_are_plain_adan():
    m = ADAN()
    assert (m.adversarial, m.diversity, m.stop, m.g_class_weight, m.g_class_warmup) == ("gan", None, "d_balance", 1.0, None)
    assert m.c_label_smoothing == m.c_dropout == m.c_weight_decay == 0
    assert m.instance_noise == m.d_label_smoothing == m.ae_noise == m.ae_dropout == m.ae_weight_decay == 0
    assert m.diagnostics_every == 10


@pytest.mark.parametrize("activation", ["tanh", "leaky_bn"])
def test_per_epoch_diagnostics_change_nothing(data, activation):
    """The probe runs in eval mode on its own z: weights, history and samples are those of a run without it."""
    X, y = data
    on = fit(X, y, epochs=12, diagnostics_every=5, activation=activation)
    off = fit(X, y, epochs=12, diagnostics_every=0, activation=activation)
    assert same(weights(on), weights(off)) and on.history_ == off.history_
    assert np.array_equal(on.sample(counts={c: 3 for c in on.classes_}, seed=1)[0],
                          off.sample(counts={c: 3 for c in off.classes_}, seed=1)[0])
    assert [d["epoch"] for d in on.diagnostics_] == [5, 10] and off.diagnostics_ == []
    assert set(on.diagnostics_[0]) == {"epoch", "latent_spread_ratio", "latent_frechet"}
    assert on.diagnostics_[0]["latent_spread_ratio"] > 0 and on.diagnostics_[0]["latent_frechet"] >= 0


def test_diagnostics_logged_to_dvclive(data, tmp_path, monkeypatch):
    X, y = data
    monkeypatch.chdir(tmp_path)
    fit(X, y, epochs=4, diagnostics_every=2, log_dir=tmp_path / "logs")
    rows = (tmp_path / "logs" / "plots" / "metrics" / "latent_spread_ratio.tsv").read_text().splitlines()
    assert len(rows) == 1 + 2  # header + epochs 2 and 4
    assert "latent_frechet" in json.loads((tmp_path / "logs" / "metrics.json").read_text())


# ---- WADAN -------------------------------------------------------------------------------------


def test_wasserstein_critic(data):
    X, y = data
    m = fit(X, y, adversarial="wasserstein", d_steps=2, g_class_weight=0.1)
    assert {"gp", "d_real", "d_fake"} <= set(m.history_[-1]) and m.history_[-1]["gp"] >= 0
    again = fit(X, y, adversarial="wasserstein", d_steps=2, g_class_weight=0.1)
    assert same(weights(m), weights(again))
    assert not same(weights(m), weights(fit(X, y)))
    with pytest.raises(AdanError, match="d_balance"):
        fit(X, y, adversarial="wasserstein", early_stop=True)
    with pytest.raises(AdanError, match="d_label_smoothing"):
        fit(X, y, adversarial="wasserstein", d_label_smoothing=0.1)


def test_gradient_penalty_is_the_papers(data):
    """k · mean ‖∇D(x̂)‖^p: with a linear critic the gradient is its weight vector for every x̂."""
    X, y = data
    m = fit(X, y, epochs=1, adversarial="wasserstein", disc_hidden=(), gp_weight=2.0, gp_power=6.0)
    trainer = ADANTrainer(m, aux_seed=0)
    trainer.gp_sum = torch.zeros(())
    h, g = torch.rand(8, 16), torch.rand(8, 16)
    loss, real, fake = trainer.d_loss(h, g)
    w = m.net_.discriminator.linears[0].weight.detach()
    assert torch.isclose(trainer.gp_sum, w.norm() ** 6, rtol=1e-4)
    assert torch.isclose(loss, real - fake + 2.0 * w.norm() ** 6, rtol=1e-4)


def test_wadan_method(data):
    assert SAMPLERS["wadan"] is ADANSampler and MODELS["wadan"] is ADAN
    s = make_sampler("wadan", {}, seed=3, ratio=1.0)
    a = s.adan
    assert (a.adversarial, a.d_steps, a.g_class_weight, a.gp_weight, a.gp_power, a.early_stop, a.random_state) == \
        ("wasserstein", 2, 0.1, 10.0, 10.0, False, 3)
    assert make_sampler("wadan", {"d_steps": 5}, seed=0).adan.d_steps == 5
    assert make_sampler("adan", {}, seed=0).adan.adversarial == "gan"


def test_adan_presets(data):
    from adan_ser.params import PRESETS as NAMES
    assert tuple(PRESETS) == NAMES
    default, paper = make_sampler("adan", {}, seed=1), make_sampler("adan", {"preset": "paper"}, seed=1)
    assert type(default) is type(paper) is ADANSampler
    assert default.adan.get_params() == paper.adan.get_params() == ADAN(random_state=1).get_params()
    method, settings = PRESETS["validated"]
    chosen = make_sampler("adan", {"preset": "validated", "epochs": 7}, seed=1)
    assert type(chosen) is SAMPLERS[method] and chosen.adan.epochs == 7  # the block's own keys win
    given = {**chosen.get_params(deep=False), **chosen.adan.get_params()}
    assert all(given[k] == v for k, v in settings.items() if k != "epochs")
    X, y = data
    kw = {"epochs": 3, "early_stop": False, **SMALL}
    a = make_sampler("adan", {"preset": "validated", **kw}, seed=4, ratio=1.0).fit_resample(X, y)
    b = make_sampler(method, {**settings, **kw}, seed=4, ratio=1.0).fit_resample(X, y)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.raises(AdanError, match=r"augment\.adan\.preset: unknown preset 'best'; known: paper, validated"):
        make_sampler("adan", {"preset": "best"}, seed=0)
    with pytest.raises(AdanError, match="unknown parameter 'preset'"):
        make_sampler("wadan", {"preset": "paper"}, seed=0)


# ---- calmer C, diversity, balanced D, regularised AE -------------------------------------------


def test_g_class_warmup_zero_is_no_class_term(data):
    X, y = data
    assert same(weights(fit(X, y, g_class_warmup=0)), weights(fit(X, y, g_class_weight=0.0)))
    # after the warm-up only G's CE term goes: before it, training is plain ADAN's
    assert same(weights(fit(X, y, g_class_warmup=6)), weights(fit(X, y)))
    assert not same(weights(fit(X, y, g_class_warmup=3)), weights(fit(X, y)))


@pytest.mark.parametrize("kw", [
    {"c_label_smoothing": 0.2}, {"c_dropout": 0.3}, {"c_weight_decay": 1e-2}, {"g_class_weight": 0.5},
    {"diversity": "mode_seeking"}, {"diversity": "moments", "diversity_weight": 3.0},
    {"instance_noise": 0.2}, {"d_label_smoothing": 0.2},
    {"ae_noise": 0.2}, {"ae_dropout": 0.3}, {"ae_weight_decay": 1e-2},
])
def test_each_remedy_is_seeded_and_changes_training(data, kw):
    X, y = data
    a, b = fit(X, y, **kw), fit(X, y, **kw)
    assert same(weights(a), weights(b)) and a.history_ == b.history_
    assert not same(weights(a), weights(fit(X, y)))
    if "diversity" in kw:
        assert "loss_div" in a.history_[-1]


def test_dropout_only_in_training(data):
    X, y = data
    m = fit(X, y, ae_dropout=0.5, c_dropout=0.5)
    assert np.array_equal(m.transform(X[:10]), m.transform(X[:10]))
    assert m.net_.encoder.rng is None  # the training generator is not kept


def test_label_smoothing_keeps_c_loss_off_zero(data):
    X, y = data
    smooth = fit(X, y, epochs=30, lr=1e-3, c_label_smoothing=0.3)
    plain = fit(X, y, epochs=30, lr=1e-3)
    assert smooth.history_[-1]["loss_c"] > plain.history_[-1]["loss_c"] + 0.1


def test_moments_term_is_zero_for_matching_moments(data):
    X, y = data
    m = fit(X, y, epochs=1, diversity="moments")
    h = torch.rand(12, 16)
    onehot = torch.eye(3)[torch.arange(12) % 3]
    assert float(ADANTrainer(m, 0).diversity(h.clone(), None, onehot, h)) == pytest.approx(0.0, abs=1e-6)
    assert float(ADANTrainer(m, 0).diversity(h * 0.1, None, onehot, h)) > 0


def test_diversity_stop(data):
    X, y = data
    m = fit(X, y, epochs=200, early_stop=True, stop="diversity", diagnostics_every=1, min_epochs=2, patience=2,
            lr=1e-3)
    assert m.n_epochs_ < 200 and m.best_epoch_ is not None and m.best_epoch_ > 2
    checks = [d for d in m.diagnostics_ if d["epoch"] > 2]
    best = min(checks, key=lambda d: abs(np.log(d["latent_spread_ratio"])))
    assert best["epoch"] == m.best_epoch_
    with pytest.raises(AdanError, match="diagnostics_every"):
        fit(X, y, stop="diversity", diagnostics_every=0)


@pytest.mark.parametrize("bad", [{"adversarial": "wgan"}, {"diversity": "entropy"}, {"c_dropout": 1.0},
                                 {"stop": "never"}, {"patience": 0}, {"ae_noise": -1.0}])
def test_bad_remedy_params_are_named(data, bad):
    X, y = data
    with pytest.raises(AdanError, match=next(iter(bad))):
        fit(X, y, **bad)


def test_save_load_keeps_remedy_params(data, tmp_path):
    X, y = data
    m = fit(X, y, adversarial="wasserstein", diversity="moments", ae_dropout=0.2)
    m.save(tmp_path / "m.pt")
    back = load_model(tmp_path / "m.pt")
    assert (back.adversarial, back.diversity, back.ae_dropout) == ("wasserstein", "moments", 0.2)
    assert np.array_equal(back.sample(counts={y[0]: 4}, seed=2)[0], m.sample(counts={y[0]: 4}, seed=2)[0])


# ---- latent SMOTE ------------------------------------------------------------------------------


def small_latent(**kw):
    return LatentSMOTESampler(ADAN(epochs=5, early_stop=False, random_state=0, **SMALL), n_sets=1, random_state=0, **kw)


def test_latent_smote_interpolates_same_class_codes(data):
    X, y = data
    s = small_latent(residual=False)
    X_syn, y_syn = s.generate(X, y)
    assert X_syn.shape == X.shape and sorted(y_syn) == sorted(y)
    codes, labels = s.sample_latent({c: int((y == c).sum()) for c in np.unique(y)}, seed=s._sample_seed())
    assert np.array_equal(labels, y_syn)
    np.testing.assert_allclose(s.adan_.decode(codes), X_syn, rtol=1e-6, atol=1e-6)
    # every code lies on a segment between two codes of its class: inside the class's bounding box
    for c in np.unique(y):
        real = s.codes_[s.y_fit_ == c]
        assert (codes[labels == c] >= real.min(0) - 1e-9).all() and (codes[labels == c] <= real.max(0) + 1e-9).all()


def test_latent_smote_residual_and_seeds(data):
    X, y = data
    a, b = small_latent().generate(X, y), small_latent().generate(X, y)
    assert np.array_equal(a[0], b[0])
    plain = small_latent(residual=False).generate(X, y)[0]
    assert not np.allclose(a[0], plain)
    # residual added back: the synthetic set is as varied as the real rows, unlike decoded codes
    assert spread_ratio(X, y, a[0], a[1]) > spread_ratio(X, y, plain, y)


def test_latent_smote_single_row_class_gives_copies():
    X, y = make_data(n=60, k=3)
    X, y = np.vstack([X, X[:1] * 1.5]), np.r_[y, ["lonely"]]
    s = small_latent()
    X_syn, y_syn = s.generate(X, y)
    np.testing.assert_allclose(X_syn[y_syn == "lonely"], X[-1:], rtol=1e-6, atol=1e-6)


def test_adan_latent_method():
    s = make_sampler("adan_latent", {"k_neighbors": 3, "residual": False, "epochs": 7}, seed=2, ratio=0.5)
    assert isinstance(s, LatentSMOTESampler)
    assert (s.k_neighbors, s.residual, s.ratio, s.random_state) == (3, False, 0.5, 2)
    assert isinstance(s.adan, ADAN) and s.adan.epochs == 7 and s.adan.random_state == 2
    with pytest.raises(AdanError, match="k_neighbors"):
        make_sampler("adan_latent", {"k_neighbors": 0}, seed=0)


# ---- diagnostics -------------------------------------------------------------------------------


def test_frechet_distance():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(40, 5))
    A -= A.mean(axis=0)  # centred: scaling then changes the covariance only
    assert frechet_distance(A, A) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(A, A + 2.0) == pytest.approx(5 * 4.0)
    cov = np.cov(A, rowvar=False, bias=True)
    assert frechet_distance(A, 3 * A) == pytest.approx(4 * np.trace(cov))  # tr(Σ + 9Σ − 2·3Σ)
    # fewer rows than dimensions: singular covariances still give a finite, non-negative value
    assert 0 <= frechet_distance(A[:3], rng.normal(size=(3, 5))) < np.inf
    y = np.repeat([0, 1], 20)
    assert latent_frechet(A, y, A, y) == pytest.approx(0.0, abs=1e-9)
    # rounded to 4 decimals, so BLAS-kernel noise in the last digits does not reach the outputs
    B = 1.1 * A + 0.3
    exact = np.mean([frechet_distance(A[y == c], B[y == c]) for c in (0, 1)])
    assert exact != round(exact, 4) and latent_frechet(A, y, B, y) == round(exact, 4)


def test_svm_uar():
    X, y = make_data(n=80)
    assert svm_uar(X, y, X, y) == 100.0
    rng = np.random.default_rng(1)
    assert svm_uar(X, rng.permutation(y), X, y) < 80
    assert np.isnan(svm_uar(X[:5], np.zeros(5), X, y))


def test_latent_diagnostics_and_stage_columns(data):
    X, y = data
    s = make_sampler("adan", {"epochs": 3, "early_stop": False, **SMALL}, seed=0, ratio=1.0)
    X_syn, y_syn = s.generate(X, y)
    d = latent_diagnostics(s, X, y, X_syn, y_syn)
    assert set(d) == set(DIAGNOSTICS) and all(np.isfinite(v) for v in d.values())
    assert d["recon_spread_ratio"] == pytest.approx(spread_ratio(X, y, s.adan_.reconstruct(X), y))
    # a baseline: the synthetic-only SVM only
    smote = make_sampler("smote", {}, seed=0, ratio=1.0)
    Xs, ys = smote.generate(X, y)
    d = latent_diagnostics(smote, X, y, Xs, ys)
    assert np.isfinite(d["synth_svm_uar"]) and np.isnan(d["latent_frechet"])
    params = {"epochs": 2, "early_stop": False, **SMALL}
    *_, measures = fit_and_measure(AugmentSettings("adan", params, 1.0), 0, X, y, "f1", None)
    assert set(DIAGNOSTICS) <= set(measures) and "spread_ratio" in measures
    *_, measures = fit_and_measure(AugmentSettings("smote", {}, 1.0), 0, X, y, "f1", None)
    assert not set(DIAGNOSTICS) & set(measures)  # baselines keep their columns
