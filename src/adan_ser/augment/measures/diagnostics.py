"""Mode-collapse diagnostics of a latent augmenter: how varied are its codes and vectors, and do they
carry the classes? And (any augmenter) does its synthetic set help on unseen, non-test speakers?
The collapse measures use the augmenter's training rows only; the validation measures (at the end)
the real rows of the fold's inner-validation speakers. None uses test data.

* ``synth_svm_uar``: a linear SVM (``SVC(kernel="linear", C=1e-3)``, z-normalised features, training
  statistics, z-scores clipped to ±:data:`~adan_ser.core.scaling.Z_CLIP` as the classifiers' are) trained on the synthetic vectors alone and tested on the real training rows; UAR in
  percent (mean per-class recall). Low when the synthetic classes sit in the wrong place or
  collapse onto a few points.
* ``recon_svm_uar``, ``recon_spread_ratio``: the same SVM trained on the reconstructions
  ``R(E(x))`` of the training rows, and their :func:`~adan_ser.augment.measures.quality.spread_ratio` against
  the real rows: what the decoder can deliver at best from the encoder's codes.
* ``latent_spread_ratio``: per class, spread of generated codes (``sample_latent``: G(z, y) for
  ADAN) over spread of the codes E(x) of the real rows (mean distance to the class centroid, latent
  units, no z-normalisation), averaged over classes. Well below 1 flags a collapsing generator.
* ``latent_frechet``: per class, the Fréchet distance between Gaussians fitted to the generated and
  to the real codes, ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½), averaged over classes (latent
  units squared; 0 when means and covariances agree).

Every method but ``none`` (baselines, latent and audio methods) also gets three columns measured on
the fold's inner-validation speakers (:func:`validation_measures`): the training speakers the DNN of
that run seed holds out for early stopping (``classify.dnn.val_groups``), which no augmenter of that
seed was fitted on and which are not test speakers. Each is the UAR (percent) on those speakers'
real rows of the same linear SVM, features z-normalised with the statistics of the augmenter's real
training rows (one common scaling for the three), trained on:

* ``val_synth_svm_uar``: the synthetic set alone;
* ``val_real_svm_uar``: the augmenter's real training rows alone (the reference, the same for every
  method of one seed × fold);
* ``val_mixed_svm_uar``: the real training rows and the synthetic rows together.

All three are NaN without validation speakers (``val_groups`` 0). They let a configuration be
chosen without the test speakers (:mod:`adan_ser.reporting.augmenter_choice`).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import recall_score
from sklearn.svm import SVC

from adan_ser.augment.measures.quality import spread_ratio, subsample, znorm_like
from adan_ser.contracts.synthetic import VALIDATION_COLUMNS
from adan_ser.core.scaling import Z_CLIP

__all__ = ["DIAGNOSTICS", "VALIDATION", "svm_uar", "validation_measures", "frechet_distance", "latent_frechet",
           "latent_measures", "latent_diagnostics"]

#: Columns :func:`latent_diagnostics` adds to quality.csv.
DIAGNOSTICS = ("recon_spread_ratio", "recon_svm_uar", "synth_svm_uar", "latent_spread_ratio", "latent_frechet")

#: Columns :func:`validation_measures` adds to quality.csv (every method but ``none``).
VALIDATION = VALIDATION_COLUMNS

#: C of the diagnostic linear SVM (z-normed features; the value of the paper's SVM baseline).
SVM_C = 1e-3


def svm_uar(X_fit: np.ndarray, y_fit: np.ndarray, X_real: np.ndarray, y_real: np.ndarray,
            X_norm: np.ndarray | None = None, strata: np.ndarray | None = None) -> float:
    """UAR (percent) on ``X_real`` (n, d), ``y_real`` (n,) of a linear SVM fitted on ``X_fit`` (m, d), ``y_fit``.

    Features z-normalised with the statistics of ``X_norm`` (k, d) (default: ``X_real``; constant
    ones dropped) and clipped to ±:data:`~adan_ser.core.scaling.Z_CLIP`, as the classifiers' default
    preprocessing does: unclipped audio copies (10^5 SDs on noise-floor functionals) made one fit
    take 272 s instead of 0.1 s. NaN when ``X_fit`` has fewer than two classes. The SVM is fitted on at most
    :data:`~adan_ser.augment.measures.quality.MEASURE_ROWS` rows of ``X_fit`` (stratified by ``strata`` (m,),
    default ``y_fit``; seed 0; all of them below the cap). libsvm solves it on the linear kernel's
    Gram matrix computed by BLAS (``kernel="precomputed"``): the same problem as
    ``SVC(kernel="linear")`` (dual coefficients equal to ~1e-15), ~15 × faster to fit and ~10 × to
    predict on IS11, since libsvm's own kernel evaluations are unvectorised dot products.
    """
    y_fit, y_real = np.asarray(y_fit), np.asarray(y_real)
    if len(np.unique(y_fit)) < 2:
        return float("nan")
    keep = subsample(y_fit if strata is None else strata)
    X_fit, y_fit = np.asarray(X_fit)[keep], y_fit[keep]
    if X_norm is None:
        R, S = znorm_like(np.asarray(X_real, float), np.asarray(X_fit, float))
    else:
        R, S = znorm_like(np.asarray(X_norm, float), np.asarray(X_real, float), np.asarray(X_fit, float),
                          include_reference=False)
    R, S = np.clip(R, -Z_CLIP, Z_CLIP), np.clip(S, -Z_CLIP, Z_CLIP)
    pred = SVC(kernel="precomputed", C=SVM_C).fit(S @ S.T, y_fit).predict(R @ S.T)
    return float(100.0 * recall_score(y_real, pred, labels=np.unique(y_real), average="macro", zero_division=0))


def validation_measures(X_fit: np.ndarray, y_fit: np.ndarray, X_syn: np.ndarray, y_syn: np.ndarray,
                        X_val: np.ndarray, y_val: np.ndarray) -> dict:
    """The :data:`VALIDATION` columns of one seed × fold: UAR (percent) on the validation rows.

    ``X_fit`` (n, d), ``y_fit`` (n,): the real rows the augmenter was fitted on; ``X_syn`` (m, d),
    ``y_syn`` (m,): its synthetic set; ``X_val`` (v, d), ``y_val`` (v,): the real rows of the fold's
    inner-validation speakers (never test speakers), all in feature units. The SVM of
    :func:`svm_uar` is trained on the synthetic rows (``val_synth_svm_uar``), the real rows
    (``val_real_svm_uar``) and both together (``val_mixed_svm_uar``), each time with features
    z-normalised by ``X_fit``'s statistics, and tested on the validation rows (UAR: mean recall over
    the classes of ``y_val``). All NaN when there are no validation rows (``val_groups`` 0); a
    training set with fewer than two classes gives NaN (``val_synth_svm_uar`` without synthetic rows;
    the mixed set is then the real rows).
    """
    out = dict.fromkeys(VALIDATION, float("nan"))
    if len(X_val) == 0:
        return out
    X_fit, X_syn, X_val = (np.asarray(a, float) for a in (X_fit, X_syn, X_val))
    y_fit, y_syn = np.asarray(y_fit), np.asarray(y_syn)
    if len(X_syn):
        out["val_synth_svm_uar"] = svm_uar(X_syn, y_syn, X_val, y_val, X_norm=X_fit)
    out["val_real_svm_uar"] = svm_uar(X_fit, y_fit, X_val, y_val, X_norm=X_fit)
    y_mix = np.concatenate([y_fit, y_syn]) if len(X_syn) else y_fit
    # a capped mixed set keeps its real : synthetic share in every class
    origin = np.r_[np.zeros(len(X_fit), int), np.ones(len(y_mix) - len(X_fit), int)]
    strata = 2 * np.unique(y_mix, return_inverse=True)[1].ravel() + origin
    # The capped rows are drawn before stacking: the rows svm_uar would draw from the whole
    # stacked set (``keep`` is sorted), without a copy of real + synthetic at full size.
    keep = subsample(strata)
    n = len(X_fit)
    X_mix = np.vstack([X_fit[keep[keep < n]], X_syn[keep[keep >= n] - n]]) if len(X_syn) else X_fit[keep]
    out["val_mixed_svm_uar"] = svm_uar(X_mix, y_mix[keep], X_val, y_val, X_norm=X_fit, strata=strata[keep])
    return out


def _sqrt_psd(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def frechet_distance(A: np.ndarray, B: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to rows of ``A`` (n, k) and ``B`` (m, k).

    Through symmetric eigendecompositions (Σ₁^½ Σ₂ Σ₁^½ is symmetric PSD), so singular covariances
    (fewer rows than dimensions, the usual case per class) give a real, non-negative value.
    """
    A, B = np.asarray(A, float), np.asarray(B, float)
    mu = A.mean(axis=0) - B.mean(axis=0)
    Sa = np.cov(A, rowvar=False, bias=True).reshape(A.shape[1], A.shape[1])
    Sb = np.cov(B, rowvar=False, bias=True).reshape(B.shape[1], B.shape[1])
    root = _sqrt_psd(Sa)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ Sb @ root), 0.0, None)).sum()
    return float(max(mu @ mu + np.trace(Sa) + np.trace(Sb) - 2.0 * cross, 0.0))


