"""Synthetic speakers in the audio domain (audio_voice, audio_vtlp): one draw per (seed, speaker, copy),
ids that are never a real speaker's, seed-determinism, refused ranges, no leak, and their diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adan_ser.augment import stage as stage_module
from adan_ser.augment.audio.describe import Perturbed, perturb_features
from adan_ser.augment.audio.voices import (
    ChangeGenderPerturber,
    VTLPPerturber,
    synthetic_speaker_id,
    synthetic_speaker_ids,
    warp_envelope,
)
from adan_ser.augment.registry import make_perturber
from adan_ser.augment.measures.speaker_diagnostics import SPEAKER_DIAGNOSTICS, speaker_diagnostics
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import folds_for, inner_validation_groups
from adan_ser.contracts.plan import PlanSettings
from adan_ser.contracts.synthetic import load_synthetic, load_synthetic_speakers
from adan_ser.core.errors import AdanError

from tests.augment.test_audio import FEATURE_SET, SCHEME, corpus, files_of, run  # noqa: F401 (corpus: a fixture)

VOICES = ("audio_voice", "audio_vtlp")


# ------------------------------------------------------------------------------------------ draws


@pytest.mark.parametrize("cls", [ChangeGenderPerturber, VTLPPerturber])
def test_one_draw_per_speaker_and_copy_in_range(cls):
    p = cls(copies=3).check()
    draws = {(spk, c, k): p.draw(spk, c, k) for spk in ("03", "08", "11") for c in range(3) for k in (0, 1)}
    assert all(d == p.draw(*key) for key, d in draws.items())  # a function of (speaker, copy, seed)
    values = [tuple(d.values()) for d in draws.values()]
    assert len(set(values)) == len(values)  # different speakers, copies and seeds: different voices
    params = p.get_params()
    for d in draws.values():
        for name, v in d.items():
            low = params.get(f"{name}_min")
            assert low <= v <= params[f"{name}_max"], name


@pytest.mark.parametrize("cls", [ChangeGenderPerturber, VTLPPerturber])
def test_a_copy_is_a_function_of_file_speaker_copy_and_seed(cls):
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 140 * t * (1 + 0.1 * t)) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
    p = cls().check()
    a = p.perturb_file(x, 16000, "a.wav", "03", 0, 5)
    p.perturb_file(x[::-1].copy(), 16000, "b.wav", "08", 1, 5)  # other work between the two calls
    assert np.array_equal(a, p.perturb_file(x, 16000, "a.wav", "03", 0, 5))
    assert not np.array_equal(a, p.perturb_file(x, 16000, "a.wav", "03", 1, 5))
    assert a.dtype == np.float32 and np.isfinite(a).all() and abs(len(a) - len(x)) < 0.02 * len(x)
    with pytest.raises(AdanError, match="a.wav: .* draws one voice per source speaker"):
        p.perturb(x, 16000, "a.wav", 0, 5)


def test_vtlp_moves_a_spectral_peak_by_alpha():
    bins, rate = 513, 16000
    freqs = np.linspace(0, rate / 2, bins)
    sp = np.exp(-((freqs - 1000.0) / 100.0) ** 2)[None, :] + 1e-6
    for alpha in (0.9, 1.1):
        peak = freqs[np.argmax(warp_envelope(sp, alpha, rate)[0])]
        assert abs(peak - 1000.0 * alpha) <= freqs[1]
    assert np.allclose(warp_envelope(sp, 1.0, rate), sp)


# ---------------------------------------------------------------------------------- ids, the stage


def test_synthetic_speaker_ids_are_distinct_per_draw_and_never_real():
    speakers = np.array(["a", "a", "b", "a~s0c0"])
    ids = synthetic_speaker_ids(speakers, 0, np.array([0, 1, 0, 0]))
    assert ids.tolist() == ["a~s0c0", "a~s0c1", "b~s0c0", "a~s0c0~s0c0"]
    assert synthetic_speaker_id("a", 0, 1) == ids[1]
    keys = {(s, k, c) for s in ("a", "b", "a~s0c0") for k in (0, 1, 10) for c in (0, 1, 10)}
    assert len({synthetic_speaker_id(*key) for key in keys}) == len(keys)


@pytest.mark.slow
@pytest.mark.parametrize("method", VOICES)
def test_stage_writes_speaker_ids_and_is_seed_deterministic(corpus, tmp_path, monkeypatch, method):
    monkeypatch.setattr(stage_module, "_pictures", lambda *args: None)  # t-SNE: slow, tested elsewhere
    _, manifest, _ = corpus
    table = run(corpus, tmp_path / "a", method, seeds=[0, 1], ratio=2)
    again = run(corpus, tmp_path / "b", method, seeds=[1], ratio=2, workers=2)
    # byte-identical sets, whatever the workers and the other seeds; the same diagnostics
    assert files_of(tmp_path / "a" / "seed1") == files_of(tmp_path / "b" / "seed1")
    pd.testing.assert_frame_equal(table[table["seed"] == 1].reset_index(drop=True), again)
    real = set(manifest["speaker"])
    seen = {}
    for seed in (0, 1):
        for fold in folds_for(manifest, SCHEME):
            ids = load_synthetic_speakers(tmp_path / "a", fold.name, seed)
            X, y = load_synthetic(tmp_path / "a", fold.name, [c for c in corpus[2].columns if c != "file"], seed)
            assert len(ids) == len(y) == len(X) and not set(ids) & real
            assert all(i.endswith((f"~s{seed}c0", f"~s{seed}c1")) for i in ids)
            assert not any(i.startswith(fold.name + "~") for i in ids)  # the test speaker makes no voice
            for i in set(ids):
                seen.setdefault(i, set()).add(seed)
    assert all(len(s) == 1 for s in seen.values())  # an id belongs to one seed's draw
    assert set(SPEAKER_DIAGNOSTICS) <= set(table.columns)
    assert (table["emotion_agreement"].between(0, 100)).all()


def test_per_file_methods_write_no_speaker_column(corpus, tmp_path):
    run(corpus, tmp_path / "out", "audio_noise")
    assert load_synthetic_speakers(tmp_path / "out", "spk01", 0) is None


def test_a_synthetic_id_equal_to_a_real_speaker_is_refused(corpus, tmp_path):
    root, manifest, features = corpus
    manifest = manifest.copy()
    manifest.loc[manifest["speaker"] == "spk03", "speaker"] = "spk01~s0c0"
    with pytest.raises(AdanError, match=r"^synthetic speaker id 'spk01~s0c0' of audio_voice \(seed 0\) is a "
                                        r"real speaker's id"):
        augment_folds(manifest, features,
                      AugmentSettings("audio_voice", {}, 1, PlanSettings(SCHEME, [0]), progress=False,
                                      audio_root=root, feature_set=FEATURE_SET),
                      tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", VOICES)
def test_no_test_or_validation_speaker_reaches_a_set(corpus, tmp_path, monkeypatch, method):
    """Spy on the source rows of every fold's set and on their voices: never the test speaker, never
    the DNN's validation speaker of that seed; each copy of a speaker is one voice."""
    _, manifest, features = corpus
    names = [c for c in features.columns if c != "file"]

    def spy(rows, root, feature_set, perturber, seed, **kwargs):
        n, k = len(rows), perturber.copies
        X = np.zeros((n * k, len(names)), dtype=np.float32)
        X[:, 0] = np.repeat(np.arange(n), k)  # the source row, read back below
        X[:, 1:] = np.random.default_rng(0).normal(size=(len(X), len(names) - 1))
        return Perturbed(np.repeat(np.arange(n), k), np.tile(np.arange(k), n), X, names, 0.0)

    monkeypatch.setattr(stage_module, "perturb_features", spy)
    run(corpus, tmp_path / "out", method, seeds=[0, 1, 2], ratio=2)
    speakers = manifest["speaker"].to_numpy()
    for seed in (0, 1, 2):
        for fold in folds_for(manifest, SCHEME):
            table = pd.read_parquet(tmp_path / "out" / f"seed{seed}" / f"{fold.name}.parquet")
            sources = table[names[0]].to_numpy().astype(int)
            held = inner_validation_groups(np.append(speakers[fold.train], "__synthetic__"), 1, seed, fold.name)
            used = set(speakers[sources])
            assert fold.name not in used and not used & set(held)
            expected = [r for r in fold.train if speakers[r] not in held]
            assert sorted(sources.tolist()) == sorted(expected * 2)
            # each id: one source speaker; all of that speaker's rows of one copy share it
            ids = table["synthetic_speaker"].to_numpy()
            assert all(i.split("~")[0] == s for i, s in zip(ids, speakers[sources]))
            assert len(set(ids)) == 2 * len(used)


