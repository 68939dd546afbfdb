"""Paired comparisons of combinations under leave-one-speaker-out: bootstrap intervals, sign-flip
permutation tests and Holm's correction.

Under leave-one-speaker-out the test speaker is the independent unit (utterances of one speaker
share a voice, a recording session and a fold's model), so nothing here resamples utterances:

- **Difference** (``diff``): pooled WA or UAR as in ``results.csv`` — predictions of all folds
  pooled per seed, then the mean over seeds — of the combination minus that of its reference.
- **Interval** (``ci_low``, ``ci_high``): percentile bootstrap (``scipy.stats.bootstrap``) that
  resamples test speakers with replacement; a drawn speaker brings all its utterances of every seed,
  for the combination and its reference alike (paired), and the difference is recomputed pooled.
- **Test** (``p``): sign-flip permutation test (``scipy.stats.permutation_test``,
  ``permutation_type="samples"``, two-sided) on the per-(speaker, seed) differences
  d[s, k] = metric(combination on speaker s, seed k) − metric(reference on s, k), WA or UAR computed
  on that speaker's utterances alone; the statistic is the mean of d and the null flips the sign of
  each pair independently (exact enumeration when 2^pairs ≤ ``n_resamples``). With one seed the
  pairs are the speakers; with several, a speaker's seeds are pairs of their own,
  so the test speaks about speakers *and* training randomness together.
- **Holm** (``statsmodels.stats.multitest.multipletests(method="holm")``): over every row (each
  comparison × metric) of one corpus × feature set table; ``significant`` = Holm-adjusted p < alpha.

Reference of a combination: the ``method = none``, ``train_data = real`` row of the same classifier
with its plain head (``softmax`` for the DNN, ``-`` for the SVM); a non-plain head is also compared
with the plain head on the same data; with ``references`` (``eval.references``, e.g. ``[smote]``)
every other augmented combination is also compared with each listed method on the same train data,
classifier and head (e.g. a generator against SMOTE), in the same Holm family. Where the
predictions carry a ``train_fraction`` column (a learning-curve run), it is a key column like the
others: a combination is compared with the reference of its own fraction only, and the table
carries the column too. Holm's family is still the
whole corpus × feature set table, every fraction included.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from adan_ser.contracts.results import KEY, key_columns
from adan_ser.core.errors import AdanError

PLAIN_HEADS = ("softmax", "-")
METRICS = ("wa", "uar")
STAT_COLUMNS = [
    "ref_method", "ref_train_data", "ref_head", "metric", "n_seeds", "n_speakers",
    "mean", "std", "ref_mean", "ref_std", "diff", "ci_low", "ci_high", "p", "p_holm", "significant",
]
#: Columns of the table of predictions without ``train_fraction``; with it, it follows KEY.
TABLE_COLUMNS = KEY + STAT_COLUMNS


# ------------------------------------------------------------------------------- counts and metrics

def counts(predictions: pd.DataFrame, classes: Sequence[str], speakers: Sequence[str], seeds: Sequence[int]):
    """Hits and support per speaker × seed × class of one combination.

    ``predictions``: rows of one combination with ``speaker``, ``seed``, ``true``, ``pred``.
    Returns (hits, support), both (S, K, C) float arrays in ``speakers``, ``seeds``, ``classes`` order.
    """
    s_idx = pd.Index(list(speakers)).get_indexer(predictions["speaker"].astype(str))
    k_idx = pd.Index(list(seeds)).get_indexer(predictions["seed"])
    c_idx = pd.Index(list(classes)).get_indexer(predictions["true"].astype(str))
    if (s_idx < 0).any() or (k_idx < 0).any() or (c_idx < 0).any():
        raise AdanError("predictions hold a speaker, seed or class outside the compared sets")
    shape = (len(speakers), len(seeds), len(classes))
    flat = np.ravel_multi_index((s_idx, k_idx, c_idx), shape)
    correct = (predictions["true"].astype(str).to_numpy() == predictions["pred"].astype(str).to_numpy())
    size = int(np.prod(shape))
    support = np.bincount(flat, minlength=size).reshape(shape).astype(float)
    hits = np.bincount(flat, weights=correct.astype(float), minlength=size).reshape(shape)
    return hits, support


def wa(hits: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Percent correct over the last (class) axis: (..., C) → (...)."""
    return 100.0 * hits.sum(-1) / support.sum(-1)


