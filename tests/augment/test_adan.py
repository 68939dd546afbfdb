"""ADAN, its separately-trained ablation and the imblearn samplers around them (small, fast data)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

import adan_ser.augment.generators.training as training_mod
from adan_ser.augment.generators.adan import ADAN
from adan_ser.augment.generators.adan_separate import SeparateADAN
from adan_ser.augment.generators.adan_training import ADANTrainer
from adan_ser.augment.generators.samplers import ADANSampler, SeparateADANSampler, load_model
from adan_ser.augment.generators.training import converged
from adan_ser.core.errors import AdanError

N, D, K = 200, 50, 4
CONST_COL, CONST_VALUE = 7, 3.25
#: Small networks so each fit takes a fraction of a second.
SMALL = dict(latent_dim=16, noise_dim=16, enc_hidden=(64, 64), gen_hidden=(32, 32), disc_hidden=(32, 32),
             clf_hidden=(32, 32), device="cpu")
SMALL_SEP = {k: v for k, v in SMALL.items() if k != "clf_hidden"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_data(n=N, d=D, k=K, seed=0, spread=3.0):
    """Gaussian classes in feature units with mixed scales, one constant column."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    means = rng.normal(0.0, spread, size=(k, d))
    X = means[y] + rng.normal(size=(len(y), d))
    X *= np.geomspace(0.01, 1000.0, d)  # openSMILE-like: features on very different scales
    X[:, CONST_COL] = CONST_VALUE
    labels = np.array(["anger", "boredom", "happy", "sad", "fear", "neutral"][:k])[y]
    return X, labels


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return ADAN(epochs=4, early_stop=False, random_state=0, **SMALL).fit(X, y)


def linear_shapes(mlp):
    return [(layer.in_features, layer.out_features) for layer in mlp.linears]


def test_default_network_shapes(data):
    X, y = data
    m = ADAN(epochs=1, device="cpu").fit(X, y)
    kept = D - 1  # the constant column is dropped
    net = m.net_
    assert linear_shapes(net.encoder) == [(kept, 800), (800, 800), (800, 100)]
    assert linear_shapes(net.decoder) == [(100, 800), (800, 800), (800, kept)]
    assert linear_shapes(net.classifier) == [(100, 100), (100, 100), (100, K)]
    assert linear_shapes(net.generator) == [(100 + K, 100), (100, 100), (100, 100)]
    assert linear_shapes(net.discriminator) == [(100, 100), (100, 100), (100, 1)]
    assert m.n_features_in_ == D and m.n_epochs_ == 1 and len(m.history_) == 1
    assert list(m.classes_) == sorted(set(y))
    assert set(m.history_[0]) == {"epoch", "loss_d", "loss_c", "loss_g_ce", "loss_g_adv", "loss_r", "d_real", "d_fake"}
    # tanh everywhere by default: no batch norm
    assert net.encoder.norms is None and net.decoder.out is None and net.encoder.out == "tanh"


def test_sample_shapes_labels_and_units(fitted, data):
    X, y = data
    Xs, ys = fitted.sample(counts={"happy": 5, "anger": 3}, seed=1)
    assert Xs.shape == (8, D) and Xs.dtype == np.float64
    assert list(ys) == ["anger"] * 3 + ["happy"] * 5  # classes_ order
    assert np.all(Xs[:, CONST_COL] == CONST_VALUE)  # dropped constant restored at full width
    wanted = np.array(["sad", "anger", "sad"])
    Xs2, ys2 = fitted.sample(y=wanted, seed=1)
    assert Xs2.shape == (3, D) and list(ys2) == list(wanted)
    # Original feature units: the synthetic spread per feature follows the real one across 5 decades.
    Xb, _ = fitted.sample(counts={c: 50 for c in fitted.classes_}, seed=2)
    varying = np.arange(D) != CONST_COL
    ratio = Xb[:, varying].std(0) / X[:, varying].std(0)
    assert np.all((ratio > 0.05) & (ratio < 20))
    assert fitted.sample(y=[], seed=0)[0].shape == (0, D)


