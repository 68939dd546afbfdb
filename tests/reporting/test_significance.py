"""Paired comparisons on predictions whose truth is known."""

import numpy as np
import pandas as pd
import pytest

from adan_ser.core.errors import AdanError
from adan_ser.reporting.significance import comparisons, significance_table
from adan_ser.reporting.paired_stats import holm, sign_flip_test

CLASSES = ["a", "b", "c"]


def _predictions(wrong_none, wrong_method, n_speakers=8, seeds=(0,), n_utt=12):
    """One baseline (none/real) and one method (smote/real+synthetic) of a DNN.

    ``wrong_*(speaker, seed, u)`` → True when that prediction is wrong; the truth cycles a, b, c.
    """
    rows = []
    for seed in seeds:
        for s in range(n_speakers):
            for u in range(n_utt):
                t = CLASSES[u % 3]
                for method, use, wrong in (("none", "real", wrong_none), ("smote", "real+synthetic", wrong_method)):
                    pred = CLASSES[(u + 1) % 3] if wrong(s, seed, u) else t
                    rows.append(dict(corpus="emodb", feature_set="IS11", method=method, train_data=use,
                                     classifier="dnn", head="softmax", seed=seed, fold=f"s{s}",
                                     file=f"s{s}_{u:02d}.wav", speaker=f"s{s}", true=t, pred=pred))
    return pd.DataFrame(rows)


def _baseline_wrong(s, seed, u):
    # about half the utterances wrong, a different half per speaker and seed
    return (u * 7 + s * 3 + seed) % 12 < 6


def test_identical_predictions_give_zero_difference_and_p_one():
    table = significance_table(_predictions(_baseline_wrong, _baseline_wrong, seeds=(0, 1)), CLASSES,
                               n_resamples=999)
    assert len(table) == 2
    for _, row in table.iterrows():
        assert row["diff"] == 0.0
        assert row["ci_low"] <= 0.0 <= row["ci_high"]
        assert row["p"] == 1.0 and row["p_holm"] == 1.0 and not row["significant"]


def test_consistent_fix_on_every_speaker_is_significant():
    # the method fixes two thirds of the baseline's errors on every speaker and seed
    def method_wrong(s, seed, u):
        return _baseline_wrong(s, seed, u) and u % 3 == 0

    table = significance_table(_predictions(_baseline_wrong, method_wrong, seeds=(0, 1, 2)), CLASSES,
                               n_resamples=999)
    assert (table["diff"] > 20).all()
    assert (table["ci_low"] > 0).all()
    assert table["significant"].all() and (table["p_holm"] < 0.05).all()


def test_gain_from_one_speaker_alone_is_not_significant():
    # the method fixes every error of speaker s0 and changes nothing elsewhere
    def method_wrong(s, seed, u):
        return s != 0 and _baseline_wrong(s, seed, u)

    table = significance_table(_predictions(_baseline_wrong, method_wrong, seeds=(0, 1, 2)), CLASSES,
                               n_resamples=999)
    assert (table["diff"] > 0).all()  # a real gain in the pooled figure …
    assert not table["significant"].any()  # … that one speaker cannot carry
    assert (table["p"] > 0.05).all()
    assert (table["ci_low"] <= 0).all()  # resampling speakers often leaves s0 out


def test_permuted_unit_is_the_speaker_seed_pair():
    # one seed, 8 speakers all better by the same amount: the exact sign-flip null has 2^8 patterns,
    # of which only all-plus and all-minus reach the observed mean → p = 2 / 256
    def method_wrong(s, seed, u):
        return _baseline_wrong(s, seed, u) and u % 2 == 0

    table = significance_table(_predictions(_baseline_wrong, method_wrong, seeds=(0,)), CLASSES)
    assert table.loc[table["metric"] == "wa", "p"].item() == pytest.approx(2 / 256)


def test_sign_flip_on_zero_and_single_pairs():
    assert sign_flip_test(np.zeros(5), np.zeros(5)) == 1.0
    assert sign_flip_test(np.array([1.0, 0, 0]), np.zeros(3)) == 1.0  # one non-zero pair: ±d both extreme
    with pytest.raises(AdanError, match="paired"):
        sign_flip_test(np.ones(3), np.ones(2))


def test_holm_matches_a_worked_example():
    # p sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06
    adjusted, reject = holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    assert reject.tolist() == [True, False, False, True]
    adjusted, reject = holm([0.2, np.nan], alpha=0.05)  # an untestable comparison stays out of the family
    assert adjusted[0] == pytest.approx(0.2) and np.isnan(adjusted[1]) and not reject.any()