def test_the_perturber_gets_each_file_speaker(corpus, monkeypatch):
    """perturb_features hands every (file, copy) its manifest speaker; one voice per speaker × copy."""
    root, manifest, _ = corpus
    calls = []

    def spy_apply(self, signal, sample_rate, voice, key=0):
        calls.append(tuple(voice.values()))
        return signal

    monkeypatch.setattr(ChangeGenderPerturber, "apply", spy_apply)
    perturber = ChangeGenderPerturber(copies=2)
    out = perturb_features(manifest, root, FEATURE_SET, perturber, seed=0, progress=False)
    speakers = manifest["speaker"].to_numpy()[out.rows]
    keys = list(zip(speakers, out.copies))
    assert len(set(calls)) == len(set(keys)) == 6
    assert calls == [tuple(perturber.draw(s, c, 0).values()) for s, c in keys]

# ------------------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("method, key, value", [
    ("audio_voice", "formant_ratio_max", 1.6), ("audio_voice", "formant_ratio_min", 0.5),
    ("audio_voice", "pitch_factor_max", 3), ("audio_voice", "pitch_floor", 10),
    ("audio_vtlp", "alpha_min", 0.7), ("audio_vtlp", "pitch_factor_min", 0.25),
])
def test_out_of_range_voice_parameters_name_the_key(method, key, value):
    from adan_ser.params import validate_params

    with pytest.raises(AdanError, match=rf"^augment\.{method}\.{key}: {value} is not a number in \[") as lib:
        make_perturber(method, {key: value})
    with pytest.raises(AdanError, match=rf"augment\.{method}\.{key}: {value} is not a number in \[") as yaml:
        validate_params({"augment": {method: {key: value}}})
    assert "\n" not in str(lib.value) and "\n" not in str(yaml.value)
    with pytest.raises(AdanError, match=rf"augment\.{method}: \w+_min \S+ exceeds \w+_max"):
        low = "alpha" if method == "audio_vtlp" else "formant_ratio"
        make_perturber(method, {f"{low}_min": 1.1, f"{low}_max": 0.95})


