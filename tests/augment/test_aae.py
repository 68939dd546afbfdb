"""The adversarial autoencoder (method ``aae``): prior, training, sampling, persistence, registry, stage.

Small separable data (240 rows, 6 features on five decades of scale, 3 classes) and small networks,
so each fit takes about a second on one torch thread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from adan_ser.augment.generators.aae import AAE, prior_means
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.measures.diagnostics import DIAGNOSTICS, latent_diagnostics
from adan_ser.augment.registry import SAMPLERS, make_sampler
from adan_ser.augment.generators.samplers import AAESampler, load_model
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError

N, D, K = 240, 6, 3
CLASSES = np.array(["angry", "happy", "sad"])
#: Small networks and a learning rate that lets 200 epochs of 4 batches match the prior.
SMALL = dict(latent_dim=4, enc_hidden=(32,), disc_hidden=(32,), batch_size=64, lr=2e-3, device="cpu")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_data(n=N, d=D, k=K, seed=0, spread=4.0):
    """Gaussian classes, well apart (class means ~N(0, spread²) per feature), features on mixed scales."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    X = rng.normal(0.0, spread, size=(k, d))[y] + rng.normal(size=(len(y), d))
    X *= np.geomspace(0.1, 100.0, d)
    return X, CLASSES[y]


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # module-scoped: set up before the function-scoped one_torch_thread
    try:
        return AAE(epochs=200, random_state=0, **SMALL).fit(X, y)
    finally:
        torch.set_num_threads(before)


def nearest_class_mean(Xs, X, y):
    """Index (into sorted labels) of the real class mean nearest each row of ``Xs``, z-normed units."""
    labels = np.unique(y)
    means = np.array([X[y == c].mean(0) for c in labels])
    scale = X.std(0)
    dist = np.linalg.norm((Xs[:, None, :] - means[None]) / scale, axis=2)
    return dist.argmin(1)


def test_samples_have_the_asked_labels_counts_and_finite_values(fitted):
    Xs, ys = fitted.sample(counts={"sad": 5, "angry": 3}, seed=1)
    assert Xs.shape == (8, D) and Xs.dtype == np.float64 and np.all(np.isfinite(Xs))
    assert list(ys) == ["angry"] * 3 + ["sad"] * 5  # classes_ order, not dict order
    wanted = np.array(["sad", "angry", "happy", "sad"])
    Xs2, ys2 = fitted.sample(y=wanted, seed=1)
    assert Xs2.shape == (4, D) and list(ys2) == list(wanted)
    assert fitted.sample(y=[], seed=0)[0].shape == (0, D)
    codes, yc = fitted.sample_latent(counts={"happy": 7}, seed=2)
    assert codes.shape == (7, 4) and list(yc) == ["happy"] * 7
    with pytest.raises(AdanError, match="unknown label 'joy'"):
        fitted.sample(y=["joy"], seed=0)


def test_a_seed_gives_identical_samples_another_seed_different_ones(fitted):
    counts = {c: 20 for c in CLASSES}
    a, _ = fitted.sample(counts=counts, seed=5)
    fitted.sample(counts={"sad": 50}, seed=6)  # using the model in between changes nothing
    b, _ = fitted.sample(counts=counts, seed=5)
    c, _ = fitted.sample(counts=counts, seed=7)
    assert a.tobytes() == b.tobytes()
    assert not np.allclose(a, c)
    # sample decodes exactly the codes sample_latent gives for the same seed
    codes, _ = fitted.sample_latent(counts=counts, seed=5)
    np.testing.assert_array_equal(fitted.decode(codes), a)


def test_same_seed_same_training(data):
    X, y = data
    a = AAE(epochs=3, random_state=3, **SMALL).fit(X, y)
    b = AAE(epochs=3, random_state=3, **SMALL).fit(X, y)
    c = AAE(epochs=3, random_state=4, **SMALL).fit(X, y)
    sa, sb = a.net_.state_dict(), b.net_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa) and a.history_ == b.history_
    assert not torch.equal(sa["encoder.linears.0.weight"], c.net_.state_dict()["encoder.linears.0.weight"])


