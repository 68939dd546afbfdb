"""Are synthetic speakers new speakers that keep the emotion? Measures beside the quality table.

From one fold's real augmenter-training rows (their emotions and speakers) and its synthetic rows
(their emotions, and where known their synthetic speaker ids and the real speaker each was made
from); never a test or validation row. Features are z-normalised with the real rows' statistics
(constant features dropped), as in :mod:`adan_ser.augment.measures.quality`.

* ``speaker_spread_ratio``: between-speaker spread of the synthetic speakers over that of the real
  ones, the median over features of the ratio of per-feature between-speaker variances. A set's
  variance of feature f is the mean over its speakers of m_s[f]², m_s the speaker's mean of its
  rows after each row's emotion mean (the set's own) is subtracted, so a speaker's emotion mix does
  not count as speaker variation. 1: synthetic voices differ from each other as much as real
  speakers do; well below 1: they all sound alike. NaN without synthetic speaker ids.
* ``source_distance_ratio``: median distance between a synthetic speaker's mean and the mean of the
  real speaker it was made from, over the median distance between two real speakers' means (same
  emotion-centred means). 0: the "new" speaker is its source; about 1: as far from its source as
  two real speakers are apart. NaN without ids and sources.
* ``emotion_agreement``: percentage of synthetic rows whose emotion a linear classifier fitted on
  real rows gives back. With sources, each synthetic row is labelled by a classifier that did not
  see its source speaker, so the figure compares with
* ``emotion_agreement_real``: the same for the real rows, each labelled by a classifier fitted
  without its own speaker (leave-one-speaker-out; above :data:`SPEAKER_FOLDS` speakers, without its
  speaker's group: sorted speaker k is in group k mod :data:`SPEAKER_FOLDS`), i.e. how well emotion
  carries over to a new real speaker. Without sources the synthetic rows are labelled by one classifier fitted on all real
  rows (their source rows included: an upper bound). Shuffled emotions give chance level.
* ``nearest_real_ratio``: median distance of a synthetic row to its nearest real row, over the
  median distance of a real row to its nearest other real row; ``near_copy_pct``: share (%) of
  synthetic rows closer to a real row than :data:`NEAR_COPY` times that real spacing, i.e.
  near-copies of a real row.

The classifier is a ridge classifier (closed form, so deterministic and fast on thousands of
openSMILE features; scikit-learn's ``RidgeClassifier`` solved in its dual form, so one pair of Gram
products serves every leave-one-speaker-out fit) with penalty α = d, the number of z-normalised
features. Above ``max_rows``
rows a set is subsampled with a generator seeded by ``seed`` (the run seed), so the measures are a
function of their inputs and the seed.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.neighbors import NearestNeighbors

from adan_ser.augment.measures.quality import MEASURE_ROWS
from adan_ser.core.scaling import ZScaler

__all__ = ["SPEAKER_DIAGNOSTICS", "NEAR_COPY", "MAX_ROWS", "SPEAKER_FOLDS", "speaker_diagnostics"]

#: Columns :func:`speaker_diagnostics` returns, in this order.
SPEAKER_DIAGNOSTICS = ("speaker_spread_ratio", "source_distance_ratio", "emotion_agreement",
                       "emotion_agreement_real", "nearest_real_ratio", "near_copy_pct")

#: A synthetic row nearer a real row than this share of the median real-to-real nearest-neighbour
#: distance is a near-copy of it.
NEAR_COPY = 0.1

#: Rows per set above which the set is subsampled (distances grow with n², each ridge solve with n³):
#: the measures' common cap. At 3000 an IS11 fold of a 5000-utterance corpus spent ~3.7 CPU min here.
MAX_ROWS = MEASURE_ROWS

#: Most held-out speaker groups of the agreement measures (one ridge solve each): every speaker
#: its own group up to this many (all EmoDB folds), then speakers pooled into this many groups.
SPEAKER_FOLDS = 10


def _subsample(rng: np.random.Generator, n: int, max_rows: int) -> np.ndarray:
    """Sorted row indices: all ``n``, or ``max_rows`` of them drawn without replacement."""
    return np.arange(n) if n <= max_rows else np.sort(rng.choice(n, max_rows, replace=False))


def _group_means(Z: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(names (g,), means (g, d)) of the rows of ``Z`` (n, d) per group, by one matrix product."""
    names, inverse = np.unique(groups, return_inverse=True)
    onehot = np.zeros((len(names), len(Z)))
    onehot[inverse, np.arange(len(Z))] = 1.0
    return names, (onehot @ Z) / onehot.sum(axis=1, keepdims=True)


