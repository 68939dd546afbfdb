"""The val_*_svm_uar columns of quality.csv: measured on the inner-validation speakers' real rows,
never on a test speaker's, for every method but none."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from adan_ser.augment import stage as stage_module
from adan_ser.augment.audio.describe import Perturbed
from adan_ser.augment.measures.diagnostics import VALIDATION, svm_uar, validation_measures
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.contracts.folds import SYNTHETIC_GROUP, folds_for, inner_validation_groups, train_subset
from adan_ser.contracts.plan import PlanSettings
from tests.augment.test_stage import toy

SCHEME = "leave-one-speaker-out"


def blobs(n_per_class, seed, shift=0.0):
    """Three well separated classes in 5 dimensions (feature units: one column on a large scale)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[4, 0, 0, 0, 0], [0, 4, 0, 0, 0], [0, 0, 4, 0, 0]], float)
    X = np.vstack([c + rng.normal(size=(n_per_class, 5)) for c in centres]) + shift
    X[:, 4] *= 1000.0
    return X, np.repeat(np.array(["a", "b", "c"]), n_per_class)


def test_the_three_svms_train_on_synthetic_real_and_both_and_test_on_validation():
    X_fit, y_fit = blobs(20, 0)
    X_val, y_val = blobs(10, 1)
    X_good, y_good = blobs(20, 2)
    out = validation_measures(X_fit, y_fit, X_good, y_good, X_val, y_val)
    assert set(out) == set(VALIDATION) and all(v > 90 for v in out.values())
    assert out["val_real_svm_uar"] == svm_uar(X_fit, y_fit, X_val, y_val, X_norm=X_fit)
    # a synthetic set with its labels rotated: an SVM on it alone gets the validation rows wrong
    wrong = np.roll(np.array(["a", "b", "c"]), 1)[np.searchsorted(["a", "b", "c"], y_good)]
    bad = validation_measures(X_fit, y_fit, X_good, wrong, X_val, y_val)
    assert bad["val_synth_svm_uar"] < 10 and bad["val_real_svm_uar"] == out["val_real_svm_uar"]
    assert bad["val_mixed_svm_uar"] < out["val_mixed_svm_uar"]
    # the mixed SVM is the SVM of the stacked rows, z-normalised with the real rows' statistics
    mixed = svm_uar(np.vstack([X_fit, X_good]), np.r_[y_fit, wrong], X_val, y_val, X_norm=X_fit)
    assert bad["val_mixed_svm_uar"] == mixed


def test_a_capped_mixed_set_is_the_stacked_sets_capped():
    """Above MEASURE_ROWS the mixed SVM's rows are drawn before stacking: the same rows, hence the
    same UAR, as drawing them from the stacked real + synthetic set."""
    X_fit, y_fit = blobs(300, 0)  # 900 + 900 rows: above the cap of 1000
    X_syn, y_syn = blobs(300, 2, shift=0.5)
    X_val, y_val = blobs(10, 1)
    y_mix = np.r_[y_fit, y_syn]
    strata = 2 * np.unique(y_mix, return_inverse=True)[1] + np.r_[np.zeros(900, int), np.ones(900, int)]
    stacked = svm_uar(np.vstack([X_fit, X_syn]), y_mix, X_val, y_val, X_norm=X_fit, strata=strata)
    assert validation_measures(X_fit, y_fit, X_syn, y_syn, X_val, y_val)["val_mixed_svm_uar"] == stacked


def test_no_validation_rows_or_no_synthetic_rows_give_nan():
    X_fit, y_fit = blobs(10, 0)
    X_val, y_val = blobs(5, 1)
    none = validation_measures(X_fit, y_fit, X_fit, y_fit, np.empty((0, 5)), np.empty(0, dtype=str))
    assert all(np.isnan(v) for v in none.values())
    empty = validation_measures(X_fit, y_fit, np.empty((0, 5)), np.empty(0, dtype=str), X_val, y_val)
    assert np.isnan(empty["val_synth_svm_uar"])
    assert empty["val_mixed_svm_uar"] == empty["val_real_svm_uar"] > 90


def test_svm_uar_clips_far_rows_like_the_classifiers():
    """A synthetic feature 10^6 SDs out (an audio copy's noise floor) counts as one at Z_CLIP: the
    measure equals that of a set 40 SDs out, both clipped to the bound (and the fit stays fast)."""
    from adan_ser.core.scaling import Z_CLIP

    X, y = blobs(20, 0)
    Xs, ys = blobs(20, 3, shift=0.5)
    far, near = Xs.copy(), Xs.copy()
    far[::3, 0] = X[:, 0].mean() + 1e6 * X[:, 0].std()
    near[::3, 0] = X[:, 0].mean() + (Z_CLIP + 10) * X[:, 0].std()
    assert svm_uar(far, ys, X, y) == svm_uar(near, ys, X, y)


def test_svm_uar_normalises_with_x_real_unless_told():
    X, y = blobs(10, 0)
    Xs, ys = blobs(10, 3, shift=0.5)
    assert svm_uar(Xs, ys, X, y) == svm_uar(Xs, ys, X, y, X_norm=X)


@pytest.mark.parametrize("method,params", [("duplicate", {}), ("noise", {"sigma": 0.1})])
def test_columns_are_finite_with_validation_speakers_and_nan_without(tmp_path, method, params):
    manifest, features = toy(n=72)
    held = augment_folds(manifest, features,
                         AugmentSettings(method, params, 1.0, PlanSettings(SCHEME, [0, 1], validation_speakers=1),
                                         progress=False),
                         tmp_path / "a", report_dir=tmp_path / "ra")
    assert np.isfinite(held[list(VALIDATION)].to_numpy(float)).all()
    written = pd.read_csv(tmp_path / "ra" / "quality.csv")
    assert list(written.columns[-3:]) == list(VALIDATION)
    whole = augment_folds(manifest, features,
                          AugmentSettings(method, params, 1.0, PlanSettings(SCHEME, [0, 1], validation_speakers=0),
                                          progress=False),
                          tmp_path / "b")
    assert np.isnan(whole[list(VALIDATION)].to_numpy(float)).all()
    # the other columns do not depend on the new ones
    other = [c for c in whole.columns if c not in VALIDATION]
    assert list(held.columns) == other + list(VALIDATION)