def test_class_conditional_samples_land_near_their_own_class(fitted, data):
    X, y = data
    Xs, ys = fitted.sample(counts={c: 100 for c in CLASSES}, seed=0)
    nearest = nearest_class_mean(Xs, X, y)
    for i, c in enumerate(CLASSES):
        mine = nearest[ys == c]
        assert np.mean(mine == i) >= 0.75, (c, np.bincount(mine, minlength=K))
    # and the synthetic class means sit nearest their own real class means
    assert list(nearest_class_mean(np.array([Xs[ys == c].mean(0) for c in CLASSES]), X, y)) == [0, 1, 2]


def test_codes_of_each_class_sit_at_their_own_prior_mean(fitted, data):
    """The regularisation phase: E(x) of class y is pulled to N(mu_y, prior_std² I)."""
    X, y = data
    H = fitted.transform(X)
    assert H.shape == (N, 4)
    centroids = np.array([H[y == c].mean(0) for c in CLASSES])
    dist = np.linalg.norm(centroids[:, None, :] - fitted.prior_means_[None], axis=2)
    assert list(dist.argmin(1)) == [0, 1, 2]
    assert np.all(np.diag(dist) < 0.5 * fitted.prior_radius)


def test_prior_means_are_distinct_and_deterministic(fitted):
    for k, d in [(3, 4), (3, 3), (6, 2), (4, 1), (7, 3)]:
        mu = prior_means(k, d, 5.0)
        assert mu.shape == (k, d)
        gaps = np.linalg.norm(mu[:, None] - mu[None], axis=2)[np.triu_indices(k, 1)]
        assert gaps.min() > 1.0, (k, d)
        np.testing.assert_array_equal(mu, prior_means(k, d, 5.0))
        if d > 1:
            np.testing.assert_allclose(np.linalg.norm(mu, axis=1), 5.0)
    np.testing.assert_array_equal(prior_means(3, 4, 2.0)[:, :3], 2.0 * np.eye(3))
    np.testing.assert_array_equal(fitted.prior_means_, prior_means(K, 4, fitted.prior_radius))
    np.testing.assert_array_equal(fitted.net_.prior_means.numpy(), fitted.prior_means_.astype(np.float32))


def test_history_and_falling_reconstruction_loss(fitted):
    h = fitted.history_
    assert fitted.n_epochs_ == len(h) == 200
    assert set(h[0]) == {"epoch", "loss_r", "loss_d", "loss_e_adv", "d_real", "d_fake"}
    assert [e["epoch"] for e in h[:3]] == [1, 2, 3]
    assert h[-1]["loss_r"] < 0.3 * h[0]["loss_r"]
    assert np.mean([e["loss_r"] for e in h[-10:]]) < np.mean([e["loss_r"] for e in h[10:20]])
    assert all(0 < e["d_real"] < 1 and 0 < e["d_fake"] < 1 for e in h)