def test_sample_errors(fitted):
    with pytest.raises(AdanError, match="unknown label 'joy'"):
        fitted.sample(y=["joy"])
    with pytest.raises(AdanError, match="exactly one"):
        fitted.sample()
    with pytest.raises(NotFittedError):
        ADAN().sample(y=["anger"])
    with pytest.raises(NotFittedError):
        SeparateADAN().transform(np.zeros((2, 3)))


def test_same_seed_same_weights_and_samples(data):
    X, y = data
    a = ADAN(epochs=2, early_stop=False, random_state=3, **SMALL).fit(X, y)
    b = ADAN(epochs=2, early_stop=False, random_state=3, **SMALL).fit(X, y)
    c = ADAN(epochs=2, early_stop=False, random_state=4, **SMALL).fit(X, y)
    sa, sb = a.net_.state_dict(), b.net_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["encoder.linears.0.weight"], c.net_.state_dict()["encoder.linears.0.weight"])
    assert a.history_ == b.history_
    np.testing.assert_array_equal(a.sample(counts={"sad": 4}, seed=9)[0], b.sample(counts={"sad": 4}, seed=9)[0])


def test_sample_seed_is_its_own_stream(fitted):
    s1, _ = fitted.sample(counts={"sad": 6}, seed=5)
    fitted.sample(counts={"sad": 100}, seed=6)  # using the model in between changes nothing
    s2, _ = fitted.sample(counts={"sad": 6}, seed=5)
    np.testing.assert_array_equal(s1, s2)
    s3, _ = fitted.sample(counts={"sad": 6})
    s4, _ = fitted.sample(counts={"sad": 6})
    assert not np.array_equal(s3, s4)  # seed None: fresh noise each call


def test_transform_shape(fitted, data):
    X, _ = data
    H = fitted.transform(X[:13])
    assert H.shape == (13, 16) and np.all(np.abs(H) <= 1)
    with pytest.raises(AdanError):
        fitted.transform(X[:, :10])


def test_save_load_round_trip(fitted, data, tmp_path):
    X, _ = data
    path = tmp_path / "adan.pt"
    fitted.save(path)
    # Only tensors and plain containers inside: loadable with weights_only=True.
    assert torch.load(path, weights_only=True)["format_version"].startswith("1.")
    back = ADAN.load(path)
    np.testing.assert_array_equal(back.sample(counts={"happy": 7}, seed=2)[0], fitted.sample(counts={"happy": 7}, seed=2)[0])
    np.testing.assert_array_equal(back.transform(X[:5]), fitted.transform(X[:5]))
    assert back.get_params() == fitted.get_params()
    assert back.history_ == fitted.history_ and back.n_epochs_ == fitted.n_epochs_
    assert back.classes_.dtype == fitted.classes_.dtype


def test_file_saved_with_seed_parameter_loads_as_random_state(fitted, tmp_path):
    # files written before the constructor parameter was named random_state hold it as "seed"
    model = copy.deepcopy(fitted).set_params(random_state=5)
    model.save(tmp_path / "new.pt")
    payload = torch.load(tmp_path / "new.pt", weights_only=True)
    assert payload["params"]["random_state"] == 5
    payload["params"]["seed"] = payload["params"].pop("random_state")
    torch.save(payload, tmp_path / "old.pt")
    back = ADAN.load(tmp_path / "old.pt")
    assert back.random_state == 5 and back.get_params() == model.get_params()


def test_saved_bytes_do_not_depend_on_the_file_name(fitted, tmp_path):
    # DVC hashes the saved models: the same model must give the same bytes wherever it is written
    fitted.save(tmp_path / "a.pt")
    fitted.save(tmp_path / "sub" / "b.pt")
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "sub" / "b.pt").read_bytes()


def test_load_refuses_other_major_version_and_foreign_files(fitted, tmp_path):
    path = tmp_path / "adan.pt"
    fitted.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = "2.0"
    torch.save(payload, tmp_path / "v2.pt")
    with pytest.raises(AdanError, match="format version '2.0'"):
        ADAN.load(tmp_path / "v2.pt")
    torch.save({"foo": 1}, tmp_path / "other.pt")
    with pytest.raises(AdanError, match="not an ADAN model file"):
        ADAN.load(tmp_path / "other.pt")
    with pytest.raises(AdanError, match="not found"):
        ADAN.load(tmp_path / "missing.pt")
    with pytest.raises(AdanError, match="not a SeparateADAN"):
        SeparateADAN.load(path)


