"""Paired comparisons of combinations under cross-validation by test group: the test speaker (in a
session scheme, the session) is the unit of every difference, interval and test.

Utterances of one speaker share a voice, a recording session and a fold's model, and a speaker's run
seeds share its test utterances, so neither utterances nor seeds are independent units. Per
comparison (a combination against its reference, same seeds and test utterances) and metric (WA, UAR):

- **Statistic** (``diff``): d_u = metric(combination on unit u) − metric(reference on u), each metric
  computed on that unit's utterances alone and averaged over the run seeds first; ``diff`` = mean of
  d_u over the U units (percentage points). The pooled figure of ``results.csv`` (all folds pooled per
  seed, mean over seeds) is kept as ``mean``/``ref_mean`` and ``pooled_diff``, descriptive only.
- **Test** (``p``): two-sided sign-flip test of mean d_u = 0 that flips the sign of whole units
  (a unit's seeds flip together): exact over all 2^U patterns when U ≤
  :data:`.paired_stats.EXACT_MAX_UNITS`, else ``n_resamples`` random patterns (seeded) with
  p = (1 + #)/(1 + n_resamples). Identical seeds give exactly the one-seed p: seeds add no units.
- **Interval** (``ci_low``, ``ci_high``): two-stage percentile bootstrap of the same statistic: units
  drawn with replacement, then, within each drawn unit, its seeds drawn with replacement, so the
  interval carries both the speakers' spread and training randomness (seed draws of the augmenters
  and models).
- **Families**: the rows named by ``primary`` (``eval.primary``, at most a few comparisons declared
  before a run) form the confirmatory family; every other row is exploratory. Holm's correction
  (``p_holm``, ``significant``) runs within each family of one corpus × feature set table, so a
  primary row's correction does not change when unrelated rows are added to a run.
- **Equivalence** (``p_equiv``): two one-sided sign-flip tests (TOST) of the unit differences
  shifted by ∓``equivalence_margin``; ``p_equiv`` is the larger one-sided p, Holm-corrected within
  the same family as the difference (``p_equiv_holm``). ``verdict``: ``better`` / ``worse`` (Holm-
  significant difference, by its sign; this wins over equivalence), ``equivalent`` (``p_equiv_holm``
  < alpha), else ``inconclusive``.
- **Detectable effect** (``detectable``): the smallest shift Δ ≥ 0 of the centred unit differences
  (d_u − mean d + Δ) that the same sign-flip test calls significant at alpha / m, m the size of the
  row's family (Holm's first, most lenient step), found by bisection; infinite when even the most
  extreme pattern cannot reach that level (2 / 2^U ≥ alpha / m).

Reference of a combination: the ``method = none``, ``train_data = real`` row of the same classifier
with its plain head (``softmax`` for the DNN, ``-`` for the SVM); a non-plain head is also compared
with the plain head on the same data; with ``references`` (``eval.references``, e.g. ``[smote]``)
every other augmented combination is also compared with each listed method on the same train data,
classifier and head. Where the predictions carry a ``train_fraction`` column (a learning-curve run),
a combination is compared with the reference of its own fraction only.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from adan_ser.contracts.names import PLAIN_HEADS, REFERENCE_METHOD
from adan_ser.contracts.results import FRACTION, KEY, key_columns
from adan_ser.core.errors import AdanError
from adan_ser.reporting.paired_stats import (
    FlipNull,
    detectable_effect,
    holm,
    sign_flip_p,
    tost_p,
    two_stage_ci,
)

METRICS = ("wa", "uar")
PRIMARY, EXPLORATORY = "primary", "exploratory"
VERDICTS = ("better", "worse", "equivalent", "inconclusive")
STAT_COLUMNS = [
    "ref_method", "ref_train_data", "ref_head", "metric", "unit", "statistic", "n_seeds", "n_units",
    "mean", "std", "ref_mean", "ref_std", "pooled_diff", "diff", "ci_low", "ci_high", "p", "family",
    "p_holm", "significant", "margin", "p_equiv", "p_equiv_holm", "verdict", "detectable",
]
#: Columns of the table of predictions without ``train_fraction``; with it, it follows KEY.
TABLE_COLUMNS = KEY + STAT_COLUMNS
#: Keys of one ``eval.primary`` entry and their defaults (None: required; "head" None: plain head,
#: "fraction" None: whole training folds, 1.0).
PRIMARY_KEYS = {"method": None, "reference": REFERENCE_METHOD, "classifier": None, "train_data": None,
                "fraction": None, "metric": "uar", "head": None}
#: Columns of the per-unit differences (``speaker_differences.csv``), one row per comparison ×
#: metric × unit × seed; ``d`` in percentage points. Read back by :mod:`adan_ser.reporting.pool`.
DIFFERENCE_COLUMNS = ["ref_method", "ref_train_data", "ref_head", "metric", "family", "unit", "unit_id",
                      "seed", "d"]


# ------------------------------------------------------------------------------- counts and metrics

def counts(predictions: pd.DataFrame, classes: Sequence[str], speakers: Sequence[str], seeds: Sequence[int],
           unit_column: str = "speaker"):
    """Hits and support per unit × seed × class of one combination.

    ``predictions``: rows of one combination with ``unit_column`` (the unit: ``speaker``, or ``fold``
    for the test group of a fold), ``seed``, ``true``, ``pred``. Returns (hits, support), both
    (S, K, C) float arrays in ``speakers`` (the units), ``seeds``, ``classes`` order.
    """
    s_idx = pd.Index(list(speakers)).get_indexer(predictions[unit_column].astype(str))
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


def per_speaker(hits: np.ndarray, support: np.ndarray, metric: str) -> np.ndarray:
    """(S, K, C) counts → (S, K) ``metric`` of every unit × seed on that unit's utterances."""
    return METRIC_FUNCS[metric](hits, support)


