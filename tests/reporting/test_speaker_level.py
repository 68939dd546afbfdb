"""The test speaker as the unit: seeds add no units, calibration under no effect, the exact sign-flip
null, equivalence verdicts, the detectable effect and pooling across corpora."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adan_ser.core.errors import AdanError
from adan_ser.reporting.pool import pool_from_folders, pool_table
from adan_ser.reporting.significance import add_tests, significance_table, unit_differences
from adan_ser.reporting.paired_stats import FlipNull, detectable_effect, sign_flip_p, tost_p, two_stage_ci

CLASSES = ["a", "b", "c"]


def _predictions(seeds=(0,), n_speakers=10, n_utt=12, copy_seed0=False, corpus="emodb"):
    """none/real and smote/real+synthetic SVM predictions; the method's errors differ per speaker."""
    rows = []
    for seed in seeds:
        k = 0 if copy_seed0 else seed
        for s in range(n_speakers):
            for u in range(n_utt):
                t = CLASSES[u % 3]
                for method, use, wrong in (("none", "real", (u * 7 + s * 3 + k) % 12 < 6),
                                           ("smote", "real+synthetic", (u * 5 + s * 2 + k) % 12 < 4 + s % 4)):
                    rows.append(dict(corpus=corpus, feature_set="IS11", method=method, train_data=use,
                                     classifier="svm", head="-", seed=seed, fold=f"s{s}", file=f"s{s}_{u:02d}.wav",
                                     speaker=f"s{s}", true=t, pred=CLASSES[(u + 1) % 3] if wrong else t))
    return pd.DataFrame(rows)


# (a) -------------------------------------------------------------------------- seeds are not units

def test_identical_seeds_give_exactly_the_one_seed_p():
    one = significance_table(_predictions(seeds=(0,)), CLASSES, n_resamples=999)
    three = significance_table(_predictions(seeds=(0, 1, 2), copy_seed0=True), CLASSES, n_resamples=999)
    assert (three["n_seeds"] == 3).all() and (three["n_units"] == 10).all()
    for col in ("diff", "p", "p_holm", "ci_low", "ci_high", "detectable"):
        np.testing.assert_array_equal(three[col].to_numpy(), one[col].to_numpy())
    assert one["p"].min() >= 2 / 2 ** 10  # 10 speakers: the exact test's floor


