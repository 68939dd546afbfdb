"""Reports of learning-curve runs: the train_fraction key column, pairing within a fraction, the curve."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.contracts.results import FRACTION, KEY
from adan_ser.core.errors import AdanError
from adan_ser.reporting.learning_curve import CURVE_COLUMNS, learning_curve
from adan_ser.reporting.report import RESULT_COLUMNS, write_report
from adan_ser.reporting.significance import (
    TABLE_COLUMNS,
    comparisons,
    significance_table,
)

CLASSES = ["a", "b", "c"]
N_SPEAKERS, N_UTT = 6, 12


def _rows(fraction, method, use, classifier, wrong, seeds=(0,)):
    """Predictions of one combination; ``wrong(s, u)`` → that utterance is misclassified."""
    head = "softmax" if classifier == "dnn" else "-"
    rows = []
    for seed in seeds:
        for s in range(N_SPEAKERS):
            for u in range(N_UTT):
                t = CLASSES[u % 3]
                rows.append(dict(corpus="toy", feature_set="f", method=method, train_data=use, classifier=classifier,
                                 head=head, **({} if fraction is None else {FRACTION: fraction}), seed=seed,
                                 fold=f"s{s}", file=f"s{s}_{u:02d}.wav", speaker=f"s{s}", true=t,
                                 pred=CLASSES[(u + 1) % 3] if wrong(s, u) else t))
    return rows


def _half(s, u):
    return (u * 7 + s * 3) % 12 < 6  # half wrong


def _third(s, u):
    return (u * 7 + s * 3) % 12 < 4


def _curve_predictions(fractions=(0.5, 1.0)):
    """Real data alone gets half wrong at every fraction; smote gets a third wrong at 0.5, half at 1."""
    rows = []
    for f in fractions:
        for clf in ("svm", "dnn"):
            rows += _rows(f, "none", "real", clf, _half)
            rows += _rows(f, "smote", "real+synthetic", clf, _third if f == 0.5 else _half)
    return pd.DataFrame(rows)


def test_comparisons_pair_within_a_fraction():
    pred = _curve_predictions()
    pairs = comparisons(pred)
    assert len(pairs) == 4
    pos = (KEY + [FRACTION]).index(FRACTION)
    assert all(row[pos] == ref[pos] for row, ref in pairs)
    # without its own fraction's reference a combination is not compared with another fraction's
    alone = pred[~((pred["method"] == "none") & (pred[FRACTION] == 0.5))]
    assert all(row[pos] == 1.0 for row, _ in comparisons(alone))


def test_significance_and_curve_per_fraction():
    table = significance_table(_curve_predictions(), CLASSES, n_resamples=199)
    assert list(table.columns) == KEY + [FRACTION] + TABLE_COLUMNS[len(KEY):]
    uar = table[table["metric"] == "uar"].set_index([FRACTION, "classifier"])["diff"]
    assert uar.loc[(0.5, "svm")] == pytest.approx(100 * (1 / 2 - 1 / 3))  # paired with fraction 0.5's none
    assert uar.loc[(1.0, "dnn")] == 0.0
    curve = learning_curve(table)
    assert list(curve.columns) == CURVE_COLUMNS
    assert curve[["fraction", "classifier"]].values.tolist() == [[0.5, "dnn"], [1.0, "dnn"], [0.5, "svm"], [1.0, "svm"]]
    assert (curve["ci_low"] <= curve["gain"]).all() and (curve["gain"] <= curve["ci_high"]).all()


def test_pairing_needs_the_same_utterances_within_a_fraction():
    pred = _curve_predictions()
    drop = (pred[FRACTION] == 0.5) & (pred["method"] == "smote") & (pred["file"] == "s0_00.wav")
    with pytest.raises(AdanError, match="test utterances differ"):
        significance_table(pred[~drop], CLASSES, n_resamples=99)


def test_report_of_a_learning_curve_run(tmp_path):
    pred = _curve_predictions()
    results = write_report(pred, CLASSES, tmp_path, n_resamples=199)
    assert list(results.columns) == KEY + [FRACTION] + RESULT_COLUMNS[len(KEY):]
    assert len(results) == 8
    csv = pd.read_csv(tmp_path / "plots" / "learning_curve.csv")
    assert list(csv.columns) == CURVE_COLUMNS and len(csv) == 4
    assert (tmp_path / "plots" / "learning_curve.png").stat().st_size > 0
    confusion = sorted(p.name for p in (tmp_path / "plots" / "confusion").glob("*.csv"))
    assert "dnn-softmax-smote-real_plus_synthetic-fraction0.5.csv" in confusion
    assert "dnn-softmax-smote-real_plus_synthetic.csv" in confusion  # fraction 1 keeps its name
    assert len(confusion) == 8
    assert FRACTION in pd.read_csv(tmp_path / "runs.csv").columns
    assert "Learning curve" in (tmp_path / "results.md").read_text()


def test_report_without_fractions_has_no_fraction_column(tmp_path):
    rows = []
    for clf in ("svm", "dnn"):
        rows += _rows(None, "none", "real", clf, _half) + _rows(None, "smote", "real+synthetic", clf, _third)
    pred = pd.DataFrame(rows)
    results = write_report(pred, CLASSES, tmp_path, n_resamples=199)
    assert list(results.columns) == RESULT_COLUMNS
    assert list(pd.read_csv(tmp_path / "significance.csv").columns) == TABLE_COLUMNS
    assert FRACTION not in pd.read_csv(tmp_path / "runs.csv").columns
    assert "Learning curve" not in (tmp_path / "results.md").read_text()
    csv = pd.read_csv(tmp_path / "plots" / "learning_curve.csv")  # one point per series, at fraction 1
    assert csv["fraction"].tolist() == [1.0, 1.0] and sorted(csv["classifier"]) == ["dnn", "svm"]
    first = (tmp_path / "plots" / "learning_curve.png").read_bytes()
    write_report(pred, CLASSES, tmp_path, n_resamples=199)
    assert (tmp_path / "plots" / "learning_curve.png").read_bytes() == first  # deterministic


def test_spectro_rows_pooled_with_a_curve_run_count_as_fraction_one(tmp_path):
    pred = _curve_predictions()
    spectro = pd.DataFrame(_rows(None, "none", "real", "crnn", _half))
    results = write_report(pd.concat([pred, spectro], ignore_index=True), CLASSES, tmp_path, n_resamples=99)
    assert results.loc[results["classifier"] == "crnn", FRACTION].tolist() == [1.0]
    assert not np.isnan(results[FRACTION]).any()