def test_dataframe_feature_names_saved(data, tmp_path):
    X, y = data
    cols = [f"f{i}" for i in range(D)]
    m = ADAN(epochs=1, early_stop=False, **SMALL).fit(pd.DataFrame(X, columns=cols), y)
    assert list(m.feature_names_in_) == cols
    m.save(tmp_path / "m.pt")
    assert list(ADAN.load(tmp_path / "m.pt").feature_names_in_) == cols
    m2 = ADAN(epochs=1, early_stop=False, **SMALL).fit(X, y, feature_names=cols)
    assert list(m2.feature_names_in_) == cols


@pytest.fixture(scope="module")
def trained():
    """A longer run on easy data (paper lr is 1e-4; 1e-3 gets there in ~100 epochs): (model, X, y, test rows)."""
    X, y = make_data(n=240, seed=1, spread=1.0)
    test = np.random.default_rng(0).permutation(len(y))[:80]
    train = np.setdiff1d(np.arange(len(y)), test)
    m = ADAN(epochs=110, early_stop=False, random_state=0, lr=1e-3, **SMALL).fit(X[train], y[train])
    return m, X, y, train, test


def test_losses_improve_and_d_moves_to_half(trained):
    m = trained[0]
    h = m.history_
    first, last = h[0], h[-1]
    for key in ("loss_r", "loss_c", "loss_g_ce"):
        assert last[key] < 0.5 * first[key], key
    # D first separates E's latents from G's, then G catches up and D's outputs return towards 0.5.
    dev = [(abs(e["d_real"] - 0.5) + abs(e["d_fake"] - 0.5)) / 2 for e in h]
    tail = float(np.mean(dev[-10:]))
    assert tail < 0.1 and tail < 0.8 * max(dev), (tail, max(dev))


def test_synthetic_only_classifier_beats_chance(trained):
    """Train on ADAN samples only, test on held-out real data (TSTR)."""
    m, X, y, train, test = trained
    Xs, ys = m.sample(counts={c: 60 for c in m.classes_}, seed=0)
    clf = LogisticRegression(max_iter=2000).fit(m_scaled(Xs, X[train]), ys)
    acc = clf.score(m_scaled(X[test], X[train]), y[test])
    assert acc > 0.7, acc  # chance is 0.25


def m_scaled(A, ref):
    return (A - ref.mean(0)) / np.where(ref.std(0) > 0, ref.std(0), 1)


def test_gradient_routing(fitted, data):
    """E learns only from L_R + L_C; C only from L_C; G only from its own loss; D only from L_D."""
    X, y = data
    m = fitted
    net = m.net_
    trainer = ADANTrainer(m, aux_seed=0)
    net.train()
    xb = m._scale(X[:32])
    yb = torch.from_numpy(np.searchsorted(m.classes_, y[:32]))
    z = torch.randn(32, m.noise_dim)
    onehot = torch.eye(K)[yb]

    def grads_after(loss_fn):
        net.zero_grad(set_to_none=True)
        h = net.encoder(xb)
        g = net.generator(torch.cat([z, onehot], 1))
        loss_fn(h, g).backward()
        return {name: any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
                for name, part in net.named_children()}

    try:
        g_only = grads_after(lambda h, g: sum(trainer.losses(xb, yb, None, h, g)[2:]))
        assert g_only == dict(encoder=False, decoder=False, classifier=False, generator=True, discriminator=False)
        c_only = grads_after(lambda h, g: trainer.losses(xb, yb, None, h, g)[1])
        assert c_only == dict(encoder=True, decoder=False, classifier=True, generator=False, discriminator=False)
        r_only = grads_after(lambda h, g: trainer.losses(xb, yb, None, h, g)[0])
        assert r_only == dict(encoder=True, decoder=True, classifier=False, generator=False, discriminator=False)
        d_only = grads_after(lambda h, g: trainer.d_loss(h.detach(), g.detach())[0])
        assert d_only == dict(encoder=False, decoder=False, classifier=False, generator=False, discriminator=True)
    finally:
        net.zero_grad(set_to_none=True)
        net.eval()
    opt_d, opt_main = trainer.optimizers()
    d_params = {id(p) for p in net.discriminator.parameters()}
    assert {id(p) for g in opt_d.param_groups for p in g["params"]} == d_params
    assert not d_params & {id(p) for g in opt_main.param_groups for p in g["params"]}