def test_holm_family_is_the_whole_table():
    def method_wrong(s, seed, u):
        return _baseline_wrong(s, seed, u) and u % 2 == 0

    pred = _predictions(_baseline_wrong, method_wrong, seeds=(0,))
    table = significance_table(pred, CLASSES)
    # WA and UAR each p = 2/256; two tests in the family → both adjusted to 2 · 2/256 = 1/64
    np.testing.assert_allclose(table["p_holm"], [1 / 64, 1 / 64])
    assert table["significant"].all()


KEY_COLUMNS = ["corpus", "feature_set", "method", "train_data", "classifier", "head"]


def _pairs(rows, references=()):
    """{(combination, reference)} of :func:`comparisons` over key ``rows``, without corpus and feature set."""
    keys = pd.DataFrame(rows, columns=KEY_COLUMNS)
    return {(row[2:], ref[2:]) for row, ref in comparisons(keys, references)}


def test_comparisons_against_none_and_plain_head():
    pairs = _pairs([
        ("c", "f", "none", "real", "dnn", "softmax"),
        ("c", "f", "none", "real", "dnn", "aam"),
        ("c", "f", "smote", "synthetic", "dnn", "softmax"),
        ("c", "f", "smote", "synthetic", "dnn", "aam"),
        ("c", "f", "none", "real", "svm", "-"),
        ("c", "f", "smote", "synthetic", "svm", "-"),
    ])
    assert pairs == {
        (("none", "real", "dnn", "aam"), ("none", "real", "dnn", "softmax")),
        (("smote", "synthetic", "dnn", "softmax"), ("none", "real", "dnn", "softmax")),
        (("smote", "synthetic", "dnn", "aam"), ("none", "real", "dnn", "softmax")),
        (("smote", "synthetic", "dnn", "aam"), ("smote", "synthetic", "dnn", "softmax")),
        (("smote", "synthetic", "svm", "-"), ("none", "real", "svm", "-")),
    }


def test_comparisons_against_extra_references():
    rows = [
        ("c", "f", "none", "real", "svm", "-"),
        ("c", "f", "smote", "synthetic", "svm", "-"),
        ("c", "f", "smote", "real+synthetic", "svm", "-"),
        ("c", "f", "adan", "synthetic", "svm", "-"),
        ("c", "f", "adan", "real+synthetic", "svm", "-"),
        ("c", "f", "adan", "real+synthetic", "dnn", "softmax"),  # no smote DNN row: nothing to pair
        ("c", "f", "none", "real", "dnn", "softmax"),
    ]
    plain, with_smote = _pairs(rows), _pairs(rows, ["smote"])
    assert with_smote - plain == {
        (("adan", "synthetic", "svm", "-"), ("smote", "synthetic", "svm", "-")),
        (("adan", "real+synthetic", "svm", "-"), ("smote", "real+synthetic", "svm", "-")),
    }
    assert plain <= with_smote


def test_extra_reference_rows_join_the_holm_family():
    pred = _predictions(_baseline_wrong, lambda s, k, u: _baseline_wrong(s, k, u) and u % 2 == 0, seeds=(0,))
    other = pred[pred["method"] != "none"].assign(method="adan")
    pred = pd.concat([pred, other], ignore_index=True)
    plain = significance_table(pred, CLASSES, n_resamples=500)
    both = significance_table(pred, CLASSES, n_resamples=500, references=["smote"])
    extra = both[both["ref_method"] == "smote"]
    assert len(plain) == 4 and len(both) == 6 and len(extra) == 2
    np.testing.assert_allclose(extra["diff"], 0.0)  # adan's rows repeat smote's here
    smote = both[(both["method"] == "smote")]["p_holm"].to_numpy()
    assert (smote >= plain[plain["method"] == "smote"]["p_holm"].to_numpy()).all()  # a larger family


def test_unpaired_seeds_are_an_error():
    pred = _predictions(_baseline_wrong, _baseline_wrong, seeds=(0, 1))
    pred = pred[~((pred["method"] == "none") & (pred["seed"] == 1))]
    with pytest.raises(AdanError, match=r"seeds \[0, 1\] but its reference has \[0\]$"):
        significance_table(pred, CLASSES)


def test_same_seed_same_table():
    pred = _predictions(_baseline_wrong, lambda s, k, u: _baseline_wrong(s, k, u) and s % 2 == 0, seeds=(0, 1))
    a = significance_table(pred, CLASSES, n_resamples=500, seed=3)
    b = significance_table(pred, CLASSES, n_resamples=500, seed=3)
    pd.testing.assert_frame_equal(a, b)