def unit_kind(predictions: pd.DataFrame) -> str:
    """``speaker`` when every fold tests one speaker and every speaker is tested in one fold
    (leave-one-speaker-out), else ``session`` (a fold's test group holds several speakers)."""
    pairs = predictions[["fold", "speaker"]].astype(str).drop_duplicates()
    one_to_one = pairs["fold"].is_unique and pairs["speaker"].is_unique
    return "speaker" if one_to_one else "session"


def statistic_name(metric: str, unit: str) -> str:
    """The tested statistic in words, e.g. ``mean over speakers of per-speaker UAR``."""
    return f"mean over {unit}s of per-{unit} {metric.upper()}"


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
        plain = [with_(row, method=REFERENCE_METHOD, train_data="real", head=h) for h in PLAIN_HEADS]
        refs = [r for r in plain if r in present][:1]
        if head not in PLAIN_HEADS and method != REFERENCE_METHOD:
            refs += [r for r in (with_(row, head=h) for h in PLAIN_HEADS) if r in present][:1]
        if method != REFERENCE_METHOD:
            refs += [r for r in (with_(row, method=m) for m in references if m != method) if r in present]
        for ref in dict.fromkeys(refs):
            if ref != row:
                out.append((row, ref))
    return out


def _entry(spec: Mapping, i: int) -> dict:
    """One ``eval.primary`` entry with its defaults filled in; unknown or missing keys → AdanError."""
    unknown = set(spec) - set(PRIMARY_KEYS)
    if unknown:
        raise AdanError(f"eval.primary[{i}].{sorted(unknown)[0]}: unknown key; known: {', '.join(PRIMARY_KEYS)}")
    entry = {k: spec.get(k, v) if spec.get(k) is not None else v for k, v in PRIMARY_KEYS.items()}
    for k in ("method", "classifier", "train_data"):
        if entry[k] is None:
            raise AdanError(f"eval.primary[{i}].{k}: missing")
    return entry