def test_early_stop_rule():
    def hist(values, start=1):
        return [{"epoch": start + i, "d_real": r, "d_fake": f} for i, (r, f) in enumerate(values)]

    near = (0.505, 0.495)
    assert converged(hist([near] * 3, start=201), min_epochs=200)
    assert not converged(hist([near] * 3, start=199), min_epochs=200)  # epochs 199, 200 are not "after"
    assert not converged(hist([near, near, (0.52, 0.5)], start=300), min_epochs=200)
    assert not converged(hist([near, (0.5, 0.489), near], start=300), min_epochs=200)
    assert not converged(hist([near] * 2, start=300), min_epochs=200)
    assert converged(hist([(0.9, 0.1)] * 5 + [near] * 3, start=300), min_epochs=200)


def test_early_stop_ends_training(data, monkeypatch):
    X, y = data
    calls = []

    def fake(history, min_epochs):
        calls.append(min_epochs)
        return len(history) == 5

    monkeypatch.setattr(training_mod, "converged", fake)
    m = ADAN(epochs=50, min_epochs=123, **SMALL).fit(X, y)
    assert m.n_epochs_ == 5 and len(m.history_) == 5 and calls[0] == 123
    m = ADAN(epochs=7, early_stop=False, **SMALL).fit(X, y)
    assert m.n_epochs_ == 7


def test_class_weights_balanced():
    X, y = make_data(n=120, k=3)
    keep = np.r_[0:40, 40:60, 80:120]  # class counts 40, 20, 40
    m = ADAN(epochs=1, class_weight="balanced", **SMALL).fit(X[keep], y[keep])
    np.testing.assert_allclose(m.class_weight_, [1.0, 2.0, 1.0])
    m = ADAN(epochs=1, class_weight={"boredom": 3.0}, **SMALL).fit(X[keep], y[keep])
    np.testing.assert_allclose(m.class_weight_, [1.0, 3.0, 1.0])
    assert ADAN(epochs=1, **SMALL).fit(X[keep], y[keep]).class_weight_ is None  # unweighted CE
    with pytest.raises(AdanError, match="unknown class 'joy'"):
        ADAN(epochs=1, class_weight={"joy": 2.0}, **SMALL).fit(X[keep], y[keep])


@pytest.mark.parametrize(
    "activation,scaling,g_loss,d_steps",
    [("tanh", "znorm", "nonsaturating", 1), ("leaky_bn", "maxabs", "minimax", 2),
     ("leaky_bn", "znorm", "nonsaturating", 1), ("tanh", "maxabs", "minimax", 1)],
)
def test_variants_run(data, activation, scaling, g_loss, d_steps):
    X, y = data
    m = ADAN(epochs=3, early_stop=False, activation=activation, scaling=scaling, g_loss=g_loss,
             d_steps=d_steps, **SMALL).fit(X, y)
    Xs, _ = m.sample(counts={"sad": 20}, seed=0)
    assert np.all(np.isfinite(Xs)) and np.all(np.isfinite([v for e in m.history_ for v in e.values()]))
    assert (m.net_.encoder.norms is not None) == (activation == "leaky_bn")
    if scaling == "maxabs":
        # tanh decoder output: never beyond the training max |x| of a feature
        assert np.all(np.abs(Xs) <= np.abs(X).max(0) * (1 + 1e-6))
    if g_loss == "minimax":
        assert all(e["loss_g_adv"] < 0 for e in m.history_)  # log(1 - D) < 0