def test_schema_bounds_equal_the_library_bounds():
    """params.yaml and the perturbers accept exactly the same ranges: each bound, not a step beyond."""
    from adan_ser.params import validate_params

    for cls in (ChangeGenderPerturber, VTLPPerturber):
        bounds = {name: (c.left, c.right) for name, (c,) in cls._parameter_constraints.items() if name != "copies"}
        for name, (low, high) in bounds.items():
            for value, ok in ((low, True), (high, True), (low - 1e-3, False), (high + 1e-3, False)):
                partner = next(k for pair in cls._ranges if name in pair for k in pair if k != name)
                p_low, p_high = bounds[partner]
                # the partner keeps min ≤ max where it can share the value, else its default
                block = {name: value, partner: value if p_low <= value <= p_high else cls().get_params()[partner]}
                if ok:
                    validate_params({"augment": {cls.method: block}})
                    cls(**block).check()
                else:
                    with pytest.raises(AdanError, match=rf"augment\.{cls.method}\.\w+: "):
                        validate_params({"augment": {cls.method: block}})
                    with pytest.raises(AdanError, match=rf"^augment\.{cls.method}\.\w+: "):
                        cls(**block).check()


def test_a_missing_package_is_one_line_naming_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "parselmouth", None)  # import → ModuleNotFoundError
    with pytest.raises(AdanError, match=r"^audio_voice needs the package praat-parselmouth: pip install"):
        ChangeGenderPerturber().apply(np.zeros(1600, np.float32), 16000, {"formant_ratio": 1, "pitch_factor": 1})

# ------------------------------------------------------------------------------------ diagnostics


