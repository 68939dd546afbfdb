"""Audio-domain augmentation: seeded perturbations, described as the extract stage does, per fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adan_ser.augment import stage as stage_module
from adan_ser.augment.audio.describe import Perturbed, perturb_features
from adan_ser.augment.audio.perturbers import NoisePerturber, copies_for
from adan_ser.augment.export import ExportSettings, export_csv
from adan_ser.augment.registry import AUDIO_METHODS
from adan_ser.augment.registry import make_perturber, make_sampler
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import folds_for, inner_validation_groups
from adan_ser.contracts.manifest import write_manifest
from adan_ser.contracts.plan import PlanSettings
from adan_ser.core.errors import AdanError

FEATURE_SET = "eGeMAPSv02"  # the fastest set
SCHEME = "leave-one-speaker-out"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """3 speakers × 2 emotions × 2 utterances of generated audio, its manifest and eGeMAPS table."""
    from adan_ser.corpora.build import build_manifest
    from adan_ser.corpora.demo import generate_demo
    from adan_ser.features.opensmile import extract_features

    root = tmp_path_factory.mktemp("audio") / "demo"
    generate_demo(root, speakers=3, utterances_per_class=2, emotions=["angry", "sad"])
    manifest = build_manifest("demo", root)
    features, _ = extract_features(manifest, root, FEATURE_SET, progress=False)
    return root, manifest, features


def run(corpus, out, method="audio_mix", params=None, seeds=(0,), ratio=1, report_dir=None, train_fraction=1.0,
        **kwargs):
    root, manifest, features = corpus
    plan = PlanSettings(SCHEME, list(seeds), train_fraction, validation_speakers=1)
    settings = AugmentSettings(method, params or {}, ratio, plan, progress=False, audio_root=root,
                               feature_set=FEATURE_SET, **kwargs)
    return augment_folds(manifest, features, settings, out, report_dir)


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_sets_whatever_the_workers(corpus, tmp_path):
    mix = {"p_speed": 1.0, "p_pitch": 1.0, "p_noise": 1.0, "p_gain": 1.0}
    table = run(corpus, tmp_path / "a", params=mix, seeds=[0, 1])
    run(corpus, tmp_path / "b", params=mix, seeds=[0, 1], workers=2)
    a, b = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert sorted(a) == [f"seed{k}/{s}.parquet" for k in (0, 1) for s in ("spk01", "spk02", "spk03")]
    assert a == b
    other = pd.read_parquet(tmp_path / "a" / "seed1" / "spk01.parquet")
    first = pd.read_parquet(tmp_path / "a" / "seed0" / "spk01.parquet")
    assert not np.allclose(first.iloc[:, :-2].to_numpy(), other.iloc[:, :-2].to_numpy())  # seeds differ
    assert list(first.columns[-2:]) == ["emotion", "synthetic"] and (first["synthetic"] == 1).all()
    cost = table.attrs["cost"]
    assert cost["files"].tolist() == [12, 12] and (cost["files_per_s"] > 0).all()


def test_a_copy_depends_on_file_seed_and_copy_only(corpus):
    root, manifest, _ = corpus
    perturber = NoisePerturber(copies=2)
    full = perturb_features(manifest, root, FEATURE_SET, perturber, seed=3, progress=False)
    assert full.rows.tolist() == [r for r in range(len(manifest)) for _ in range(2)]
    # another order, a subset, another manifest around them: the same rows
    pairs = np.array([[5, 1], [0, 0], [5, 0]])
    part = perturb_features(manifest, root, FEATURE_SET, perturber, seed=3, pairs=pairs, progress=False)
    index = {(r, c): i for i, (r, c) in enumerate(zip(full.rows, full.copies))}
    assert np.array_equal(part.X, full.X[[index[(5, 1)], index[(0, 0)], index[(5, 0)]]])
    alone = perturb_features(manifest.iloc[[5]].reset_index(drop=True), root, FEATURE_SET, perturber,
                             seed=3, progress=False)
    assert np.array_equal(alone.X, full.X[[index[(5, 0)], index[(5, 1)]]])
    assert not np.array_equal(full.X[index[(5, 0)]], full.X[index[(5, 1)]])


def test_the_test_speaker_never_enters_its_own_fold(corpus, tmp_path, monkeypatch):
    """Spy on the source files of every fold's set: never the test speaker, never the DNN's
    validation speaker of that seed."""
    _, manifest, features = corpus
    names = [c for c in features.columns if c != "file"]

    def spy(rows, root, feature_set, perturber, seed, **kwargs):
        n = len(rows)
        X = np.zeros((n * perturber.copies, len(names)), dtype=np.float32)
        X[:, 0] = np.repeat(np.arange(n), perturber.copies)  # the source row, read back below
        X[:, 1:] = np.random.default_rng(0).normal(size=(len(X), len(names) - 1))
        return Perturbed(np.repeat(np.arange(n), perturber.copies), np.tile(np.arange(perturber.copies), n),
                         X, names, 0.0)

    monkeypatch.setattr(stage_module, "perturb_features", spy)
    run(corpus, tmp_path / "out", method="audio_noise", seeds=[0, 1, 2], ratio=2)
    speakers = manifest["speaker"].to_numpy()
    for seed in (0, 1, 2):
        for fold in folds_for(manifest, SCHEME):
            table = pd.read_parquet(tmp_path / "out" / f"seed{seed}" / f"{fold.name}.parquet")
            sources = table[names[0]].to_numpy().astype(int)
            held = inner_validation_groups(np.append(speakers[fold.train], "__synthetic__"), 1, seed, fold.name)
            used = set(speakers[sources])
            assert fold.name not in used and not used & set(held)
            expected = [r for r in fold.train if speakers[r] not in held]
            assert sorted(sources.tolist()) == sorted(expected * 2)  # every allowed file, twice
            assert table["emotion"].tolist() == manifest["emotion"].to_numpy()[sources].tolist()


def test_a_perturbation_that_silences_a_file_names_it_and_writes_nothing(corpus, tmp_path):
    silence = {"p_speed": 0.0, "p_pitch": 0.0, "p_noise": 0.0, "p_gain": 1.0,
               "gain_db_min": -120.0, "gain_db_max": -120.0}
    with pytest.raises(AdanError, match=r"^spk01_angry_001\.wav, audio_mix copy 0 \(seed 4\): silent after "
                                        r"perturbation"):
        run(corpus, tmp_path / "out", params=silence, seeds=[4], report_dir=tmp_path / "report")
    assert not (tmp_path / "out").exists() and not (tmp_path / "report").exists()


class _Truncating(NoisePerturber):
    def perturb(self, signal, sample_rate, file, copy, seed):
        return super().perturb(signal, sample_rate, file, copy, seed)[:80]  # 5 ms: no analysis frame


def test_a_feature_row_opensmile_cannot_describe_is_an_error(corpus):
    root, manifest, _ = corpus
    with pytest.raises(AdanError, match=r"^spk01_angry_001\.wav, audio_noise copy 0 \(seed 0\): openSMILE "
                                        r"cannot describe it: \d+ of 88 features not finite"):
        perturb_features(manifest, root, FEATURE_SET, _Truncating(), seed=0, progress=False)


def test_export_writes_the_stage_rows_of_the_fold_training_files(corpus, tmp_path):
    root, manifest, features = corpus
    write_manifest(manifest, tmp_path / "m.csv")
    features.to_parquet(tmp_path / "f.parquet", index=False)
    n = export_csv(tmp_path / "x.csv",
                   ExportSettings(method="audio_noise", fold="spk02", per_class=3, seed=0, scheme=SCHEME,
                                  params={"snr_db_min": 5.0, "snr_db_max": 5.0}, audio_root=root,
                                  feature_set=FEATURE_SET),
                   manifest_path=tmp_path / "m.csv", features_path=tmp_path / "f.parquet")
    table = pd.read_csv(tmp_path / "x.csv")
    assert n == len(table) == 6 and table["emotion"].value_counts().to_dict() == {"angry": 3, "sad": 3}
    # 3 of 2 training files per emotion and fold: copies 0 and 1 of the same files the stage makes
    full = perturb_features(manifest, root, FEATURE_SET, NoisePerturber(5.0, 5.0, copies=2), seed=0,
                            progress=False)
    train = set(manifest.index[manifest["speaker"] != "spk02"])
    stage_rows = full.X[np.isin(full.rows, list(train))].astype(np.float64)
    for row in table.drop(columns=["emotion", "synthetic"]).to_numpy():
        assert np.isclose(stage_rows, row, rtol=1e-8).all(axis=1).any()


def test_copies_follow_a_whole_ratio():
    assert copies_for("audio_noise", {}, None) == 1
    assert copies_for("audio_noise", {"copies": 3}, None) == 3
    assert copies_for("audio_noise", {}, 2.0) == 2
    assert copies_for("audio_noise", {"copies": 2}, 2) == 2
    with pytest.raises(AdanError, match="augment.audio_noise.copies 3 differs from augment.ratio 1"):
        copies_for("audio_noise", {"copies": 3}, 1)
    with pytest.raises(AdanError, match="augment.ratio 1.5 is not a whole number"):
        copies_for("audio_noise", {}, 1.5)


def test_bad_parameters_name_the_key():
    with pytest.raises(AdanError, match="unknown parameter 'snr' for augmentation method 'audio_noise'"):
        make_perturber("audio_noise", {"snr": 3})
    with pytest.raises(AdanError, match="augment.audio_noise: snr_db_min 30 exceeds snr_db_max 10"):
        make_perturber("audio_noise", {"snr_db_min": 30, "snr_db_max": 10})
    with pytest.raises(AdanError, match=r"augment.audio_mix.p_gain: 2 is not a probability"):
        make_perturber("audio_mix", {"p_gain": 2})
    with pytest.raises(AdanError, match="augment.audio_speed: max_rate must be <= 10"):
        make_perturber("audio_speed", {"rate_min": 20, "rate_max": 20})
    with pytest.raises(AdanError, match="perturbs audio, not feature vectors"):
        make_sampler("audio_speed")
    assert make_perturber("audio_mix", {"p_gain": 0.25}, ratio=3).get_params()["copies"] == 3


def test_params_blocks_match_the_perturbers():
    from adan_ser.params import AUDIO_METHODS as NAMES
    from adan_ser.params import AugmentParams

    assert set(NAMES) == set(AUDIO_METHODS)
    for method, cls in AUDIO_METHODS.items():
        model = AugmentParams.model_fields[method].annotation
        defaults = {name: field.default for name, field in model.model_fields.items()}
        assert defaults == cls().get_params(), method


def test_the_cli_runs_an_audio_method(corpus, tmp_path, monkeypatch, capsys):
    import yaml

    from adan_ser.cli import main

    monkeypatch.setattr(stage_module, "_pictures", lambda *args: None)  # t-SNE: slow, tested elsewhere
    root, manifest, features = corpus
    write_manifest(manifest, tmp_path / "m.csv")
    features.to_parquet(tmp_path / "f.parquet", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({
        "eval": {"seeds": [0]}, "data": {"corpus": "demo", "root": str(root)},
        "features": {"set": FEATURE_SET, "workers": 1}, "cv": {"scheme": SCHEME, "scheduler": "local"},
        "classify": {"dnn": {"val_groups": 1}}, "augment": {"ratio": 1, "audio_speed": {"copies": 1}},
    }))
    common = ["--params", str(tmp_path / "params.yaml"), "-m", str(tmp_path / "m.csv"),
              "-f", str(tmp_path / "f.parquet")]
    assert main(["augment", "--method", "audio_speed", *common, "-o", str(tmp_path / "syn"),
                 "--report-dir", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "syn" / "seed0" / "spk03.parquet").is_file()
    assert "perturbed and described 12 files in" in capsys.readouterr().out
    assert not (tmp_path / "rep" / "cost.csv").exists()  # timings vary: never a committed output
    assert pd.read_csv(tmp_path / "rep" / "quality.csv")["n_synthetic"].tolist() == [4, 4, 4]
    assert main(["export", "--method", "audio_speed", "--fold", "spk01", "--per-class", "1", *common,
                 "-o", str(tmp_path / "x.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "x.csv")) == 2


def test_training_fractions_take_subsets_of_the_same_copies(corpus, tmp_path):
    table = run(corpus, tmp_path / "out", method="audio_noise", train_fraction=[0.5, 1.0])
    assert sorted(table["train_fraction"].unique()) == [0.5, 1.0]
    half = [p for p in (tmp_path / "out").rglob("*.parquet") if "fraction" in p.parent.parent.name]
    assert len(half) == 3
    for path in half:
        small = pd.read_parquet(path).drop(columns=["emotion", "synthetic"]).to_numpy()
        full = pd.read_parquet(tmp_path / "out" / "seed0" / path.name).drop(columns=["emotion", "synthetic"])
        assert 0 < len(small) < len(full)
        assert all(np.isin(small, full.to_numpy()).all(axis=1))