def test_the_unit_is_the_fold_and_its_kind_is_named():
    table = significance_table(_predictions(), CLASSES, n_resamples=99)
    assert set(table["unit"]) == {"speaker"}
    assert table["statistic"].tolist() == ["mean over speakers of per-speaker WA",
                                           "mean over speakers of per-speaker UAR"]
    sessions = _predictions().assign(fold=lambda d: "ses" + (d["speaker"].str[1:].astype(int) // 2).astype(str))
    table = significance_table(sessions, CLASSES, n_resamples=99)
    assert set(table["unit"]) == {"session"} and (table["n_units"] == 5).all()


# (b) ------------------------------------------------------------------------------- calibration

def test_false_positive_rate_under_no_effect_is_at_most_alpha():
    """400 no-effect datasets of 10 speakers × 3 seeds: a speaker effect (mean 0, shared by its seeds)
    plus seed noise. The speaker-level test keeps alpha; flipping speaker × seed pairs would not."""
    rng = np.random.default_rng(1)
    null, pairs_null = FlipNull(10), FlipNull(30, 2000, 0)
    hits = pair_hits = covered = 0
    n = 400
    for i in range(n):
        d = rng.normal(0, 2, (10, 1)) + rng.normal(0, 1, (10, 3))
        hits += sign_flip_p(d.mean(axis=1), null) < 0.05
        pair_hits += sign_flip_p(d.ravel(), pairs_null) < 0.05
        lo, hi = two_stage_ci(d, n_resamples=499, seed=i)
        covered += lo <= 0.0 <= hi
    assert hits / n <= 0.05 + 0.02
    assert pair_hits / n > 0.15  # pseudo-replication: seeds counted as units reject far too often
    assert covered / n >= 0.90  # the 95 % two-stage interval (percentile; slightly short with 10 units)


# (c) ------------------------------------------------------------------------- the exact null

def test_sign_flip_p_equals_scipys_exact_permutation_test():
    d = np.array([1.5, -0.5, 2.0, 0.7, 3.1, -1.2, 0.4, 2.2, -0.3, 1.1])
    ref = stats.permutation_test((d, np.zeros_like(d)), lambda x, y, axis=-1: np.mean(x - y, axis=axis),
                                 permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
    assert sign_flip_p(d) == pytest.approx(ref.pvalue, abs=1e-12)
    for alternative in ("greater", "less"):
        ref = stats.permutation_test((d, np.zeros_like(d)), lambda x, y, axis=-1: np.mean(x - y, axis=axis),
                                     permutation_type="samples", n_resamples=np.inf, alternative=alternative)
        assert sign_flip_p(d, alternative=alternative) == pytest.approx(ref.pvalue, abs=1e-12)
    assert sign_flip_p(np.ones(10)) == 2 / 1024  # all alike: only all-plus and all-minus are as extreme
    assert sign_flip_p(np.zeros(4)) == 1.0


def test_monte_carlo_null_above_twenty_units():
    d = np.r_[np.ones(24), -0.2]
    null = FlipNull(25, 999, seed=3)
    assert not null.exact and null.signs.shape == (999, 25)
    p = sign_flip_p(d, null)
    assert p == pytest.approx(1 / 1000, abs=1e-12)  # nothing as extreme among 999 draws: (1 + 0) / (1 + 999)


# (e) ---------------------------------------------------------------------------- equivalence

def _verdicts(diffs, margin=1.0, alpha=0.05):
    table = pd.DataFrame({"corpus": "c", "family": "primary", "diff": [float(np.mean(d)) for d in diffs]})
    return add_tests(table, [np.asarray(d, float) for d in diffs], alpha=alpha, n_resamples=999, seed=0,
                     equivalence_margin=margin, groups=["corpus", "family"])


def test_tost_labels_on_constructed_differences():
    rng = np.random.default_rng(0)
    better = 5 + rng.uniform(-0.5, 0.5, 10)
    worse = -better
    tiny = rng.uniform(-0.2, 0.2, 10)  # every speaker within ±0.2 of no change
    wide = np.array([6.0, -5, 4, -7, 5, -4, 6, -6, 3, -2])  # mean −0, far too spread to say
    out = _verdicts([better, worse, tiny, wide])
    assert out["verdict"].tolist() == ["better", "worse", "equivalent", "inconclusive"]
    # every shifted difference lies on one side: each one-sided p is the floor 1/1024, Holm over 4
    assert out.loc[2, "p_equiv"] == pytest.approx(1 / 1024)
    assert out.loc[2, "p_equiv_holm"] == pytest.approx(4 / 1024)
    assert (out["margin"] == 1.0).all()
    no_margin = _verdicts([tiny], margin=0.0)
    assert np.isnan(no_margin.loc[0, "p_equiv"]) and no_margin.loc[0, "verdict"] == "inconclusive"
    assert np.isnan(tost_p(tiny, 0.0))


def test_a_consistent_small_gain_inside_the_margin_is_better_not_equivalent():
    out = _verdicts([np.full(10, 0.5)])
    assert out.loc[0, "verdict"] == "better"  # significant difference wins over equivalence


# detectable effect ------------------------------------------------------------------------------

def test_detectable_effect_is_the_smallest_shift_the_test_calls():
    d = np.array([1.5, -0.5, 2.0, 0.7, 3.1, -1.2, 0.4, 2.2, -0.3, 1.1])
    delta = detectable_effect(d, 0.05)
    centred = d - d.mean()
    assert sign_flip_p(centred + delta + 1e-3) < 0.05 <= sign_flip_p(centred + delta - 1e-3)
    assert detectable_effect(d, 0.05 / 6) > delta  # a larger family needs a larger effect
    assert detectable_effect(d[:5], 0.05) == float("inf")  # 5 units: 2/32 ≥ 0.05, nothing can be called


# (f) ---------------------------------------------------------------------------------- pooling

def _differences(corpus, n_speakers, seeds, offset, family="primary"):
    pred = _predictions(seeds=seeds, n_speakers=n_speakers, corpus=corpus)
    primary = [{"method": "smote", "classifier": "svm", "train_data": "real+synthetic"}] if family == "primary" else []
    return unit_differences(pred, CLASSES, primary=primary).assign(d=lambda t: t["d"] + offset)


def test_pooling_two_corpora_equals_the_stratified_test_by_hand():
    a = _differences("emodb", 4, (0, 1), 0.0)
    b = _differences("ravdess", 5, (0,), 1.0)
    table = pool_table([a, b], n_resamples=499, equivalence_margin=1.0)
    uar = table[table["metric"] == "uar"]
    assert uar["corpus"].tolist() == ["emodb", "ravdess", "pooled"]
    # by hand: seeds averaged per speaker, then all 9 speakers' differences in one vector
    by_speaker = pd.concat([t[t["metric"] == "uar"].groupby("unit_id")["d"].mean() for t in (a, b)])
    d = by_speaker.to_numpy()
    observed = d.mean()
    flips = np.array(list(itertools.product([1.0, -1.0], repeat=len(d))))
    p = np.mean(np.abs(flips @ d / len(d)) >= abs(observed) - 1e-12)
    pooled = uar[uar["corpus"] == "pooled"].iloc[0]
    assert pooled["n_units"] == 9 and pooled["diff"] == pytest.approx(observed)
    assert pooled["p"] == pytest.approx(p)
    assert pooled["family"] == "primary" and pooled["p_holm"] == pytest.approx(min(1.0, p))  # a family of one
    assert uar.iloc[0]["p"] == pytest.approx(sign_flip_p(by_speaker.iloc[:4].to_numpy()))
    assert (table[table["metric"] == "wa"]["family"] == "exploratory").all()


def test_pool_refuses_one_run_and_two_runs_of_one_corpus():
    a = _differences("emodb", 4, (0,), 0.0)
    with pytest.raises(AdanError, match="at least two"):
        pool_table([a])
    with pytest.raises(AdanError, match="emodb"):
        pool_table([a, a])


def test_pool_from_folders_writes_all_or_nothing(tmp_path):
    for name, n, off in (("emodb", 10, 0.0), ("ravdess", 24, 0.5)):
        (tmp_path / name).mkdir()
        _differences(name, n, (0,), off).to_csv(tmp_path / name / "speaker_differences.csv", index=False)
    out = tmp_path / "pool"
    with pytest.raises(AdanError, match="speaker_differences.csv"):
        pool_from_folders([tmp_path / "emodb", tmp_path / "nothing"], out)
    assert not out.exists()
    table = pool_from_folders([tmp_path / "emodb", tmp_path / "ravdess"], out, n_resamples=299)
    assert sorted(p.name for p in out.iterdir()) == ["forest.png", "pooled.csv", "pooled.md"]
    pooled = table[(table["corpus"] == "pooled") & (table["metric"] == "uar")].iloc[0]
    assert pooled["n_units"] == 34  # above 20 units: a seeded Monte Carlo null
    assert 0 < pooled["p"] <= 1 and pooled["ci_low"] <= pooled["diff"] <= pooled["ci_high"]


# (7) ------------------------------------------------------------------- the primary family is fixed

def test_primary_correction_does_not_change_when_rows_are_added():
    primary = [{"method": "smote", "classifier": "svm", "train_data": "real+synthetic"}]
    pred = _predictions()
    alone = significance_table(pred, CLASSES, n_resamples=99, primary=primary)
    more = pd.concat([pred, pred[pred["method"] == "smote"].assign(method="adan"),
                      pred[pred["method"] == "smote"].assign(method="noise")], ignore_index=True)
    grown = significance_table(more, CLASSES, n_resamples=99, primary=primary)
    pick = lambda t: t[t["family"] == "primary"].reset_index(drop=True)  # noqa: E731
    assert len(pick(alone)) == 1 and len(grown) == 3 * len(alone)
    pd.testing.assert_frame_equal(pick(alone), pick(grown))
    assert pick(grown).loc[0, "p_holm"] == pick(grown).loc[0, "p"]  # a family of one: no correction
    exploratory = grown[grown["family"] == "exploratory"]
    assert len(exploratory) == 5 and (exploratory["p_holm"] >= exploratory["p"]).all()


def test_a_run_is_read_from_a_dvc_experiment_or_a_git_revision(tmp_path):
    import subprocess

    from adan_ser.reporting.pool import read_run

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    table = _differences("emodb", 3, (0,), 0.0)
    (tmp_path / "results").mkdir()
    table.to_csv(tmp_path / "results" / "speaker_differences.csv", index=False)
    git("init", "-q")
    git("add", "results")
    git("commit", "-qm", "x")
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    git("update-ref", f"refs/exps/ab/cdef/{sha}/emodb-primary", sha)  # where dvc exp run keeps an experiment
    for run in ("emodb-primary", sha):
        pd.testing.assert_frame_equal(read_run(run, repo=tmp_path), read_run(tmp_path / "results"))
    with pytest.raises(AdanError, match="no-such-run: neither"):
        read_run("no-such-run", repo=tmp_path)


def test_the_table_and_the_differences_share_one_pass_over_the_predictions(monkeypatch):
    from adan_ser.reporting import significance
    from adan_ser.reporting.significance import paired_counts

    predictions = _predictions(seeds=(0, 1))
    table, diffs = significance_table(predictions, CLASSES, n_resamples=99), unit_differences(predictions, CLASSES)
    paired = paired_counts(predictions, CLASSES)
    monkeypatch.setattr(significance, "_paired", None)  # given `paired`, neither goes back to the predictions
    pd.testing.assert_frame_equal(significance_table(predictions, CLASSES, n_resamples=99, paired=paired), table)
    pd.testing.assert_frame_equal(unit_differences(predictions, CLASSES, paired=paired), diffs)


def test_an_exploratory_pool_draws_its_pooled_rows_of_one_metric(tmp_path):
    from PIL import Image

    from adan_ser.reporting.forest import pooled_forest_plot

    one = pool_table([_differences("emodb", 4, (0,), 0.0, family="exploratory"),
                      _differences("ravdess", 5, (0,), 1.0, family="exploratory")], n_resamples=99)
    assert (one["family"] == "exploratory").all() and set(one["metric"]) == {"uar", "wa"}
    many = pd.concat([one.assign(method=f"m{i}", comparison=one["comparison"] + f" m{i}") for i in range(20)])
    pooled_forest_plot(many, tmp_path / "exploratory.png")
    pooled_forest_plot(many.assign(family="primary"), tmp_path / "primary.png")
    # 20 rows (pooled, UAR) against 120 (3 corpus rows × 2 metrics × 20): the picture stays readable
    assert Image.open(tmp_path / "exploratory.png").height * 3 < Image.open(tmp_path / "primary.png").height
