"""The statistics of the paired comparisons, over units (test speakers or sessions): the sign-flip
null and its tests (difference, TOST equivalence, detectable effect), the two-stage bootstrap
interval (units, then seeds) and Holm's correction. :mod:`.significance` applies them to a run's
comparisons, :mod:`.pool` to the units of several corpora.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests

from adan_ser.core.errors import AdanError

#: Up to this many units the sign-flip null is enumerated exactly (2^20 patterns, 8 MB of sums).
EXACT_MAX_UNITS = 20


class FlipNull:
    """The sign-flip null over ``n_units`` units: all 2^n patterns when n ≤ :data:`EXACT_MAX_UNITS`,
    else ``n_resamples`` random patterns drawn from ``seed`` (the observed pattern then counts once
    more: p = (1 + #) / (1 + n_resamples)). Signs flip unit by unit, so a null over the units of
    several strata (corpora) is already stratified: no unit changes stratum."""

    def __init__(self, n_units: int, n_resamples: int = 9999, seed: int = 0):
        self.n = int(n_units)
        self.exact = self.n <= EXACT_MAX_UNITS
        self.signs = None
        if not self.exact:
            rng = np.random.default_rng(seed)
            self.signs = rng.choice(np.array([-1.0, 1.0]), size=(int(n_resamples), self.n))

    def sums(self, x: np.ndarray) -> np.ndarray:
        """Σ_u s_u x_u for every sign pattern s: (n_patterns,)."""
        x = np.asarray(x, dtype=float)
        if not self.exact:
            return self.signs @ x
        out = np.zeros(1)
        for value in x:  # doubling: the patterns of the first i units, then ± the next one
            out = np.concatenate([out + value, out - value])
        return out

    def p(self, hits: np.ndarray) -> float:
        """p from the boolean ``hits`` (n_patterns,) of patterns at least as extreme as the observed."""
        count = int(np.count_nonzero(hits))
        if self.exact:
            return count / len(hits)
        return (1 + count) / (1 + len(hits))


def _tol(x: np.ndarray) -> float:
    """Ties within float rounding count as ties (sums of the same values in another order)."""
    return 1e-9 * (1.0 + float(np.abs(x).sum()))


def sign_flip_p(d: np.ndarray, null: FlipNull | None = None, alternative: str = "two-sided", *,
                n_resamples: int = 9999, seed: int = 0) -> float:
    """p of mean(d) = 0 by flipping the sign of each unit's difference; d: (n_units,) in any unit.

    ``alternative``: ``two-sided`` (|Σ s d| ≥ |Σ d|), ``greater`` (Σ s d ≥ Σ d) or ``less``.
    """
    d = np.ravel(np.asarray(d, dtype=float))
    if len(d) == 0 or not np.isfinite(d).all():
        raise AdanError(f"sign-flip test needs finite, non-empty paired differences, got {len(d)}")
    null = null or FlipNull(len(d), n_resamples, seed)
    sums, observed, tol = null.sums(d), float(d.sum()), _tol(d)
    if alternative == "two-sided":
        return null.p(np.abs(sums) >= abs(observed) - tol)
    if alternative == "greater":
        return null.p(sums >= observed - tol)
    if alternative == "less":
        return null.p(sums <= observed + tol)
    raise AdanError(f"unknown alternative {alternative!r}")


def sign_flip_test(a: np.ndarray, b: np.ndarray, *, n_resamples: int = 9999, seed: int = 0) -> float:
    """Two-sided p of mean(a − b) = 0 over paired units; a, b: (n_units,) or (n_units, n_seeds), in
    which case each unit's seeds are averaged first (they flip together)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise AdanError(f"sign-flip test needs equal, non-empty paired samples, got {a.shape} and {b.shape}")
    d = a - b
    return sign_flip_p(d.mean(axis=1) if d.ndim == 2 else d, n_resamples=n_resamples, seed=seed)


def tost_p(d: np.ndarray, margin: float, null: FlipNull | None = None, **kw) -> float:
    """Equivalence p of |mean d| < ``margin`` (same units as d): the larger of the one-sided sign-flip
    p's of d + margin > 0 and d − margin < 0. NaN without a positive margin."""
    if margin is None or not margin > 0:
        return float("nan")
    d = np.asarray(d, dtype=float)
    null = null or FlipNull(len(d), **kw)
    return max(sign_flip_p(d + margin, null, "greater"), sign_flip_p(d - margin, null, "less"))


def detectable_effect(d: np.ndarray, level: float, null: FlipNull | None = None, **kw) -> float:
    """Smallest shift Δ ≥ 0 of the centred differences, d − mean d + Δ, whose two-sided sign-flip p is
    below ``level`` (same units as d; the spread of d is the observed one). inf when no shift can get
    there: the most extreme pattern's p (2 / 2^n exact) is not below ``level``."""
    d = np.asarray(d, dtype=float)
    null = null or FlipNull(len(d), **kw)
    centred = d - d.mean()
    # Σ s (c + Δ) = Σ s c + Δ Σ s: two sums per pattern, then every shift costs one comparison
    a, b, n = null.sums(centred), null.sums(np.ones(len(d))), len(d)
    tol = _tol(centred) + 1e-9 * n

    def p(shift):
        return null.p(np.abs(a + shift * b) >= shift * n - tol * max(1.0, shift))

    floor = null.p(np.abs(b) >= n)  # Δ → ∞: only the all-plus and all-minus patterns stay extreme
    if floor >= level:
        return float("inf")
    hi = max(1e-6, float(np.abs(centred).max()))
    for _ in range(60):
        if p(hi) < level:
            break
        hi *= 2.0
    lo = 0.0
    if p(lo) < level:
        return 0.0
    for _ in range(50):  # p is not strictly monotone in Δ; this finds a boundary to 2^-50 · hi
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if p(mid) < level else (mid, hi)
    return round(hi, 3)  # a boundary found to 2^-50: three decimals of a point are all it means


def two_stage_ci(d, *, n_resamples: int = 9999, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean over units of (mean over seeds of d), resampling units, then seeds.

    d: (n_units, n_seeds) paired differences (seed k of the combination minus seed k of its
    reference), or a list of such arrays, one per stratum (a corpus of a pool; seed counts may
    differ), whose units are drawn within their stratum so that each keeps its size. Each resample
    draws units with replacement, then, for every drawn unit, its seeds with replacement; the
    statistic weighs every unit alike. Fewer than two units → (NaN, NaN).
    """
    strata = [np.asarray(x, dtype=float) for x in (d if isinstance(d, (list, tuple)) else [d])]
    n_units = sum(len(x) for x in strata)
    if n_units < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    total = np.zeros(n_resamples)
    for x in strata:
        u, k = x.shape
        idx = rng.integers(0, u, size=(n_resamples, u))
        kidx = rng.integers(0, k, size=(n_resamples, u, k))
        total += x[idx[..., None], kidx].mean(axis=2).sum(axis=1)
    tail = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.percentile(total / n_units, [tail, 100.0 - tail])
    return float(lo), float(hi)


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