def describe_primary(spec: Mapping) -> str:
    """``adan_latent vs smote, svm, real+synthetic, fraction 1, uar`` for messages."""
    e = {k: spec.get(k, v) if spec.get(k) is not None else v for k, v in PRIMARY_KEYS.items()}
    head = f", head {e['head']}" if e["head"] else ""
    return (f"{e['method']} vs {e['reference']}, {e['classifier']}{head}, {e['train_data']}, "
            f"fraction {float(e['fraction'] if e['fraction'] is not None else 1.0):g}, {e['metric']}")


def primary_mask(table: pd.DataFrame, primary: Sequence[Mapping] = ()) -> np.ndarray:
    """(n_rows,) bool: the rows of a significance table that ``primary`` entries name.

    An entry matches the row of its method against its reference (``none`` on real data by default,
    else that method on the same train data), classifier, train data, metric, head (default: the
    plain one) and training fraction (default 1.0, whole folds) in every corpus × feature set of the
    table. An entry that matches no row → AdanError naming ``eval.primary[i]``.
    """
    mask = np.zeros(len(table), dtype=bool)
    for i, spec in enumerate(primary):
        e = _entry(spec, i)
        hit = ((table["method"] == e["method"]) & (table["ref_method"] == e["reference"])
               & (table["classifier"] == e["classifier"]) & (table["train_data"] == e["train_data"])
               & (table["metric"] == e["metric"]))
        hit &= (table["head"] == e["head"]) if e["head"] else table["head"].isin(PLAIN_HEADS)
        fraction = float(e["fraction"]) if e["fraction"] is not None else 1.0
        if FRACTION in table:
            hit &= np.isclose(table[FRACTION].astype(float), fraction)
        elif fraction != 1.0:
            hit &= False
        if not hit.any():
            raise AdanError(f"eval.primary[{i}] ({describe_primary(spec)}) matches no comparison of this run")
        mask |= hit.to_numpy()
    return mask


def primary_references(primary: Sequence[Mapping] = ()) -> list[str]:
    """The reference methods other than ``none`` that ``primary`` entries need compared."""
    refs = [_entry(spec, i)["reference"] for i, spec in enumerate(primary)]
    return list(dict.fromkeys(r for r in refs if r != REFERENCE_METHOD))


def paired_counts(predictions: pd.DataFrame, classes: Sequence[str], *, references: Sequence[str] = (),
                  primary: Sequence[Mapping] = (), pairs=None) -> list[tuple]:
    """(row key, reference key, units, seeds, hits_a, hits_b, support) per comparison (``pairs`` of
    keys, default :func:`comparisons` with ``references`` and those ``primary`` names); the units are
    the folds' test groups (``fold``). Unpaired seeds or utterances → AdanError.

    The one pass over the predictions that :func:`significance_table` and :func:`unit_differences`
    share: compute it once and give it to both as ``paired``.
    """
    references = list(dict.fromkeys([*references, *primary_references(primary)]))
    return list(_paired(predictions, classes, references, pairs))


def _paired(predictions: pd.DataFrame, classes: Sequence[str], references: Sequence[str], pairs=None):
    classes = [str(c) for c in classes]
    cols = key_columns(predictions)
    groups = {k: part for k, part in predictions.groupby(cols, sort=False)}
    for row, ref in (comparisons(predictions, references) if pairs is None else pairs):
        a, b = groups[row], groups[ref]
        seeds, ref_seeds = (sorted(int(s) for s in part["seed"].unique()) for part in (a, b))
        if ref_seeds != seeds:
            raise AdanError(f"cannot pair {'/'.join(map(str, row))}: seeds {seeds} but its reference has {ref_seeds}")
        if set(zip(a["seed"], a["file"])) != set(zip(b["seed"], b["file"])):
            raise AdanError(f"cannot pair {'/'.join(map(str, row))}: its test utterances differ from its reference's")
        units = sorted(a["fold"].astype(str).unique())
        hits_a, support = counts(a, classes, units, seeds, unit_column="fold")
        hits_b, _ = counts(b, classes, units, seeds, unit_column="fold")
        yield row, ref, units, seeds, hits_a, hits_b, support


