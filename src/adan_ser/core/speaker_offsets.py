"""The additive speaker model's fit: class means plus one offset per speaker, by least squares.

Pure maths shared by the feature-space speaker sampler (``speaker_swap``/``speaker_new``), the
speaker-aware ADAN and the nuisance attribute projection of the classifiers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["speaker_offsets"]


def speaker_offsets(Z: np.ndarray, y: np.ndarray, groups: np.ndarray, n_iter: int = 100, tol: float = 1e-10):
    """Fit ``Z ≈ μ[y] + o[s]`` by alternating least squares over the speaker × class cell means.

    ``Z`` (n, d), ``y`` (n,) labels, ``groups`` (n,) speaker ids. Each speaker's offset is the
    unweighted mean over the classes it has of (cell mean − class mean), so a speaker who recorded
    mostly one emotion does not pass that emotion off as its voice; class means are row-weighted
    means of ``Z − o[s]``. Offsets are centred (unweighted mean over speakers 0); the class means
    absorb the shift. Returns ``(classes (C,), speakers (S,), mu (C, d), offsets (S, d))``.
    """
    Z = np.asarray(Z, dtype=np.float64)
    classes, yi = np.unique(y, return_inverse=True)
    speakers, si = np.unique(np.asarray(groups), return_inverse=True)
    C, S, d = len(classes), len(speakers), Z.shape[1]
    cell = si * C + yi
    N = np.bincount(cell, minlength=S * C).reshape(S, C).astype(np.float64)
    sums = np.zeros((S * C, d))
    np.add.at(sums, cell, Z)
    M = sums.reshape(S, C, d) / np.maximum(N, 1.0)[:, :, None]
    present = (N > 0).astype(np.float64)
    offsets = np.zeros((S, d))

    def class_means(o):
        return np.einsum("sc,scd->cd", N, M - o[:, None, :]) / N.sum(axis=0)[:, None]

    # A balanced design converges in one sweep; an unbalanced one in a few dozen (the problem is a
    # linear least-squares fit, so the sweeps contract geometrically on a connected design).
    for _ in range(n_iter):
        mu = class_means(offsets)
        new = np.einsum("sc,scd->sd", present, M - mu[None]) / present.sum(axis=1)[:, None]
        new -= new.mean(axis=0)
        done = np.max(np.abs(new - offsets), initial=0.0) <= tol
        offsets = new
        if done:
            break
    return classes, speakers, class_means(offsets), offsets
