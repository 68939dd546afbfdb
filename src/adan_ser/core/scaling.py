"""Per-feature z-normalisation with training statistics: the one scaler of the augment methods."""

from __future__ import annotations

import numpy as np

__all__ = ["ZScaler", "Z_CLIP"]

#: Bound (in standard deviations) on every z-score a classifier or the measures' linear SVM sees
#: (``classify.clip_z``). Audio copies move noise-floor functionals (e.g. IS11's
#: ``pcm_fftMag_fband1000-4000_sma_percentile1.0``) by up to 10^5-10^6 SDs of the real rows, and real
#: test speakers reach 10^4 on EmoDB: one feature then dominates the linear kernel, and libsvm's SMO
#: crawls on the ill-conditioned problem (410 CPU s instead of 7 s bounded, for one 1.6k-row fold;
#: docs/scaling.md). By Chebyshev's inequality at most 1/30² ≈ 0.11 % of the fitted rows of any
#: feature lie beyond 30 SDs, so the bound leaves the fitted rows almost untouched while each
#: feature's share of the kernel stays bounded.
Z_CLIP = 30.0


class ZScaler:
    """``z = (x − mean_) / scale_`` per feature; ``scale_`` is the std, or 1 where the std is 0.

    A zero-variance feature therefore maps to 0 and back to its constant exactly; ``varies_``
    marks the features with a non-zero std. Statistics are computed in the float precision of the
    fitted ``X`` (integers as float64): cast first for float64 statistics of float32 data.

    Fitted: ``mean_``, ``scale_`` (n_features,) in feature units, ``varies_`` (n_features,) bool.
    """

    def fit(self, X: np.ndarray) -> "ZScaler":
        """Statistics of ``X`` (n_samples, n_features), feature units; returns self."""
        X = np.asarray(X)
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        std = X.std(axis=0)
        self.mean_ = X.mean(axis=0)
        self.varies_ = std > 0
        self.scale_ = np.where(self.varies_, std, 1.0)
        return self

    @classmethod
    def from_stats(cls, mean: np.ndarray, scale: np.ndarray) -> "ZScaler":
        """A fitted scaler from stored ``mean_`` and ``scale_`` (n_features,), e.g. a saved model's.

        ``varies_`` cannot be told from the statistics (a std may be exactly 1) and stays unset.
        """
        scaler = cls()
        scaler.mean_ = np.asarray(mean)
        scaler.scale_ = np.asarray(scale)
        return scaler

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(n, n_features) feature units → (n, n_features) standard deviations from the mean."""
        return (np.asarray(X) - self.mean_) / self.scale_

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """(n, n_features) z-units → (n, n_features) feature units."""
        return Z * self.scale_ + self.mean_
