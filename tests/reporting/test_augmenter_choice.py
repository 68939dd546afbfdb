"""Tests for adan_ser.reporting.augmenter_choice: an augmenter chosen on the validation speakers."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.reporting.augmenter_choice import CHOICE_COLUMNS, augmenter_table, choice_lines
from adan_ser.reporting.report import report_from_files, write_report
from tests.reporting.test_report import _pred

NAN = float("nan")


def _quality(methods: dict, fraction=None) -> pd.DataFrame:
    """methods: name → (spread_ratio, val_synth, val_real, val_mixed) per fold (two folds × two seeds;
    the given value on fold f0, value ± 1 on f1 so the means are the given values)."""
    rows = []
    for method, (spread, synth, real, mixed) in methods.items():
        for seed in (0, 1):
            for fold, d in (("f0", -1.0), ("f1", 1.0)):
                rows.append({"seed": seed, **({"train_fraction": fraction} if fraction is not None else {}),
                             "fold": fold, "method": method, "spread_ratio": spread + d / 100,
                             "val_synth_svm_uar": synth + d, "val_real_svm_uar": real,
                             "val_mixed_svm_uar": mixed - d})
    return pd.DataFrame(rows)


BARS = {
    "ok_low": (0.90, 62.0, 70.0, 72.0),     # meets both bars (62/70 = 0.886)
    "collapsed": (0.70, 66.0, 70.0, 80.0),  # best mixed UAR, but spread below 0.8
    "off_class": (0.95, 56.0, 70.0, 78.0),  # synth/real = 0.8 < 0.85
    "ok_high": (0.85, 60.0, 70.0, 74.0),    # meets both (60/70 = 0.857): the pick
}


def test_bars_and_the_pick_among_methods_meeting_them():
    table = augmenter_table(_quality(BARS))
    assert list(table.columns) == CHOICE_COLUMNS
    t = table.set_index("method")
    assert t["meets_bars"].to_dict() == {"collapsed": False, "off_class": False, "ok_high": True, "ok_low": True}
    assert t.loc["ok_high", "synth_real_ratio"] == pytest.approx(60 / 70, abs=1e-4)
    assert t.loc["off_class", "synth_real_ratio"] == pytest.approx(0.8, abs=1e-4)
    assert t.loc["collapsed", "spread_ratio"] == pytest.approx(0.70)
    assert (t["val_mixed_svm_uar"] == [80.0, 78.0, 74.0, 72.0]).all() and (t["n_fits"] == 4).all()
    assert t.index[t["chosen"]].tolist() == ["ok_high"]  # not "collapsed", whose mixed UAR is higher
    line = choice_lines(table)
    assert "**ok_high**" in line and "meets both bars" in line and "74.00" in line


def test_the_table_says_how_many_distinct_validation_speakers_each_row_rests_on():
    q = _quality({"a": BARS["ok_low"], "b": BARS["ok_high"]})
    assert augmenter_table(q)["n_val_speakers"].isna().all()  # a quality.csv of an older run
    # seed 0 validates on s1 (f0) and s2 (f1); seed 1 on s2 s3 and s1: three distinct speakers
    q["val_speakers"] = [{(0, "f0"): "s1", (0, "f1"): "s2", (1, "f0"): "s2 s3", (1, "f1"): "s1"}[k]
                         for k in zip(q["seed"], q["fold"])]
    table = augmenter_table(q)
    assert list(table.columns) == CHOICE_COLUMNS and (table["n_val_speakers"] == 3).all()


def test_when_none_meets_the_bars_the_best_of_all_is_chosen_and_marked():
    table = augmenter_table(_quality({k: BARS[k] for k in ("collapsed", "off_class")}))
    assert not table["meets_bars"].any()
    assert table.loc[table["chosen"], "method"].tolist() == ["collapsed"]
    assert "no method meets the bars" in choice_lines(table) and "**collapsed**" in choice_lines(table)


def test_the_bars_are_inclusive_and_nan_never_meets():
    q = _quality({"edge": (0.80, 59.5, 70.0, 70.0), "nospread": (NAN, 70.0, 70.0, 90.0)})
    t = augmenter_table(q).set_index("method")
    assert t.loc["edge", "meets_bars"]  # 0.8 and 59.5 / 70 = 0.85 exactly
    assert not t.loc["nospread", "meets_bars"] and t.index[t["chosen"]].tolist() == ["edge"]


def test_rows_without_validation_values_and_old_runs_give_nothing():
    q = _quality({"smote": BARS["ok_low"]})
    none = q.assign(method="none", **{c: NAN for c in ("spread_ratio", "val_synth_svm_uar", "val_real_svm_uar",
                                                        "val_mixed_svm_uar")})
    assert augmenter_table(pd.concat([q, none]))["method"].tolist() == ["smote"]
    assert augmenter_table(none).empty and list(augmenter_table(none).columns) == CHOICE_COLUMNS
    old = q.drop(columns=["val_synth_svm_uar", "val_real_svm_uar", "val_mixed_svm_uar"])
    assert augmenter_table(old).empty and augmenter_table(None).empty and choice_lines(augmenter_table(old)) == ""


def test_one_choice_per_training_fraction():
    half = _quality({"a": (0.9, 60.0, 65.0, 70.0), "b": (0.9, 60.0, 65.0, 60.0)}, fraction=0.5)
    whole = _quality({"a": (0.9, 60.0, 65.0, 70.0), "b": (0.9, 60.0, 65.0, 75.0)}, fraction=1.0)
    audio = _quality({"audio_noise": (0.9, 60.0, 65.0, 71.0)})  # no fraction column: counts as 1
    table = augmenter_table(pd.concat([half, whole, audio], ignore_index=True))
    assert list(table.columns) == ["train_fraction"] + CHOICE_COLUMNS
    chosen = table[table["chosen"]]
    assert list(zip(chosen["train_fraction"], chosen["method"])) == [(0.5, "a"), (1.0, "b")]
    assert len(table[table["train_fraction"] == 1.0]) == 3
    assert choice_lines(table).count("chosen augmenter") == 2 and "train_fraction 0.5" in choice_lines(table)


def _evaluated(*methods):
    pred = _pred()
    return pd.concat([pred] + [pred.assign(method=m, train_data="real+synthetic") for m in methods])


def test_report_writes_the_table_for_evaluated_methods(tmp_path):
    q = _quality(BARS)
    write_report(_evaluated("ok_low", "ok_high", "collapsed"), ["a", "b"], tmp_path, quality=q)
    written = pd.read_csv(tmp_path / "augmenters_by_validation.csv")
    assert written["method"].tolist() == ["collapsed", "ok_high", "ok_low"]  # off_class was not evaluated
    assert written.loc[written["chosen"], "method"].tolist() == ["ok_high"]
    md = (tmp_path / "results.md").read_text()
    assert "Augmenters compared on the inner-validation speakers" in md and "chosen augmenter **ok_high**" in md


def test_report_without_validation_columns_still_works(tmp_path):
    old = _quality({"smote": BARS["ok_low"]}).drop(columns=["val_synth_svm_uar", "val_real_svm_uar",
                                                           "val_mixed_svm_uar"])
    old[["two_sample_acc", "nn_ratio", "copies_pct"]] = [55.0, 1.1, 0.0]
    write_report(_evaluated("smote"), ["a", "b"], tmp_path, quality=old)
    assert list(pd.read_csv(tmp_path / "augmenters_by_validation.csv").columns) == CHOICE_COLUMNS
    md = (tmp_path / "results.md").read_text()
    assert "inner-validation speakers (mean" not in md and "Quality of the synthetic data" in md
    write_report(_evaluated("smote"), ["a", "b"], tmp_path / "noquality")
    assert pd.read_csv(tmp_path / "noquality" / "augmenters_by_validation.csv").empty


def test_report_from_files_reads_the_quality_files(tmp_path):
    from adan_ser.contracts.predictions import write_predictions

    pred = _evaluated("smote", "noise")
    manifest = pd.DataFrame({"file": ["0.wav"], "speaker": ["s"], "gender": ["f"], "emotion": ["a"],
                             "session": ["s"], "condition": [""], "duration": [1.0]})
    manifest = pd.concat([manifest, manifest.assign(file="1.wav", emotion="b")])
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    write_predictions(pred, tmp_path / "pred")
    for method, values in (("smote", BARS["ok_low"]), ("noise", BARS["ok_high"])):
        (tmp_path / "augment" / method).mkdir(parents=True)
        _quality({method: values}).to_csv(tmp_path / "augment" / method / "quality.csv", index=False)
    (tmp_path / "augment" / "none").mkdir()
    pd.DataFrame([{"seed": 0, "fold": "f0", "method": "none", "spread_ratio": NAN, "n_synthetic": 0}]).to_csv(
        tmp_path / "augment" / "none" / "quality.csv", index=False)  # none: no validation columns
    report_from_files([tmp_path / "pred"], tmp_path / "manifest.csv", tmp_path / "out", tmp_path / "augment",
                      n_resamples=99)
    table = pd.read_csv(tmp_path / "out" / "augmenters_by_validation.csv")
    assert table.loc[table["chosen"], "method"].tolist() == ["noise"]
    assert np.isclose(table.set_index("method").loc["smote", "val_mixed_svm_uar"], 72.0)