def uar(hits: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Mean recall in percent over the classes with support: (..., C) → (...)."""
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=present)
    return 100.0 * recall.sum(-1) / present.sum(-1)


METRIC_FUNCS = {"wa": wa, "uar": uar}


def pooled(hits: np.ndarray, support: np.ndarray, metric: str) -> np.ndarray:
    """Per-seed pooled metric from (..., S, K, C) counts: sums over speakers → (..., K)."""
    return METRIC_FUNCS[metric](hits.sum(-3), support.sum(-3))


# ------------------------------------------------------------------------------------ the statistics

def bootstrap_ci(hits_a, hits_b, support, metric: str, *, n_resamples: int = 9999,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of mean-over-seeds pooled ``metric``(a) − (b), resampling speakers.

    hits_a, hits_b, support: (S, K, C) counts of the two combinations on the same utterances.
    Fewer than two speakers → (NaN, NaN).
    """
    n_speakers = hits_a.shape[0]
    if n_speakers < 2:
        return float("nan"), float("nan")  # one speaker: nothing to resample

    def diff(idx, axis=-1):
        idx = np.moveaxis(np.asarray(idx), axis, -1)  # (..., S') speaker draws
        a = pooled(hits_a[idx], support[idx], metric).mean(-1)
        b = pooled(hits_b[idx], support[idx], metric).mean(-1)
        return a - b

    res = stats.bootstrap((np.arange(n_speakers),), diff, n_resamples=n_resamples, vectorized=True,
                          confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed),
                          batch=1000)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def per_speaker(hits: np.ndarray, support: np.ndarray, metric: str) -> np.ndarray:
    """(S, K, C) counts → (S, K) ``metric`` of every speaker × seed on that speaker's utterances."""
    return METRIC_FUNCS[metric](hits, support)