def _emotion_centred(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``Z`` (n, d) minus each row's emotion mean (over ``Z``'s own rows)."""
    names, means = _group_means(Z, y)
    return Z - means[np.searchsorted(names, y)]


def _spread(means: np.ndarray) -> np.ndarray:
    """(d,) between-speaker variance per feature: the mean over speakers of m_s², ``means`` (g, d)."""
    return np.mean(means**2, axis=0)


def _ridge_labels(G: np.ndarray, H: np.ndarray, fit: np.ndarray, y_fit: np.ndarray, alpha: float) -> np.ndarray:
    """Labels a ridge classifier fitted on rows ``fit`` gives the query rows, from Gram matrices alone.

    ``G`` (n, n): inner products of the real rows; ``H`` (q, n): of the query rows with the real rows;
    ``fit`` (t,) int: the real rows fitted, ``y_fit`` (t,) their labels. The same as scikit-learn's
    ``RidgeClassifier(alpha)`` (targets ±1 per class, intercept by centring X and targets), solved in
    its dual form (t × t), so one pair of Gram products serves every leave-one-speaker-out fit.
    Returns (q,) labels.
    """
    classes, codes = np.unique(y_fit, return_inverse=True)
    Y = -np.ones((len(fit), len(classes)))
    Y[np.arange(len(fit)), codes] = 1.0
    y_mean = Y.mean(axis=0)
    K = G[np.ix_(fit, fit)]
    g = K.mean(axis=0)  # r_j · μ, μ the mean of the fitted rows
    c = g.mean()  # μ · μ
    Kc = K - g[:, None] - g[None, :] + c  # centred Gram matrix
    Q = H[:, fit]
    Qc = Q - Q.mean(axis=1, keepdims=True) - g[None, :] + c  # (q − μ) · (r_j − μ)
    dual = np.linalg.solve(Kc + alpha * np.eye(len(fit)), Y - y_mean)
    return classes[np.argmax(Qc @ dual + y_mean, axis=1)]


def _agreement(R: np.ndarray, y_real: np.ndarray, speakers_real: np.ndarray, S: np.ndarray,
               y_syn: np.ndarray, sources_syn: Optional[np.ndarray]) -> tuple[float, float]:
    """(synthetic, real) agreement in %: see the module docstring. One dual ridge solve per held-out
    speaker group (at most :data:`SPEAKER_FOLDS`)."""
    alpha = float(R.shape[1])
    G, H = R @ R.T, S @ R.T
    real_hits = np.zeros(len(R), dtype=bool)
    syn_hits = np.zeros(len(S), dtype=bool)
    syn_done = np.zeros(len(S), dtype=bool)
    names, index = np.unique(speakers_real, return_inverse=True)
    group_of = np.arange(len(names)) % SPEAKER_FOLDS  # one speaker per group up to SPEAKER_FOLDS
    for group in np.unique(group_of):
        held = group_of[index] == group
        fit = np.flatnonzero(~held)
        if len(np.unique(y_real[fit])) < 2:
            continue  # one emotion left: no classifier; counted as a miss
        mine = (np.zeros(len(S), dtype=bool) if sources_syn is None
                else np.isin(sources_syn, names[group_of == group]))
        labels = _ridge_labels(G, np.vstack([G[held], H[mine]]), fit, y_real[fit], alpha)
        real_hits[held] = labels[:held.sum()] == y_real[held]
        syn_hits[mine] = labels[held.sum():] == y_syn[mine]
        syn_done[mine] = True
    rest = ~syn_done  # no source (or one not among the real speakers): a fit on every real row
    if rest.any() and len(np.unique(y_real)) >= 2:
        syn_hits[rest] = _ridge_labels(G, H[rest], np.arange(len(R)), y_real, alpha) == y_syn[rest]
    return float(100.0 * syn_hits.mean()), float(100.0 * real_hits.mean())


def speaker_diagnostics(
    X_real: np.ndarray,
    y_real: np.ndarray,
    speakers_real: np.ndarray,
    X_syn: np.ndarray,
    y_syn: np.ndarray,
    speakers_syn: Optional[np.ndarray] = None,
    sources_syn: Optional[np.ndarray] = None,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
) -> dict:
    """The :data:`SPEAKER_DIAGNOSTICS` of one synthetic set (module docstring), as a dict of floats.

    ``X_real`` (n, d), ``y_real`` (n,), ``speakers_real`` (n,): the real rows the set was made from,
    feature units; ``X_syn`` (m, d), ``y_syn`` (m,); ``speakers_syn`` (m,): each synthetic row's
    synthetic speaker id, or None; ``sources_syn`` (m,): the real speaker each synthetic row was
    made from, or None. Every value is NaN when a measure cannot be formed (no synthetic rows, one
    speaker, no ids).
    """
    out = dict.fromkeys(SPEAKER_DIAGNOSTICS, float("nan"))
    X_real, X_syn = np.asarray(X_real, dtype=np.float64), np.asarray(X_syn, dtype=np.float64)
    if len(X_syn) == 0 or len(X_real) < 2:
        return out
    rng = np.random.default_rng([int(seed), 0x5D1A6])
    r, s = _subsample(rng, len(X_real), max_rows), _subsample(rng, len(X_syn), max_rows)
    scaler = ZScaler().fit(X_real[r])
    R = scaler.transform(X_real[r])[:, scaler.varies_]
    S = scaler.transform(X_syn[s])[:, scaler.varies_]
    y_r, spk_r = np.asarray(y_real).astype(str)[r], np.asarray(speakers_real).astype(str)[r]
    y_s = np.asarray(y_syn).astype(str)[s]
    src_s = None if sources_syn is None else np.asarray(sources_syn).astype(str)[s]

    # nearest real row
    nn = NearestNeighbors(n_neighbors=2, algorithm="brute").fit(R)
    real_d = nn.kneighbors(R, 2)[0][:, 1]  # [:, 0]: the row itself
    syn_d = nn.kneighbors(S, 1)[0][:, 0]
    scale = float(np.median(real_d))
    if scale > 0:
        out["nearest_real_ratio"] = float(np.median(syn_d) / scale)
        out["near_copy_pct"] = float(100.0 * np.mean(syn_d < NEAR_COPY * scale))

    out["emotion_agreement"], out["emotion_agreement_real"] = _agreement(R, y_r, spk_r, S, y_s, src_s)

    # between-speaker spread
    if speakers_syn is not None:
        spk_s = np.asarray(speakers_syn).astype(str)[s]
        real_names, real_means = _group_means(_emotion_centred(R, y_r), spk_r)
        syn_names, syn_means = _group_means(_emotion_centred(S, y_s), spk_s)
        if len(real_names) >= 2 and len(syn_names) >= 2:
            real_spread = _spread(real_means)
            varies = real_spread > 0
            if varies.any():
                # the median over features: one feature the resynthesis changes wildly (a few z-units
                # of real spread become hundreds) must not decide the whole set
                out["speaker_spread_ratio"] = float(np.median(_spread(syn_means)[varies] / real_spread[varies]))
        if src_s is not None and len(real_names) >= 2:
            # each synthetic speaker's source: the real speaker of its first row
            _, first = np.unique(spk_s, return_index=True)
            source_of = src_s[first]
            known = np.isin(source_of, real_names)
            if known.any():
                gaps = np.linalg.norm(syn_means[known] - real_means[np.searchsorted(real_names, source_of[known])],
                                      axis=1)
                i, j = np.triu_indices(len(real_names), k=1)
                typical = float(np.median(np.linalg.norm(real_means[i] - real_means[j], axis=1)))
                if typical > 0:
                    out["source_distance_ratio"] = float(np.median(gaps) / typical)
    return out