def test_bad_params():
    X, y = make_data(n=40)
    for bad in (dict(activation="relu"), dict(scaling="minmax"), dict(g_loss="wgan"), dict(epochs=0),
                dict(enc_hidden=(800, -1)), dict(class_weight="auto"), dict(beta1=1.0)):
        with pytest.raises(AdanError, match=next(iter(bad))):
            ADAN(**bad).fit(X, y)
    with pytest.raises(AdanError, match="y"):
        ADAN(epochs=1).fit(X, None)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(AdanError, match="NaN"):
        ADAN(epochs=1).fit(Xn, y)


def test_log_dir_writes_dvclive_files(data, tmp_path, monkeypatch):
    X, y = data
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    ADAN(epochs=3, early_stop=False, log_dir=logs, progress=True, **SMALL).fit(X, y)
    metrics = json.loads((logs / "metrics.json").read_text())
    assert {"loss_d", "d_real", "d_fake", "loss_r"} <= set(metrics)
    assert len((logs / "plots" / "metrics" / "loss_d.tsv").read_text().splitlines()) == 1 + 3
    assert not list(tmp_path.rglob("dvc.yaml"))


# ---- ablation ---------------------------------------------------------------------------------


def test_separate_adan(data, tmp_path):
    X, y = data
    m = SeparateADAN(ae_epochs=3, epochs=4, early_stop=False, random_state=0, **SMALL_SEP).fit(X, y)
    assert m.net_.classifier is None
    assert [e["phase"] for e in m.history_] == ["autoencoder"] * 3 + ["gan"] * 4
    assert m.n_ae_epochs_ == 3 and m.n_epochs_ == 4
    Xs, ys = m.sample(counts={"anger": 5, "sad": 2}, seed=0)
    assert Xs.shape == (7, D) and np.all(Xs[:, CONST_COL] == CONST_VALUE)
    m.save(tmp_path / "sep.pt")
    back = SeparateADAN.load(tmp_path / "sep.pt")
    np.testing.assert_array_equal(back.sample(counts={"anger": 5}, seed=1)[0], m.sample(counts={"anger": 5}, seed=1)[0])
    assert back.n_ae_epochs_ == 3
    assert type(load_model(tmp_path / "sep.pt")) is SeparateADAN
    with pytest.raises(AdanError, match="not a ADAN"):
        ADAN.load(tmp_path / "sep.pt")
    # The autoencoder is frozen in the GAN phase: E's weights equal those after phase 1.
    ae_only = SeparateADAN(ae_epochs=3, epochs=1, early_stop=False, random_state=0, **SMALL_SEP)
    ae_only.fit(X, y)
    assert torch.equal(ae_only.net_.encoder.linears[0].weight, m.net_.encoder.linears[0].weight)


# ---- samplers ---------------------------------------------------------------------------------


