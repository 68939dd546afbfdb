"""`adan export`: CSV of one fold's synthetic vectors; same seed → byte-identical file."""

import pandas as pd
import pytest

from adan_ser.augment.export import ExportSettings, export_csv
from adan_ser.core.errors import AdanError
from tests.augment.test_stage import toy

ADAN_FAST = {"epochs": 3, "early_stop": False, "enc_hidden": [32, 32], "latent_dim": 8, "noise_dim": 8,
             "gen_hidden": [16, 16], "disc_hidden": [16, 16], "clf_hidden": [16, 16]}


@pytest.fixture
def files(tmp_path):
    manifest, features = toy(n=60)
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    features.to_parquet(tmp_path / "features.parquet")
    return tmp_path / "manifest.csv", tmp_path / "features.parquet"


@pytest.mark.parametrize("method,params", [("smote", {"k_neighbors": 3}), ("adan", ADAN_FAST)])
def test_same_seed_gives_identical_bytes(tmp_path, files, method, params):
    kw = dict(manifest_path=files[0], features_path=files[1])
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        export_csv(tmp_path / f"{name}.csv", ExportSettings(method, "s1", per_class=7, seed=seed, params=params), **kw)
    a = (tmp_path / "a.csv").read_bytes()
    assert a == (tmp_path / "b.csv").read_bytes()
    assert a != (tmp_path / "c.csv").read_bytes()
    df = pd.read_csv(tmp_path / "a.csv")
    assert list(df.columns[:6]) == [f"feat{j}" for j in range(6)]
    assert df["emotion"].value_counts().to_dict() == {"angry": 7, "happy": 7, "sad": 7}
    assert (df["synthetic"] == 1).all()


def test_export_from_saved_model(tmp_path, files):
    from adan_ser.augment.generators.adan import ADAN

    manifest, features = pd.read_csv(files[0]), pd.read_parquet(files[1])
    names = [c for c in features.columns if c != "file"]
    model = ADAN(**ADAN_FAST).fit(features[names].to_numpy(), manifest["emotion"].to_numpy(), feature_names=names)
    model.save(tmp_path / "m.pt")
    n = export_csv(tmp_path / "s.csv", ExportSettings(method="adan", fold=None, per_class=5, seed=0),
                   model_path=tmp_path / "m.pt")
    df = pd.read_csv(tmp_path / "s.csv")
    assert n == 15 and list(df.columns[:6]) == names


def test_unknown_fold_is_named(tmp_path, files):
    with pytest.raises(AdanError, match="unknown fold 'zz'"):
        export_csv(tmp_path / "x.csv", ExportSettings(method="smote", fold="zz", per_class=3, seed=0),
                   manifest_path=files[0], features_path=files[1])
    assert not (tmp_path / "x.csv").exists()