def latent_frechet(H: np.ndarray, y_h: np.ndarray, G: np.ndarray, y_g: np.ndarray) -> float:
    """Mean over classes present in both (with ≥ 2 rows each) of :func:`frechet_distance`; NaN if none.

    Rounded to 4 decimals: the eigendecompositions' last digits (about the 10th) depend on the BLAS
    kernel the CPU selects, and the stage's outputs must be the same on every machine.
    """
    y_h, y_g = np.asarray(y_h), np.asarray(y_g)
    values = [frechet_distance(H[y_h == c], G[y_g == c]) for c in np.intersect1d(y_h, y_g)
              if (y_h == c).sum() > 1 and (y_g == c).sum() > 1]
    return round(float(np.mean(values)), 4) if values else float("nan")


def latent_measures(H: np.ndarray, y_h: np.ndarray, G: np.ndarray, y_g: np.ndarray) -> dict:
    """``latent_spread_ratio`` and ``latent_frechet`` of generated codes ``G`` (m, k) against real ``H`` (n, k)."""
    return {"latent_spread_ratio": spread_ratio(H, y_h, G, y_g, znorm=False),
            "latent_frechet": latent_frechet(H, y_h, G, y_g)}


def latent_diagnostics(sampler, X: np.ndarray, y: np.ndarray, X_syn: np.ndarray, y_syn: np.ndarray,
                       seed: int = 0) -> dict:
    """Every column of :data:`DIAGNOSTICS` for a fitted latent sampler (or a fitted latent model).

    ``X`` (n, d), ``y`` (n,): the rows it was fitted on, feature units; ``X_syn``, ``y_syn``: its
    synthetic set. Reconstructions and real codes come from the model (a sampler's ``adan_``);
    generated codes from ``sampler.sample_latent`` (the codes the sampler decodes: G(z, y) for ADAN,
    interpolated codes for latent SMOTE) with the training class counts and ``seed``. Without a
    latent model (None, or a baseline sampler) only ``synth_svm_uar`` is measured, the rest NaN.
    """
    nan = float("nan")
    out = dict.fromkeys(DIAGNOSTICS, nan)
    if len(X_syn):
        out["synth_svm_uar"] = svm_uar(X_syn, y_syn, X, y)
    model = getattr(sampler, "adan_", sampler)
    if model is None or not hasattr(model, "reconstruct") or not hasattr(sampler, "sample_latent"):
        return out
    R = model.reconstruct(X)
    out["recon_spread_ratio"] = spread_ratio(X, y, R, y)
    out["recon_svm_uar"] = svm_uar(R, y, X, y)
    labels, counts = np.unique(y, return_counts=True)
    G, y_g = sampler.sample_latent(counts={c: int(n) for c, n in zip(labels.tolist(), counts)}, seed=seed)
    out.update(latent_measures(model.transform(X), y, G, y_g))
    return out