def test_sampler_counts(data):
    X, y = data
    model = ADAN(epochs=2, early_stop=False, **SMALL)
    s = ADANSampler(adan=model, n_sets=3)
    Xr, yr = s.fit_resample(X, y)
    assert Xr.shape == (4 * N, D)
    np.testing.assert_array_equal(Xr[:N], X)
    np.testing.assert_array_equal(yr[:N], y)
    _, counts = np.unique(yr[N:], return_counts=True)
    assert list(counts) == [3 * N // K] * K
    assert isinstance(s.adan_, ADAN) and s.adan_ is not model and not hasattr(model, "net_")  # a fitted clone
    assert s.sampling_strategy_ == {c: 3 * N // K for c in np.unique(y).tolist()}
    Xg, yg = ADANSampler(adan=model, ratio=0.5).generate(X, y)
    assert Xg.shape == (N // 2, D) and len(yg) == N // 2
    # Same seed → same synthetic set.
    Xg2, _ = ADANSampler(adan=model, ratio=0.5).generate(X, y)
    np.testing.assert_array_equal(Xg, Xg2)
    with pytest.raises(AdanError, match="'adan' parameter of ADANSampler"):
        ADANSampler(adan=SeparateADAN()).generate(X, y)
    with pytest.raises(AdanError, match="'epochs' parameter of ADAN"):
        ADANSampler(adan=ADAN(epochs=0)).generate(X, y)


def test_sampler_in_imblearn_pipelines(data):
    X, y = data
    Xtr = pd.DataFrame(X, columns=[f"f{i}" for i in range(D)])
    pipe = Pipeline([("adan", ADANSampler(ADAN(epochs=2, early_stop=False, **SMALL), n_sets=1)), ("svm", SVC())])
    pipe.fit(Xtr, y)
    assert pipe.predict(Xtr).shape == (N,)
    Xr, yr = pipe.named_steps["adan"].fit_resample(Xtr, pd.Series(y, name="emotion"))
    assert isinstance(Xr, pd.DataFrame) and list(Xr.columns) == list(Xtr.columns) and len(Xr) == 2 * N
    assert yr.name == "emotion"
    pipe2 = Pipeline([
        ("adan", SeparateADANSampler(SeparateADAN(ae_epochs=1, epochs=1, early_stop=False, **SMALL_SEP), n_sets=1)),
        ("smote", SMOTE(random_state=0)),
        ("svm", SVC()),
    ])
    pipe2.fit(X, y)
    assert pipe2.score(X, y) > 0.5


def test_separate_learning_rates_reach_their_optimizers():
    X, y = make_data(n=60, seed=3)
    m = ADAN(epochs=1, early_stop=False, lr=1e-3, lr_d=2e-4, lr_g=5e-4, **SMALL).fit(X, y)
    opt_d, opt_main = ADANTrainer(m, aux_seed=0).optimizers()
    assert [g["lr"] for g in opt_d.param_groups] == [2e-4]
    assert [g["lr"] for g in opt_main.param_groups] == [1e-3, 5e-4]
    n_g = sum(p.numel() for p in m.net_.generator.parameters())
    assert sum(p.numel() for p in opt_main.param_groups[1]["params"]) == n_g
    d_default, main_default = ADANTrainer(ADAN(epochs=1, early_stop=False, lr=3e-4, **SMALL).fit(X, y), 0).optimizers()
    assert d_default.param_groups[0]["lr"] == 3e-4 and main_default.param_groups[1]["lr"] == 3e-4


@pytest.mark.parametrize("bad", [0, -1e-4, float("nan"), float("inf"), "fast"])
def test_bad_discriminator_learning_rate_is_named(bad):
    X, y = make_data(n=40, seed=4)
    with pytest.raises(AdanError, match="lr_d"):
        ADAN(epochs=1, lr_d=bad, **SMALL).fit(X, y)


def test_saved_bytes_do_not_depend_on_where_curves_were_logged(data, tmp_path):
    """The augment stage logs curves into a temporary folder: that path must not reach the file."""
    X, y = data
    paths = []
    for name in ("run1", "run2"):
        model = ADAN(epochs=2, early_stop=False, device="cpu", random_state=0,
                     log_dir=str(tmp_path / name / "logs")).fit(X, y)
        model.save(tmp_path / name / "adan.pt")
        paths.append(tmp_path / name / "adan.pt")
    assert paths[0].read_bytes() == paths[1].read_bytes()


@pytest.mark.parametrize("batch_size,max_updates,epochs_run", [(50, 10, 3), (50, 12, 3), (50, 13, 4),
                                                                (200, 5, 5), (50, None, 6)])
def test_max_updates_caps_the_epochs(data, batch_size, max_updates, epochs_run):
    # 200 rows in batches of 50 → 4 optimiser steps per epoch; epochs cut to ceil(max_updates / 4).
    X, y = data
    for model in (ADAN(epochs=6, early_stop=False, batch_size=batch_size, max_updates=max_updates, **SMALL),
                  SeparateADAN(ae_epochs=6, epochs=6, early_stop=False, batch_size=batch_size,
                               max_updates=max_updates, **SMALL_SEP)):
        model.fit(X, y)
        assert model.n_epochs_ == len([h for h in model.history_ if h.get("phase") != "autoencoder"]) == epochs_run
    assert model.n_ae_epochs_ == epochs_run  # each phase capped alike


def test_max_updates_never_raises_the_epochs_and_is_validated(data):
    X, y = data
    assert ADAN(epochs=2, early_stop=False, max_updates=10_000, **SMALL).fit(X, y).n_epochs_ == 2
    with pytest.raises(AdanError, match="max_updates"):
        ADAN(epochs=2, max_updates=0, **SMALL).fit(X, y)
