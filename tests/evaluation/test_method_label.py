"""A preset that swaps the algorithm is reported under its own name, from the augment stage to the report."""

import pandas as pd
import pytest

from adan_ser.augment.export import ExportSettings
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.plan import PlanSettings
from adan_ser.contracts.synthetic import LABEL_FILE, read_label
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.reporting.report import write_report
from tests.augment.test_stage import toy

#: augment.adan with preset validated (adan_latent under the hood), trained for a moment
VALIDATED = {"preset": "validated", "epochs": 2, "early_stop": False, "enc_hidden": [16], "latent_dim": 4,
             "noise_dim": 4, "gen_hidden": [16], "disc_hidden": [16], "clf_hidden": [16]}


@pytest.mark.slow  # an ADAN per fold, then the report's resampling
def test_a_run_with_preset_validated_reports_adan_validated_never_adan(tmp_path):
    manifest, features = toy(n=72)
    plan = PlanSettings("leave-one-speaker-out", [0, 1], validation_speakers=1)
    settings = AugmentSettings("adan", VALIDATED, 1.0, plan, progress=False)
    assert settings.label == "adan[validated]"
    quality = augment_folds(manifest, features, settings, tmp_path / "synthetic" / "adan", tmp_path / "augment")
    # the folder keeps the stage's name; the label rides beside the sets and in quality.csv
    assert read_label(tmp_path / "synthetic" / "adan", "adan") == "adan[validated]"
    assert set(pd.read_csv(tmp_path / "augment" / "quality.csv")["method"]) == {"adan[validated]"}
    assert set(quality["method"]) == {"adan[validated]"}

    predictions = evaluate(manifest, features, EvaluateSettings(
        {"svm": {"kernel": "linear"}}, "toy", "f", PlanSettings("leave-one-speaker-out", [0, 1]),
        synthetic_dirs={"adan": tmp_path / "synthetic" / "adan"}, train_data=["real+synthetic"],
        heads_on={"adan": ["real+synthetic"]}))
    assert set(predictions["method"]) == {"none", "adan[validated]"}

    results = write_report(predictions, sorted(manifest["emotion"].unique()), tmp_path / "results", quality=quality,
                           n_resamples=50, seed=0, primary=[{"method": "adan[validated]", "classifier": "svm",
                                                             "train_data": "real+synthetic"}])
    assert set(results["method"]) == {"none", "adan[validated]"}
    for table in ("results.csv", "significance.csv"):
        frame = pd.read_csv(tmp_path / "results" / table)
        names = {v for c in ("method", "ref_method") if c in frame for v in frame[c]}
        assert "adan[validated]" in names and "adan" not in names, table


def test_a_method_without_a_swapping_preset_keeps_its_name(tmp_path):
    manifest, features = toy()
    settings = AugmentSettings("duplicate", {}, 1.0, PlanSettings("leave-one-speaker-out", 0), progress=False)
    augment_folds(manifest, features, settings, tmp_path / "dup")
    assert not (tmp_path / "dup" / LABEL_FILE).exists()  # the sets are the bytes they always were
    assert read_label(tmp_path / "dup", "duplicate") == "duplicate"
    assert AugmentSettings("adan", {"preset": "paper"}).label == "adan"
    assert ExportSettings("adan", params={"preset": "validated"}).label == "adan[validated]"