def _speakers_data(rng, speakers=8, per=30, d=20, classes=4, shift=2.0):
    """Real rows: emotion offsets + a per-speaker offset + noise; ids, emotions as strings."""
    spk = np.repeat([f"r{i}" for i in range(speakers)], per)
    y = np.tile(np.array([f"e{i}" for i in range(classes)]), speakers * per // classes)
    emo = rng.normal(size=(classes, d)) * 3
    offs = rng.normal(size=(speakers, d)) * shift
    X = emo[np.searchsorted(np.unique(y), y)] + offs[np.searchsorted(np.unique(spk), spk)] + rng.normal(size=(len(y), d))
    return X, y, spk, emo


def test_a_near_copy_is_recognised():
    rng = np.random.default_rng(0)
    X, y, spk, _ = _speakers_data(rng)
    copy = X + 1e-4 * rng.normal(size=X.shape)
    out = speaker_diagnostics(X, y, spk, copy, y, np.char.add(spk, "~s0c0"), spk)
    assert out["nearest_real_ratio"] < 0.01 and out["near_copy_pct"] == 100.0
    assert out["source_distance_ratio"] < 0.01 and abs(out["speaker_spread_ratio"] - 1) < 0.01
    assert out["emotion_agreement"] == pytest.approx(out["emotion_agreement_real"], abs=2)


def test_shuffled_emotions_agree_at_chance_and_new_voices_are_measured():
    rng = np.random.default_rng(1)
    X, y, spk, emo = _speakers_data(rng)
    # new speakers: the same emotions with fresh speaker offsets
    offs = rng.normal(size=(8, X.shape[1])) * 2.0
    new = emo[np.searchsorted(np.unique(y), y)] + offs[np.searchsorted(np.unique(spk), spk)] \
        + rng.normal(size=X.shape)
    ids = np.char.add(spk, "~s0c0")
    kept = speaker_diagnostics(X, y, spk, new, y, ids, spk)
    assert kept["emotion_agreement"] > 90 and kept["emotion_agreement_real"] > 90
    assert 0.6 < kept["speaker_spread_ratio"] < 1.6 and kept["source_distance_ratio"] > 0.6
    assert kept["nearest_real_ratio"] > 0.5 and kept["near_copy_pct"] == 0
    shuffled = speaker_diagnostics(X, y, spk, new, rng.permutation(y), ids, spk)
    assert abs(shuffled["emotion_agreement"] - 25) < 10  # 4 classes
    # one voice for everyone: no between-speaker spread
    same = emo[np.searchsorted(np.unique(y), y)] + rng.normal(size=X.shape)
    assert speaker_diagnostics(X, y, spk, same, y, ids, spk)["speaker_spread_ratio"] < 0.1


def test_diagnostics_without_ids_or_rows_and_subsampled_deterministically():
    rng = np.random.default_rng(2)
    X, y, spk, _ = _speakers_data(rng)
    out = speaker_diagnostics(X, y, spk, X[:10] + 1.0, y[:10])
    assert np.isnan(out["speaker_spread_ratio"]) and np.isnan(out["source_distance_ratio"])
    assert not np.isnan(out["emotion_agreement"])
    assert all(np.isnan(v) for v in speaker_diagnostics(X, y, spk, X[:0], y[:0]).values())
    a = speaker_diagnostics(X, y, spk, X + 0.5, y, spk, spk, seed=3, max_rows=100)
    b = speaker_diagnostics(X, y, spk, X + 0.5, y, spk, spk, seed=3, max_rows=100)
    assert a == b and list(a) == list(SPEAKER_DIAGNOSTICS)


def test_export_makes_the_stage_voices_of_the_fold_training_files(corpus, tmp_path):
    from adan_ser.augment.export import ExportSettings, export_csv
    from adan_ser.contracts.manifest import write_manifest

    root, manifest, features = corpus
    write_manifest(manifest, tmp_path / "m.csv")
    features.to_parquet(tmp_path / "f.parquet", index=False)
    n = export_csv(tmp_path / "x.csv",
                   ExportSettings(method="audio_voice", fold="spk02", per_class=1, seed=0, scheme=SCHEME, params={},
                                  audio_root=root, feature_set=FEATURE_SET),
                   manifest_path=tmp_path / "m.csv", features_path=tmp_path / "f.parquet")
    table = pd.read_csv(tmp_path / "x.csv")
    assert n == len(table) == 2
    full = perturb_features(manifest, root, FEATURE_SET, ChangeGenderPerturber(copies=1), seed=0, progress=False)
    train = manifest.index[manifest["speaker"] != "spk02"].to_numpy()
    stage_rows = full.X[np.isin(full.rows, train)].astype(np.float64)
    for row in table.drop(columns=["emotion", "synthetic"]).to_numpy():
        assert np.isclose(stage_rows, row, rtol=1e-8).all(axis=1).any()


def test_agreement_above_speaker_folds_pools_speakers_and_never_fits_a_row_it_labels(monkeypatch):
    """25 speakers: SPEAKER_FOLDS ridge solves, each real row labelled once, by a fit without its speaker
    (and each synthetic row by the fit that held out its source speaker)."""
    from adan_ser.augment.measures import speaker_diagnostics as module

    rng = np.random.default_rng(5)
    spk = np.repeat([f"s{i:02d}" for i in range(25)], 8)
    y = np.tile(np.array(["a", "b"]), 100)
    X = rng.normal(size=(200, 6)) + np.where(y == "a", 1.0, -1.0)[:, None]
    calls, real = [], module._ridge_labels

    def spy(G, H, fit, y_fit, alpha):
        calls.append(fit)
        return real(G, H, fit, y_fit, alpha)

    monkeypatch.setattr(module, "_ridge_labels", spy)
    out = module.speaker_diagnostics(X, y, spk, X + 0.1, y, None, spk)
    assert len(calls) == module.SPEAKER_FOLDS
    held = [np.setdiff1d(np.arange(200), fit) for fit in calls]
    assert sorted(np.concatenate(held).tolist()) == list(range(200))  # every real row held out once
    for rows in held:  # a held-out group is whole speakers
        assert set(np.flatnonzero(np.isin(spk, np.unique(spk[rows])))) == set(rows)
    assert out["emotion_agreement"] > 90 and out["emotion_agreement_real"] > 90