def significance_table(predictions: pd.DataFrame, classes: Sequence[str], *, alpha: float = 0.05,
                       confidence: float = 0.95, n_resamples: int = 9999, seed: int = 0,
                       references: Sequence[str] = (), primary: Sequence[Mapping] = (),
                       equivalence_margin: float | None = None, pairs=None,
                       paired: Sequence[tuple] | None = None) -> pd.DataFrame:
    """One row per comparison × metric (WA, UAR) with the columns of :data:`TABLE_COLUMNS`.

    ``predictions``: one row per (combination, seed, test utterance) with KEY columns (and
    ``train_fraction`` where present, then also a column of the table), ``seed``, ``fold``,
    ``speaker``, ``file``, ``true``, ``pred``. A combination and its reference must cover the same
    seeds and utterances (they are paired). ``seed`` seeds the resampling only; ``references``: extra
    reference methods (:func:`comparisons`; the references ``primary`` names are added);
    ``primary``: the confirmatory family (:func:`primary_mask`); ``equivalence_margin``: TOST margin
    in percentage points (None or 0: no equivalence test); ``pairs``: (combination key, reference
    key) tuples over :func:`key_columns` to compare instead of :func:`comparisons` (two runs of one
    corpus, :mod:`adan_ser.reporting.compare`); ``paired``: :func:`paired_counts` of these arguments,
    when already computed. Percent units; see the module docstring.
    """
    cols = key_columns(predictions)
    pos = {c: i for i, c in enumerate(cols)}
    if paired is None:
        paired = paired_counts(predictions, classes, references=references, primary=primary, pairs=pairs)
    unit = unit_kind(predictions) if len(predictions) else "speaker"
    records, diffs = [], []
    for row, ref, units, seeds, hits_a, hits_b, support in paired:
        for metric in METRICS:
            per_seed_a, per_seed_b = pooled(hits_a, support, metric), pooled(hits_b, support, metric)
            d = per_speaker(hits_a, support, metric) - per_speaker(hits_b, support, metric)  # (U, K)
            lo, hi = two_stage_ci(d, n_resamples=n_resamples, confidence=confidence, seed=seed)
            diffs.append(d.mean(axis=1))
            records.append(dict(
                zip(cols, row), ref_method=ref[pos["method"]], ref_train_data=ref[pos["train_data"]],
                ref_head=ref[pos["head"]], metric=metric, unit=unit, statistic=statistic_name(metric, unit),
                n_seeds=len(seeds), n_units=len(units),
                mean=per_seed_a.mean(), std=_std(per_seed_a), ref_mean=per_seed_b.mean(), ref_std=_std(per_seed_b),
                pooled_diff=per_seed_a.mean() - per_seed_b.mean(), diff=float(d.mean(axis=1).mean()),
                ci_low=lo, ci_high=hi,
            ))
    table = pd.DataFrame(records, columns=cols + STAT_COLUMNS)
    table["family"] = np.where(primary_mask(table, primary), PRIMARY, EXPLORATORY).astype(object)
    return add_tests(table, diffs, alpha=alpha, n_resamples=n_resamples, seed=seed,
                  equivalence_margin=equivalence_margin, groups=["corpus", "feature_set", "family"])