def test_save_load_round_trip(fitted, data, tmp_path):
    X, _ = data
    path = tmp_path / "aae.pt"
    fitted.save(path)
    back = AAE.load(path)
    assert type(back) is AAE and type(load_model(path)) is AAE
    counts = {c: 10 for c in CLASSES}
    assert back.sample(counts=counts, seed=3)[0].tobytes() == fitted.sample(counts=counts, seed=3)[0].tobytes()
    np.testing.assert_array_equal(back.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(back.prior_means_, fitted.prior_means_)
    assert back.history_ == fitted.history_ and back.get_params() == {**fitted.get_params(), "log_dir": None}
    with pytest.raises(AdanError, match="not a ADAN"):
        ADAN.load(path)


@pytest.mark.parametrize("bad", [dict(prior_std=0.0), dict(prior_std=-1.0), dict(prior_radius=-0.5),
                                 dict(latent_dim=0), dict(epochs=0), dict(g_loss="wgan"),
                                 dict(enc_hidden=(8, -1)), dict(activation="relu"), dict(lr=0)])
def test_bad_params_raise_the_library_error(bad):
    X, y = make_data(n=30)
    with pytest.raises(AdanError, match=next(iter(bad))):
        AAE(**bad).fit(X, y)


def test_sampler_registry_and_diagnostics(data):
    X, y = data
    assert SAMPLERS["aae"] is AAESampler
    s = make_sampler("aae", {"epochs": 2, "n_sets": 2, "prior_std": 0.5, **SMALL}, seed=4, ratio=None)
    assert isinstance(s, AAESampler) and isinstance(s.adan, AAE)
    assert (s.n_sets, s.random_state, s.adan.random_state, s.adan.prior_std, s.adan.epochs) == (2, 4, 4, 0.5, 2)
    Xr, yr = s.fit_resample(X, y)
    assert Xr.shape == (3 * N, D)
    np.testing.assert_array_equal(Xr[:N], X)
    assert s.sampling_strategy_ == {c: 2 * N // K for c in CLASSES.tolist()}
    assert isinstance(s.adan_, AAE) and not hasattr(s.adan, "net_")  # a fitted clone
    Xg, yg = make_sampler("aae", {"epochs": 2, **SMALL}, seed=4, ratio=0.5).generate(X, y)
    Xg2, _ = make_sampler("aae", {"epochs": 2, **SMALL}, seed=4, ratio=0.5).generate(X, y)
    assert Xg.shape == (N // 2, D) and Xg.tobytes() == Xg2.tobytes()
    # the collapse diagnostics of the augment stage apply to the AAE as to ADAN
    measures = latent_diagnostics(s, X, y, *s.generate(X, y), seed=0)
    assert set(measures) == set(DIAGNOSTICS) and all(np.isfinite(v) for v in measures.values())
    with pytest.raises(AdanError, match="unknown parameter 'noise_dim' for augmentation method 'aae'"):
        make_sampler("aae", {"noise_dim": 4}, seed=0)
    with pytest.raises(AdanError, match="'adan' parameter of AAESampler"):
        AAESampler(adan=ADAN()).generate(X, y)
    with pytest.raises(AdanError, match="'prior_radius' parameter of AAE"):
        make_sampler("aae", {"prior_radius": -1.0}, seed=0)


def test_augment_stage_writes_sets_and_models(tmp_path):
    rng = np.random.default_rng(1)
    n = 36
    manifest = pd.DataFrame({
        "file": [f"u{i:03d}.wav" for i in range(n)], "speaker": [f"s{i % 3}" for i in range(n)],
        "gender": "f", "emotion": CLASSES[np.arange(n) % 3], "session": [f"s{i % 3}" for i in range(n)],
        "condition": "", "duration": 1.0,
    })
    features = pd.DataFrame(rng.normal(size=(n, 4)), columns=[f"f{j}" for j in range(4)])
    features.insert(0, "file", manifest["file"])
    params = {"epochs": 2, "latent_dim": 3, "enc_hidden": [8], "disc_hidden": [8], "device": "cpu"}
    table = augment_folds(manifest, features,
                          AugmentSettings("aae", params, 1.0, PlanSettings("leave-one-speaker-out", 0),
                                          progress=False),
                          tmp_path / "out")
    assert len(table) == 3 and (table["method"] == "aae").all()
    for fold in ("s0", "s1", "s2"):
        df = pd.read_parquet(tmp_path / "out" / "seed0" / f"{fold}.parquet")
        assert len(df) == 24 and (df["synthetic"] == 1).all()
        assert np.isfinite(df[[f"f{j}" for j in range(4)]].to_numpy()).all()
        model = load_model(tmp_path / "out" / "seed0" / f"{fold}.pt")
        assert type(model) is AAE and list(model.feature_names_in_) == [f"f{j}" for j in range(4)]


def test_aae_max_updates_caps_the_epochs():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 6)), np.repeat(["a", "b", "c"], 40)
    # 120 rows in batches of 40 → 3 steps per epoch; 7 updates → 3 epochs
    model = AAE(latent_dim=3, enc_hidden=(8,), disc_hidden=(8,), epochs=9, batch_size=40, max_updates=7,
                device="cpu").fit(X, y)
    assert model.n_epochs_ == len(model.history_) == 3