def sign_flip_test(a: np.ndarray, b: np.ndarray, *, n_resamples: int = 9999, seed: int = 0) -> float:
    """Two-sided p of mean(a − b) = 0 by flipping the sign of each pair; a, b: (n_pairs,) paired values."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    if len(a) != len(b) or len(a) == 0:
        raise AdanError(f"sign-flip test needs equal, non-empty paired samples, got {len(a)} and {len(b)}")
    if np.all(a == b):
        return 1.0  # every sign pattern gives the observed statistic 0
    res = stats.permutation_test((a, b), lambda x, y, axis=-1: np.mean(x - y, axis=axis),
                                 permutation_type="samples", vectorized=True, n_resamples=n_resamples,
                                 alternative="two-sided", rng=np.random.default_rng(seed))
    return float(res.pvalue)


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm step-down correction: (adjusted p (m,), rejected (m,) bool) at family-wise level ``alpha``.

    NaN p-values (comparisons that could not be tested) stay NaN, are never rejected and do not
    count in the family.
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted, reject = np.full(len(p), np.nan), np.zeros(len(p), dtype=bool)
    ok = np.isfinite(p)
    if ok.any():
        reject[ok], adjusted[ok], _, _ = multipletests(p[ok], alpha=alpha, method="holm")
    return adjusted, reject


# --------------------------------------------------------------------------------- the table

def comparisons(keys: pd.DataFrame, references: Sequence[str] = ()) -> list[tuple[tuple, tuple]]:
    """(combination key, reference key) pairs for the distinct key rows of ``keys``, in their order.

    Keys are tuples over :func:`~adan_ser.contracts.results.key_columns` of ``keys``; a reference
    differs from its combination in method, train data and/or head only (so within a training
    fraction). ``references``: methods every other augmented row (not ``none``) is also compared
    with, on its own train data, classifier and head, where that row exists.
    """
    cols = key_columns(keys)
    rows = [tuple(r) for r in keys[cols].drop_duplicates().itertuples(index=False)]
    present = set(rows)
    pos = {c: i for i, c in enumerate(cols)}

    def with_(row, **values):
        out = list(row)
        for column, value in values.items():
            out[pos[column]] = value
        return tuple(out)

    out = []
    for row in rows:
        method, head = row[pos["method"]], row[pos["head"]]
        plain = [with_(row, method="none", train_data="real", head=h) for h in PLAIN_HEADS]
        refs = [r for r in plain if r in present][:1]
        if head not in PLAIN_HEADS and method != "none":
            refs += [r for r in (with_(row, head=h) for h in PLAIN_HEADS) if r in present][:1]
        if method != "none":
            refs += [r for r in (with_(row, method=m) for m in references if m != method) if r in present]
        for ref in dict.fromkeys(refs):
            if ref != row:
                out.append((row, ref))
    return out


def significance_table(predictions: pd.DataFrame, classes: Sequence[str], *, alpha: float = 0.05,
                       confidence: float = 0.95, n_resamples: int = 9999, seed: int = 0,
                       references: Sequence[str] = ()) -> pd.DataFrame:
    """One row per comparison × metric (WA, UAR) with the columns of :data:`TABLE_COLUMNS`.

    ``predictions``: one row per (combination, seed, test utterance) with KEY columns (and
    ``train_fraction`` where present, then also a column of the table), ``seed``, ``speaker``,
    ``file``, ``true``, ``pred``. A combination and its reference must cover the same seeds and
    utterances (they are paired). ``seed`` seeds the resampling only; ``references``: extra
    reference methods (:func:`comparisons`). Percent units.
    """
    classes = [str(c) for c in classes]
    cols = key_columns(predictions)
    pos = {c: i for i, c in enumerate(cols)}
    groups = {k: part for k, part in predictions.groupby(cols, sort=False)}
    records = []
    for row, ref in comparisons(predictions, references):
        a, b = groups[row], groups[ref]
        seeds = sorted(a["seed"].unique())
        if sorted(b["seed"].unique()) != seeds:
            raise AdanError(f"cannot pair {'/'.join(map(str, row))}: seeds {seeds} but its reference has "
                            f"{sorted(b['seed'].unique())}")
        if set(zip(a["seed"], a["file"])) != set(zip(b["seed"], b["file"])):
            raise AdanError(f"cannot pair {'/'.join(map(str, row))}: its test utterances differ from its reference's")
        speakers = sorted(a["speaker"].astype(str).unique())
        hits_a, support = counts(a, classes, speakers, seeds)
        hits_b, _ = counts(b, classes, speakers, seeds)
        for metric in METRICS:
            per_seed_a = pooled(hits_a, support, metric)
            per_seed_b = pooled(hits_b, support, metric)
            lo, hi = bootstrap_ci(hits_a, hits_b, support, metric, n_resamples=n_resamples,
                                  confidence=confidence, seed=seed)
            p = float("nan")
            if len(speakers) >= 2:  # one speaker is one independent unit: nothing to test
                p = sign_flip_test(per_speaker(hits_a, support, metric), per_speaker(hits_b, support, metric),
                                   n_resamples=n_resamples, seed=seed)
            records.append(dict(
                zip(cols, row), ref_method=ref[pos["method"]], ref_train_data=ref[pos["train_data"]],
                ref_head=ref[pos["head"]], metric=metric,
                n_seeds=len(seeds), n_speakers=len(speakers),
                mean=per_seed_a.mean(), std=_std(per_seed_a), ref_mean=per_seed_b.mean(), ref_std=_std(per_seed_b),
                diff=per_seed_a.mean() - per_seed_b.mean(), ci_low=lo, ci_high=hi, p=p,
            ))
    table = pd.DataFrame(records, columns=cols + STAT_COLUMNS)
    p_holm = np.full(len(table), np.nan)
    significant = np.zeros(len(table), dtype=bool)
    for _, idx in table.groupby(["corpus", "feature_set"], sort=False).indices.items():
        p_holm[idx], significant[idx] = holm(table["p"].to_numpy()[idx], alpha)
    return table.assign(p_holm=p_holm, significant=significant)


def _std(values: np.ndarray) -> float:
    """Sample standard deviation over seeds; NaN for a single seed."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