def add_tests(table: pd.DataFrame, diffs: Sequence[np.ndarray], *, alpha: float, n_resamples: int, seed: int,
           equivalence_margin: float | None, groups: Sequence[str]) -> pd.DataFrame:
    """Fill p, p_holm, significant, margin, p_equiv, p_equiv_holm, verdict, detectable of ``table``,
    whose row i has the per-unit differences ``diffs[i]`` (n_units,); Holm within ``groups``."""
    n = len(table)
    p, p_equiv, detectable = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    family_size = np.zeros(n, dtype=int)
    for _, idx in table.groupby(list(groups), sort=False).indices.items():
        family_size[idx] = sum(len(diffs[i]) >= 2 for i in idx)
    nulls = {}
    for i, d in enumerate(diffs):
        if len(d) < 2:  # one unit is one independent observation: nothing to test
            continue
        null = nulls.setdefault(len(d), FlipNull(len(d), n_resamples, seed))
        p[i] = sign_flip_p(d, null)
        p_equiv[i] = tost_p(d, equivalence_margin, null)
        detectable[i] = detectable_effect(d, alpha / max(family_size[i], 1), null)
    p_holm, significant = np.full(n, np.nan), np.zeros(n, dtype=bool)
    p_equiv_holm, equivalent = np.full(n, np.nan), np.zeros(n, dtype=bool)
    for _, idx in table.groupby(list(groups), sort=False).indices.items():
        p_holm[idx], significant[idx] = holm(p[idx], alpha)
        p_equiv_holm[idx], equivalent[idx] = holm(p_equiv[idx], alpha)
    diff = table["diff"].to_numpy(dtype=float) if n else np.zeros(0)
    verdict = np.where(significant & (diff > 0), "better", np.where(
        significant & (diff < 0), "worse", np.where(equivalent, "equivalent", "inconclusive")))
    margin = float(equivalence_margin) if equivalence_margin and equivalence_margin > 0 else float("nan")
    return table.assign(p=p, p_holm=p_holm, significant=significant, margin=margin, p_equiv=p_equiv,
                        p_equiv_holm=p_equiv_holm, verdict=verdict, detectable=detectable)


def unit_differences(predictions: pd.DataFrame, classes: Sequence[str], *, references: Sequence[str] = (),
                     primary: Sequence[Mapping] = (), pairs=None,
                     paired: Sequence[tuple] | None = None) -> pd.DataFrame:
    """``speaker_differences.csv``: per comparison × metric × unit × seed, d = metric(combination on
    that unit, that seed) − metric(reference, same unit and seed), percentage points; the key columns
    of ``predictions``, then :data:`DIFFERENCE_COLUMNS` (``unit``: speaker or session; ``unit_id``:
    the fold's test group; ``family``: primary or exploratory, as in the significance table);
    ``pairs`` and ``paired`` as in :func:`significance_table`."""
    cols = key_columns(predictions)
    pos = {c: i for i, c in enumerate(cols)}
    if paired is None:
        paired = paired_counts(predictions, classes, references=references, primary=primary, pairs=pairs)
    unit = unit_kind(predictions) if len(predictions) else "speaker"
    parts = []
    for row, ref, units, seeds, hits_a, hits_b, support in paired:
        for metric in METRICS:
            d = per_speaker(hits_a, support, metric) - per_speaker(hits_b, support, metric)
            frame = pd.DataFrame({"unit_id": np.repeat(units, len(seeds)), "seed": np.tile(seeds, len(units)),
                                  "d": d.ravel()})
            for c in cols:
                frame[c] = row[pos[c]]
            frame = frame.assign(ref_method=ref[pos["method"]], ref_train_data=ref[pos["train_data"]],
                                 ref_head=ref[pos["head"]], metric=metric, unit=unit)
            parts.append(frame)
    if not parts:
        primary_mask(pd.DataFrame(columns=cols + DIFFERENCE_COLUMNS), primary)  # names an unmatched entry
        return pd.DataFrame(columns=cols + DIFFERENCE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    keys = out.drop_duplicates(cols + ["ref_method", "ref_train_data", "ref_head", "metric"])
    fam = pd.Series(primary_mask(keys, primary) if len(keys) else [], index=keys.index, dtype=bool)
    on = cols + ["ref_method", "ref_train_data", "ref_head", "metric"]
    out = out.merge(keys[on].assign(family=np.where(fam, PRIMARY, EXPLORATORY)), on=on, how="left")
    return out[cols + DIFFERENCE_COLUMNS]


def _std(values: np.ndarray) -> float:
    """Sample standard deviation over seeds; NaN for a single seed."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
