"""Speaker models: the additive offset model and its sampler (speaker_swap, speaker_new), the speaker-aware
ADAN (adan_speaker), and the augment stage handing them the training speakers only."""

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import OAS, LedoitWolf
from sklearn.utils import estimator_checks as sk_checks

import adan_ser.augment.stage as stage_module
from adan_ser.augment.generators.adan_speaker import SpeakerADAN, SpeakerADANSampler
from adan_ser.augment.registry import make_sampler
from adan_ser.augment.generators.speakers import (
    OffsetGaussian,
    SpeakerOffsetSampler,
    synthetic_speaker_ids,
)
from adan_ser.core.speaker_offsets import speaker_offsets
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import augmenter_train, folds_for, inner_validation_groups, train_subset
from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import ZScaler

from tests.augment.test_stage import toy

TINY = dict(latent_dim=4, noise_dim=4, enc_hidden=(16,), gen_hidden=(16,), disc_hidden=(8,), clf_hidden=(8,),
            epochs=3, early_stop=False, device="cpu")


def simulated(n_per_speaker=40, classes=4, speakers=6, d=20, noise=0.3, unbalanced=True, seed=0):
    """X = mu[y] + o[s] + noise with known class means mu (C, d) and centred offsets o (S, d)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 3, (classes, d))
    o = rng.normal(0, 1, (speakers, d))
    o -= o.mean(axis=0)
    s = np.repeat(np.arange(speakers), n_per_speaker)
    y = np.tile(np.arange(classes), speakers * n_per_speaker // classes)
    if unbalanced:  # speaker 0 speaks mostly class 0: a naive per-speaker mean would take it for its voice
        first = s == 0
        y[first] = np.where(rng.random(first.sum()) < 0.7, 0, y[first])
    X = mu[y] + o[s] + rng.normal(0, noise, (len(y), d))
    return X, y, np.array([f"spk{i}" for i in s]), mu, o


# ---- the offset model ---------------------------------------------------------------------------


def test_offsets_recovered_exactly_without_noise_on_an_unbalanced_design():
    X, y, g, mu, o = simulated(noise=0.0)
    classes, speakers, mu_hat, o_hat = speaker_offsets(X, y, g)
    assert list(speakers) == [f"spk{i}" for i in range(6)] and list(classes) == [0, 1, 2, 3]
    np.testing.assert_allclose(o_hat, o, atol=1e-8)
    np.testing.assert_allclose(mu_hat, mu, atol=1e-8)


def test_offsets_recovered_within_noise_and_better_than_speaker_means():
    X, y, g, mu, o = simulated(noise=0.3)
    _, _, mu_hat, o_hat = speaker_offsets(X, y, g)
    # ~10 rows per speaker × class cell, 4 cells per offset: standard error 0.3 / sqrt(40) ≈ 0.05
    assert np.abs(o_hat - o).max() < 0.25 and np.sqrt(np.mean((o_hat - o) ** 2)) < 0.08
    naive = np.stack([X[g == f"spk{i}"].mean(axis=0) for i in range(6)])
    naive -= naive.mean(axis=0)
    assert np.abs(naive[0] - o[0]).max() > 5 * np.abs(o_hat[0] - o[0]).max()  # the class imbalance bias


@pytest.mark.parametrize("shrinkage, sklearn_cls", [("ledoit_wolf", LedoitWolf), ("oas", OAS)])
def test_offset_gaussian_is_sklearns_shrunk_covariance(shrinkage, sklearn_cls):
    rng = np.random.default_rng(1)
    offsets = rng.normal(size=(7, 30))
    model = OffsetGaussian(shrinkage).fit(offsets)
    reference = sklearn_cls().fit(offsets)
    assert model.shrinkage_ == pytest.approx(reference.shrinkage_, rel=1e-12)
    np.testing.assert_allclose(model.covariance(), reference.covariance_, atol=1e-12)
    draws = model.draw(200_000, np.random.default_rng(2))
    np.testing.assert_allclose(np.cov(draws.T, bias=True), model.covariance(), atol=0.05)


def test_synthetic_ids_never_equal_a_real_one():
    ids = synthetic_speaker_ids(np.array(["new0", "new1"]), ["a", "~new0"])
    assert list(ids) == ["~~new0", "~~new1"]


# ---- the sampler ---------------------------------------------------------------------------------


def _z(sampler, X):
    return sampler.scaler_.transform(X)


def test_swap_moves_each_row_to_another_training_speakers_offset():
    X, y, g, _, _ = simulated()
    s = SpeakerOffsetSampler(mode="swap", random_state=0)
    X_syn, y_syn = s.generate(X, y, groups=g)
    assert len(X_syn) == len(X)
    assert (np.unique(y_syn, return_counts=True)[1] == np.unique(y, return_counts=True)[1]).all()
    ids = s.synthetic_speaker_
    assert not np.isin(ids, g).any() and all(i.startswith("~swap:") for i in ids)
    src, tgt = np.array([i.split(":")[1] for i in ids]), np.array([i.split(":")[2] for i in ids])
    assert (src != tgt).all() and set(tgt) == set(g)
    index = {spk: i for i, spk in enumerate(s.speakers_)}
    expected_offset = s.offsets_[[index[t] for t in tgt]]
    # x' = mu_y + o_tgt + r of a real row: z' - o_tgt is some real row's z - o_src
    real_keys = {tuple(np.round(r, 8)) for r in _z(s, X) - s.offsets_[[index[v] for v in g]]}
    assert all(tuple(np.round(r, 8)) in real_keys for r in _z(s, X_syn) - expected_offset)


def test_new_speakers_share_one_offset_and_are_distinct():
    X, y, g, _, _ = simulated()
    s = SpeakerOffsetSampler(mode="new", n_speakers=3, random_state=0, ratio=2.0)
    X_syn, y_syn = s.generate(X, y, groups=g)
    ids = s.synthetic_speaker_
    assert sorted(set(ids)) == ["~new0", "~new1", "~new2"] and not np.isin(ids, g).any()
    assert s.new_offsets_.shape == (3, X.shape[1]) and len(np.unique(s.new_offsets_, axis=0)) == 3
    for k in range(3):  # every new speaker has every class
        assert set(y_syn[ids == f"~new{k}"]) == set(y)
    # z - o_new = a real row's class mean + residual
    index = {spk: i for i, spk in enumerate(s.speakers_)}
    real_keys = {tuple(np.round(r, 8)) for r in _z(s, X) - s.offsets_[[index[v] for v in g]]}
    who = np.array([int(i[len("~new"):]) for i in ids])
    assert all(tuple(np.round(r, 8)) in real_keys for r in _z(s, X_syn) - s.new_offsets_[who])


@pytest.mark.parametrize("mode", ["swap", "new"])
def test_seed_determinism(mode):
    X, y, g, _, _ = simulated()
    a = SpeakerOffsetSampler(mode=mode, random_state=3)
    b = SpeakerOffsetSampler(mode=mode, random_state=3)
    Xa, ya = a.generate(X, y, groups=g)
    Xb, yb = b.generate(X, y, groups=g)
    assert np.array_equal(Xa, Xb) and np.array_equal(ya, yb)
    assert np.array_equal(a.synthetic_speaker_, b.synthetic_speaker_)
    Xc, _ = SpeakerOffsetSampler(mode=mode, random_state=4).generate(X, y, groups=g)
    assert not np.array_equal(Xa, Xc)


def test_fit_resample_takes_groups_and_errors_name_them():
    X, y, g, _, _ = simulated(n_per_speaker=8, speakers=3)
    Xr, yr = SpeakerOffsetSampler(mode="new", random_state=0).fit_resample(X, y, groups=g)
    assert Xr.shape == (2 * len(X), X.shape[1]) and np.array_equal(Xr[: len(X)], X)
    with pytest.raises(AdanError, match="needs groups"):
        SpeakerOffsetSampler().generate(X, y)
    with pytest.raises(AdanError, match="at least 2 training speakers"):
        SpeakerOffsetSampler().generate(X, y, groups=np.full(len(y), "a"))
    with pytest.raises(AdanError, match="mode"):
        SpeakerOffsetSampler(mode="mix").generate(X, y, groups=g)


def test_registry_fixes_the_mode():
    assert make_sampler("speaker_swap", {}, seed=0, ratio=1.0).mode == "swap"
    s = make_sampler("speaker_new", {"shrinkage": "oas", "n_speakers": 4}, seed=2, ratio=1.0)
    assert (s.mode, s.shrinkage, s.n_speakers, s.random_state) == ("new", "oas", 4, 2)
    with pytest.raises(AdanError, match="unknown parameter 'mode'"):
        make_sampler("speaker_new", {"mode": "swap"}, seed=0)
    with pytest.raises(AdanError, match="unknown parameter 'shrinkage'"):
        make_sampler("speaker_swap", {"shrinkage": "oas"}, seed=0)


@pytest.mark.parametrize("estimator", [SpeakerOffsetSampler(), SpeakerADAN(**TINY)], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", ["check_parameters_default_constructible", "check_get_params_invariance",
                                   "check_set_params", "check_no_attributes_set_in_init"])
def test_sklearn_checks_that_need_no_fit(estimator, check):
    """The fit checks of scikit-learn / imblearn call fit without groups, which these models refuse."""
    getattr(sk_checks, check)(type(estimator).__name__, estimator)


# ---- the stage: only training, non-validation speakers reach the fit ----------------------------


SEEN: list = []


class SpyOffsetSampler(SpeakerOffsetSampler):
    def generate(self, X, y, groups=None):
        SEEN.append((self.random_state, np.asarray(X)[:, 0].astype(int), np.asarray(groups)))
        return super().generate(X, y, groups=groups)


class SpySpeakerADANSampler(SpeakerADANSampler):
    def generate(self, X, y, groups=None):
        SEEN.append((self.random_state, np.asarray(X)[:, 0].astype(int), np.asarray(groups)))
        return super().generate(X, y, groups=groups)


SPIES = {
    "speaker_new": lambda seed: SpyOffsetSampler(mode="new", random_state=seed),
    "adan_speaker": lambda seed: SpySpeakerADANSampler(SpeakerADAN(random_state=seed, **TINY), n_sets=1,
                                                       random_state=seed),
}


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("method", list(SPIES))
def test_only_training_non_validation_speakers_reach_the_fit(tmp_path, monkeypatch, method):
    manifest, features = toy(n=60, d=5, speakers=5)  # feature 0: the row id the spies read
    SEEN.clear()
    monkeypatch.setattr(stage_module, "make_sampler", lambda method_, params, seed, ratio: SPIES[method](seed))
    seeds = [0, 1]
    augment_folds(manifest, features,
                  AugmentSettings(method, {}, 1.0,
                                  PlanSettings("leave-one-speaker-out", seeds, validation_speakers=1), progress=False),
                  tmp_path / "out")
    speakers, y = manifest["speaker"].to_numpy(), manifest["emotion"].to_numpy()
    folds = folds_for(manifest, "leave-one-speaker-out")
    assert len(SEEN) == len(seeds) * len(folds)
    for (seed, fold), (spy_seed, rows, groups) in zip([(s, f) for s in seeds for f in folds], SEEN):
        assert spy_seed == seed
        assert np.array_equal(groups, speakers[rows])  # each row with its own speaker
        held = set(inner_validation_groups(speakers[fold.train], 1, seed, fold.name))
        assert held and not held & set(groups)  # never the validation speaker
        assert not set(np.flatnonzero(speakers[:] == speakers[fold.test][0])) & set(rows)  # never the test speaker
        expected = augmenter_train(train_subset(fold, speakers, y, 1.0, seed), speakers, 1, seed).train
        assert np.array_equal(np.sort(rows), np.sort(expected))
        df = pd.read_parquet(tmp_path / "out" / f"seed{seed}" / f"{fold.name}.parquet")
        assert "synthetic_speaker" in df and not df["synthetic_speaker"].isin(manifest["speaker"]).any()


def test_stage_writes_synthetic_speakers_only_for_speaker_methods(tmp_path):
    manifest, features = toy(n=60, d=5, speakers=5)  # feature 0: the row id the spies read
    augment_folds(manifest, features,
                  AugmentSettings("speaker_swap", {}, 1.0, PlanSettings("leave-one-speaker-out", 0), progress=False),
                  tmp_path / "swap")
    augment_folds(manifest, features,
                  AugmentSettings("duplicate", {}, 1.0, PlanSettings("leave-one-speaker-out", 0), progress=False),
                  tmp_path / "dup")
    swap = pd.read_parquet(tmp_path / "swap" / "seed0" / "s0.parquet")
    assert swap["synthetic_speaker"].str.startswith("~swap:").all()
    assert not swap["synthetic_speaker"].str.contains(":s0").any()  # the test speaker's offset is unknown
    assert "synthetic_speaker" not in pd.read_parquet(tmp_path / "dup" / "seed0" / "s0.parquet")


# ---- speaker-aware ADAN --------------------------------------------------------------------------


@pytest.mark.usefixtures("one_torch_thread")
def test_speaker_adan_ids_determinism_and_persistence(tmp_path):
    X, y, g, _, _ = simulated(n_per_speaker=24, classes=3, speakers=4, d=8)
    make = lambda: SpeakerADANSampler(SpeakerADAN(n_speakers=3, random_state=0, **TINY), n_sets=1,  # noqa: E731
                                      random_state=0)
    a, b = make(), make()
    Xa, ya = a.generate(X, y, groups=g)
    Xb, yb = b.generate(X, y, groups=g)
    assert np.array_equal(Xa, Xb) and np.array_equal(a.synthetic_speaker_, b.synthetic_speaker_)
    ids = a.synthetic_speaker_
    assert sorted(set(ids)) == ["~new0", "~new1", "~new2"] and not np.isin(ids, g).any()
    model = a.adan_
    assert model.styles_.shape == (4, 4) and np.allclose(model.styles_.mean(axis=0), 0, atol=1e-6)
    assert model.net_.generator.linears[0].in_features == 4 + 3 + 4  # z, one-hot y, style
    # different speakers, same z: styles change the rows
    X1, _ = model.sample(counts={0: 6}, seed=1)
    assert len(np.unique(np.round(X1, 6), axis=0)) == 6
    model.save(tmp_path / "m.pt")
    loaded = SpeakerADAN.load(tmp_path / "m.pt")
    X2, _ = loaded.sample(counts={0: 6}, seed=1)
    np.testing.assert_allclose(X1, X2, atol=1e-6)
    assert list(loaded.sample_speakers(counts={0: 6}, seed=1)) == ["~new0", "~new1", "~new2"] * 2


def test_speaker_adan_refuses_what_it_cannot_do():
    X, y, g, _, _ = simulated(n_per_speaker=8, classes=2, speakers=2, d=4)
    with pytest.raises(AdanError, match="needs groups"):
        SpeakerADAN(**TINY).fit(X, y)
    with pytest.raises(AdanError, match="moments"):
        SpeakerADAN(diversity="moments", **TINY).fit(X, y, groups=g)
    with pytest.raises(AdanError, match="style_shrinkage"):
        make_sampler("adan_speaker", {"style_shrinkage": "none"}, seed=0)
