"""How good is a synthetic set? Measures that need only the training fold and its synthetic rows.

* ``two_sample_accuracy``: a classifier two-sample test. A linear classifier tries to tell real
  training vectors from synthetic ones under 5-fold cross-validation; 50 % means it cannot, 100 %
  means the synthetic data is trivially recognisable. Each synthetic vector is kept in the same
  cross-validation fold as its nearest real vector: otherwise a copy (or a close interpolation) in
  the test part whose source sits in the training part with the opposite label drives the accuracy
  far below 50 %, which reads as nonsense rather than as "copies".
* ``nearest_neighbour_ratio``: median distance from each synthetic vector to its nearest real training
  vector, over the median real-to-nearest-other-real distance. Near 0 flags memorised copies; around
  1 means synthetic points sit among the real ones as densely as the real ones do.
* ``copies_pct``: share of synthetic vectors that coincide with a training vector.
* ``spread_ratio``: per emotion, the mean distance of synthetic vectors to their own centroid over
  the same for the real vectors, averaged over emotions. 1 means as varied as the real data; well
  below 1 flags mode collapse (a generator that emits near-copies of a class centre), which the
  nearest-neighbour ratio cannot see because a centre is not a training vector.

Distances and the classifier work on z-normalised features (training statistics), because raw
openSMILE units span many orders of magnitude.

Cost is bounded: every set a model is fitted on is cut to at most :data:`MEASURE_ROWS` rows, and
the two-sample test and the nearest-neighbour queries to :data:`QUERY_ROWS` rows per set, by
:func:`subsample` (stratified by class, fixed seed), so the measures grow at most linearly with the
fold (the neighbour index keeps every real row, so a copy of any training row is still found).
Below the caps nothing is drawn and the values are those of the whole sets: an EmoDB fold trains
on at most 500 real rows (535 less the smallest speaker's 35), 1000 with ratio-1 synthetic rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from adan_ser.core.scaling import ZScaler


#: Most rows a measure fits an SVM on: every real + ratio-1 synthetic set of an EmoDB fold (≤ 1000)
#: is whole, so those values are unchanged; the Gram matrix is then at most 1000² (8 MB).
MEASURE_ROWS = 1000

#: Most rows per set of the two-sample test (each side) and of the nearest-neighbour queries: every
#: EmoDB fold's real set (≤ 500) is whole; the test's 5 logistic fits and the queries (cost
#: QUERY_ROWS × n × d) dominated a 4.5k-row IS11 fold's measures at 1000.
QUERY_ROWS = 500


def subsample(y: np.ndarray, cap: int = MEASURE_ROWS, seed: int = 0) -> np.ndarray:
    """Sorted row indices of at most ``cap`` rows of ``y`` (n,), stratified by label; all rows if n ≤ cap.

    Each label keeps its share of ``cap`` (largest remainders round up, at least one row per
    label while ``cap`` allows), rows drawn without replacement by ``numpy.random.default_rng(seed)``
    in sorted label order, so the same ``y``, ``cap`` and ``seed`` give the same rows.
    """
    y = np.asarray(y)
    n = len(y)
    if n <= cap:
        return np.arange(n)
    labels, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = cap * counts / n
    keep = np.floor(share).astype(int)
    order = np.argsort(-(share - keep), kind="stable")
    keep[order[: cap - keep.sum()]] += 1
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(codes == c), keep[c], replace=False) for c in range(len(labels))]
    return np.sort(np.concatenate(picked))


def znorm_like(X_real: np.ndarray, *others: np.ndarray, include_reference: bool = True) -> list[np.ndarray]:
    """Z-normalise ``X_real`` (n, d) and ``others`` (m, d) with ``X_real``'s statistics; constant
    features dropped, so each result is (·, d_varying). ``include_reference=False`` returns only
    the ``others`` (``X_real`` then serves for its statistics alone)."""
    scaler = ZScaler().fit(X_real)
    keep = scaler.varies_
    mean, scale = scaler.mean_[keep], scaler.scale_[keep]
    # Columns are selected before scaling: the same values as ZScaler.transform then selecting,
    # with one temporary copy of each array instead of two (a 20k-row fold's is ~0.6 GB).
    return [(np.asarray(X)[:, keep] - mean) / scale for X in ((X_real, *others) if include_reference else others)]


def two_sample_accuracy(X_real: np.ndarray, X_syn: np.ndarray, seed: int = 0) -> float:
    """Cross-validated accuracy (percent) of real-vs-synthetic classification, on equal-sized sets.

    X_real: (n, d) training-fold vectors; X_syn: (m, d) synthetic vectors, feature units. At most
    :data:`QUERY_ROWS` of each are drawn (``seed``).
    """
    rng = np.random.default_rng(seed)
    n = min(len(X_real), len(X_syn), QUERY_ROWS)
    if n < 5:
        return float("nan")
    R = X_real[rng.choice(len(X_real), n, replace=False)]
    S = X_syn[rng.choice(len(X_syn), n, replace=False)]
    X = np.vstack([R, S])
    y = np.r_[np.zeros(n), np.ones(n)]
    Rz, Sz = znorm_like(R, S)
    nearest = NearestNeighbors(n_neighbors=1).fit(Rz).kneighbors(Sz, return_distance=False)[:, 0]
    groups = np.r_[np.arange(n), nearest]  # a synthetic vector travels with its nearest real one
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    cv = GroupKFold(5, shuffle=True, random_state=seed)
    return float(100.0 * cross_val_score(model, X, y, groups=groups, cv=cv).mean())


def nearest_neighbour_stats(X_real: np.ndarray, X_syn: np.ndarray, seed: int = 0) -> dict:
    """``nn_ratio`` (synthetic→real over real→real median NN distance) and ``copies_pct``.

    X_real: (n, d), X_syn: (m, d), feature units. Every real row is in the neighbour index; at most
    :data:`QUERY_ROWS` real and synthetic rows are queried (``seed``), so exact search costs
    O(QUERY_ROWS · n · d), linear in the fold.
    """
    R, S = znorm_like(np.asarray(X_real, float), np.asarray(X_syn, float))
    nn = NearestNeighbors(n_neighbors=2).fit(R)
    rq = subsample(np.zeros(len(R)), QUERY_ROWS, seed)
    sq = subsample(np.zeros(len(S)), QUERY_ROWS, seed + 1)
    real_d = nn.kneighbors(R[rq], 2, return_distance=True)[0][:, 1]  # [:, 0] is the point itself
    syn_d = nn.kneighbors(S[sq], 1, return_distance=True)[0][:, 0]
    scale = float(np.median(real_d))
    return {
        "nn_ratio": float(np.median(syn_d) / scale) if scale > 0 else float("nan"),
        "copies_pct": float(100.0 * np.mean(syn_d <= 1e-6 * max(scale, 1e-12))),
    }


def spread_ratio(X_real: np.ndarray, y_real: np.ndarray, X_syn: np.ndarray, y_syn: np.ndarray,
                 znorm: bool = True) -> float:
    """Mean over emotions present in both sets of (synthetic spread / real spread); NaN if none.

    Spread of a set: mean Euclidean distance of its vectors to their centroid, z-normalised
    features (training statistics). X_*: (n, d) feature units; y_*: (n,) labels. ``znorm=False``
    measures in the given units (latent codes, whose units are already common to every dimension).
    """
    if znorm:
        R, S = znorm_like(np.asarray(X_real, float), np.asarray(X_syn, float))
    else:
        R, S = np.asarray(X_real, float), np.asarray(X_syn, float)
    y_real, y_syn = np.asarray(y_real), np.asarray(y_syn)
    ratios = []
    for label in np.intersect1d(y_real, y_syn):
        r, s = R[y_real == label], S[y_syn == label]
        real_spread = np.linalg.norm(r - r.mean(axis=0), axis=1).mean()
        if real_spread > 0:
            ratios.append(np.linalg.norm(s - s.mean(axis=0), axis=1).mean() / real_spread)
    return float(np.mean(ratios)) if ratios else float("nan")


def quality(X_real: np.ndarray, X_syn: np.ndarray, seed: int = 0, y_real=None, y_syn=None) -> dict:
    """All measures for one fold: two_sample_acc (%), nn_ratio, copies_pct (%), spread_ratio
    (NaN without labels), n_synthetic."""
    nan = float("nan")
    if len(X_syn) == 0:
        return {"two_sample_acc": nan, "nn_ratio": nan, "copies_pct": nan, "spread_ratio": nan, "n_synthetic": 0}
    return {
        "two_sample_acc": two_sample_accuracy(X_real, X_syn, seed),
        **nearest_neighbour_stats(X_real, X_syn, seed),
        "spread_ratio": nan if y_real is None or y_syn is None else spread_ratio(X_real, y_real, X_syn, y_syn),
        "n_synthetic": int(len(X_syn)),
    }