def test_none_gets_no_validation_columns(tmp_path):
    manifest, features = toy()
    table = augment_folds(manifest, features,
                          AugmentSettings("none", {}, None, PlanSettings(SCHEME, 0, validation_speakers=1),
                                          progress=False),
                          tmp_path / "out")
    assert not set(VALIDATION) & set(table.columns)


def _spy(monkeypatch):
    """Record (fit rows, synthetic rows, validation rows) of every call, by row id (column 0)."""
    calls = []
    real = stage_module.validation_measures

    def spy(X_fit, y_fit, X_syn, y_syn, X_val, y_val):
        calls.append((X_fit[:, 0].astype(int).tolist(), X_val[:, 0].astype(int).tolist(), list(y_val)))
        return real(X_fit, y_fit, X_syn, y_syn, X_val, y_val)

    monkeypatch.setattr(stage_module, "validation_measures", spy)
    return calls


def _expected_validation_rows(manifest, fraction, seed):
    """Per fold: the rows of the DNN's validation speaker in the fold's training part at ``fraction``."""
    speakers, y = manifest["speaker"].to_numpy(), manifest["emotion"].to_numpy()
    out = []
    for fold in folds_for(manifest, SCHEME):
        rows = train_subset(fold, speakers, y, fraction, seed).train
        # the DNN draws from its training groups: real speakers and the synthetic rows' group
        held = inner_validation_groups(np.append(speakers[rows], SYNTHETIC_GROUP), 1, seed, fold.name)
        out.append((fold, rows, [int(r) for r in rows if speakers[r] in held]))
    return out


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_spy_validation_rows_are_the_validation_speakers_never_the_test_speaker(tmp_path, monkeypatch, fraction):
    manifest, features = toy(n=96)
    calls = _spy(monkeypatch)
    seeds = [0, 1, 2]
    augment_folds(manifest, features,
                  AugmentSettings("duplicate", {}, 1.0,
                                  PlanSettings(SCHEME, seeds, train_fraction=fraction, validation_speakers=1),
                                  progress=False),
                  tmp_path / "out")
    speakers, y = manifest["speaker"].to_numpy(), manifest["emotion"].to_numpy()
    expected = [e for seed in seeds for e in _expected_validation_rows(manifest, fraction, seed)]
    assert len(calls) == len(expected) == 3 * 4
    for (fit_rows, val_rows, val_labels), (fold, subset, rows) in zip(calls, expected):
        assert val_rows == rows and len(rows) > 0
        assert fold.name not in set(speakers[val_rows])  # never the test speaker
        assert not set(val_rows) & set(fold.test) and not set(val_rows) & set(fit_rows)
        assert len(set(speakers[val_rows])) == 1 and val_labels == y[val_rows].tolist()
        # the augmenter's rows and the validation rows split the fold's training part at this fraction
        assert sorted(fit_rows + val_rows) == subset.tolist()
    if fraction < 1:  # the validation speakers are cut like every training speaker
        whole = [rows for seed in seeds for _, _, rows in _expected_validation_rows(manifest, 1.0, seed)]
        assert sum(map(len, (c[1] for c in calls))) < sum(map(len, whole))


def test_spy_audio_method_measures_on_the_validation_speakers(tmp_path, monkeypatch):
    manifest, features = toy(n=72)
    names = [c for c in features.columns if c != "file"]

    def perturb(rows, root, feature_set, perturber, seed, **kwargs):
        n = len(rows)
        X = features[names].to_numpy()[np.repeat(np.arange(n), perturber.copies)].astype(np.float32)
        return Perturbed(np.repeat(np.arange(n), perturber.copies), np.tile(np.arange(perturber.copies), n),
                         X, names, 0.0)

    monkeypatch.setattr(stage_module, "perturb_features", perturb)
    calls = _spy(monkeypatch)
    table = augment_folds(manifest, features,
                          AugmentSettings("audio_noise", {}, 1, PlanSettings(SCHEME, [0, 1], validation_speakers=1),
                                          progress=False, audio_root=tmp_path, feature_set="eGeMAPSv02"),
                          tmp_path / "out")
    expected = [e for seed in (0, 1) for e in _expected_validation_rows(manifest, 1.0, seed)]
    assert [c[1] for c in calls] == [rows for _, _, rows in expected]
    for (fit_rows, val_rows, _), (fold, _, _) in zip(calls, expected):
        assert not set(val_rows) & set(fold.test) and not set(val_rows) & set(fit_rows)
    assert np.isfinite(table[list(VALIDATION)].to_numpy(float)).all()


def test_dask_tasks_receive_the_validation_rows(tmp_path, dask_scheduler):
    manifest, features = toy()
    settings = AugmentSettings("noise", {"sigma": 0.1}, 1.0, PlanSettings(SCHEME, [0, 1], validation_speakers=1),
                               progress=False)
    local = augment_folds(manifest, features, settings, tmp_path / "local")
    dask = augment_folds(manifest, features, replace(settings, scheduler=dask_scheduler), tmp_path / "dask")
    assert np.isfinite(dask[list(VALIDATION)].to_numpy(float)).all()
    pd.testing.assert_frame_equal(local, dask)
