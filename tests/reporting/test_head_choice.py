"""Tests for adan_ser.reporting.head_choice: the margin head is chosen by validation, not by test."""

import numpy as np
import pandas as pd

from adan_ser.reporting.head_choice import CHOICE_COLUMNS, chosen_heads, validation_uar
from adan_ser.reporting.report import summarize
from adan_ser.reporting.significance import significance_table

CLASSES = ["a", "b"]


def _predictions(heads: dict) -> pd.DataFrame:
    """heads: name → (test hits per speaker of 4 utterances, validation UAR per fold)."""
    rows = []
    for head, (hits, val) in heads.items():
        for s, (k, v) in enumerate(zip(hits, val)):
            for u in range(4):
                true = CLASSES[u % 2]
                pred = true if u < k else CLASSES[1 - u % 2]
                rows.append(dict(corpus="toy", feature_set="spectrogram-linear", method="none", train_data="real",
                                 classifier="crnn", head=head, seed=0, fold=f"s{s}", speaker=f"s{s}",
                                 file=f"s{s}_{u}.wav", true=true, pred=pred, val_uar=float(v)))
    return pd.DataFrame(rows)


def _choose(pred):
    results = summarize(pred, CLASSES)
    table = significance_table(pred, CLASSES, n_resamples=199, seed=0)
    return chosen_heads(pred, results, table), results


def test_the_head_with_the_best_validation_uar_wins_even_when_another_is_better_on_test():
    pred = _predictions({
        "softmax": ([2, 2, 2, 2], [50, 50, 50, 50]),
        "arcface": ([3, 3, 3, 3], [60, 60, 60, 60]),      # best validation, middling test
        "am-softmax": ([4, 4, 4, 4], [40, 40, 40, 40]),   # best test, worst validation
    })
    chosen, results = _choose(pred)
    assert list(chosen.columns) == CHOICE_COLUMNS and len(chosen) == 1
    row = chosen.iloc[0]
    assert row["head"] == "arcface" and row["test_best_head"] == "am-softmax"
    assert row["plain_head"] == "softmax" and row["val_uar"] == 60.0 and row["plain_val_uar"] == 50.0
    assert row["n_heads"] == 2
    # test figures are the results table's; the difference is the significance table's UAR row
    arc = results[results["head"] == "arcface"].iloc[0]
    assert (row["wa"], row["uar"]) == (arc["wa"], arc["uar"])
    assert row["uar"] == 75.0 and row["plain_uar"] == 50.0
    assert np.isclose(row["diff_uar"], 25.0) and 0 < row["p_holm_uar"] <= 1


def test_validation_is_averaged_over_fits_not_rows():
    pred = _predictions({"softmax": ([2, 2], [50, 50]), "arcface": ([2, 2], [80, 20])})
    extra = pred[(pred["head"] == "arcface") & (pred["fold"] == "s0")].copy()
    extra["file"] += "x"  # a fold with more test rows must not weigh more
    val = validation_uar(pd.concat([pred, extra]))
    assert val.set_index("head").loc["arcface", "val_uar"] == 50.0


def test_the_choice_says_how_many_distinct_speakers_it_rests_on():
    pred = _predictions({"softmax": ([2, 2, 2], [50, 50, 50]), "arcface": ([3, 3, 3], [60, 60, 60])})
    assert np.isnan(_choose(pred)[0].iloc[0]["n_val_speakers"])  # predictions of an older run
    # three folds, validated on s1, s2 and s1 s2: two distinct speakers
    pred["val_speakers"] = pred["fold"].map({"s0": "s1", "s1": "s2", "s2": "s1 s2"})
    chosen = _choose(pred)[0]
    assert list(chosen.columns) == CHOICE_COLUMNS and chosen.iloc[0]["n_val_speakers"] == 2
    assert validation_uar(pred).set_index("head")["n_val_speakers"].to_dict() == {"softmax": 2, "arcface": 2}


def test_nothing_to_choose_without_validation_or_margin_heads():
    only_plain = _predictions({"softmax": ([2, 2], [50, 50])})
    assert _choose(only_plain)[0].empty
    no_val = _predictions({"softmax": ([2, 2], [50, 50]), "arcface": ([3, 3], [60, 60])}).drop(columns="val_uar")
    assert _choose(no_val)[0].empty


def test_report_writes_the_choice(tmp_path):
    from adan_ser.reporting.report import write_report

    pred = _predictions({"softmax": ([2, 2, 2], [50, 50, 50]), "arcface": ([3, 3, 3], [60, 60, 60])})
    write_report(pred, CLASSES, tmp_path, n_resamples=99)
    chosen = pd.read_csv(tmp_path / "heads_chosen.csv")
    assert chosen["head"].tolist() == ["arcface"]
    assert "chosen by inner-validation UAR" in (tmp_path / "results.md").read_text()
    # no validation column (the SVM/DNN rows): the file exists, with its header only
    write_report(pred.drop(columns="val_uar"), CLASSES, tmp_path / "plain", n_resamples=99)
    assert pd.read_csv(tmp_path / "plain" / "heads_chosen.csv").empty
