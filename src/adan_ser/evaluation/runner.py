"""Cross-validation loop: every fitted step sees the training fold only.

The loop is the one place where folds meet models, so the no-leakage guarantee lives here:
``make_model`` builds a fresh, unfitted estimator for every fold, it is fitted on the training
rows (plus that fold's synthetic rows, which the augmenter produced from the same training rows),
and only ``predict`` ever touches the test rows.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from adan_ser.classifiers.factory import fit_classifier
from adan_ser.contracts.folds import SYNTHETIC_GROUP
from adan_ser.classifiers.torch_base import validation_uar
from adan_ser.core.errors import AdanError
from adan_ser.contracts.folds import Fold
from adan_ser.core.scheduler import check_scheduler, run_tasks

TRAIN_DATA = ("real", "synthetic", "real+synthetic")

#: (fold name) -> (X_syn (m, d) in feature units, y_syn (m,)) produced from that fold's training rows.
SyntheticSource = Callable[[str], tuple[np.ndarray, np.ndarray]]


def training_set(
    X: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    fold: Fold,
    train_data: str,
    synthetic: Optional[SyntheticSource],
) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Rows a model of this fold is trained on: (X_train, y_train, groups or None).

    Synthetic rows carry no speaker, so with synthetic data the groups are dropped for them:
    early stopping then holds out real speakers only (``real+synthetic``) or a stratified share.
    """
    if train_data not in TRAIN_DATA:
        raise AdanError(f"unknown train_data {train_data!r}; known: {', '.join(TRAIN_DATA)}")
    Xr, yr, gr = X[fold.train], y[fold.train], speakers[fold.train]
    if train_data == "real":
        return Xr, yr, gr
    if synthetic is None:
        raise AdanError(f"train_data {train_data!r} needs synthetic data, but none was given")
    Xs, ys = synthetic(fold.name)
    if train_data == "synthetic":
        return np.asarray(Xs), np.asarray(ys), None
    gs = np.full(len(ys), SYNTHETIC_GROUP, dtype=object)
    return (
        np.concatenate([Xr, Xs]),
        np.concatenate([yr, ys]),
        np.concatenate([gr.astype(object), gs]),
    )


def _fit_predict_fold(
    make_model, fold_name, X_train, y_train, groups, X_test
) -> tuple[np.ndarray, pd.DataFrame, float]:
    """Build ``make_model(fold_name)``, fit it on one fold's training rows, predict its test rows.

    The unit of work of :func:`cross_validate`, and the task a Dask worker runs: it receives
    that fold's rows only. Returns ``(pred, scores, val_uar)``: predictions, shape
    ``(len(X_test),)``, the per-class scores of :func:`score_frame` (``(len(X_test), K)``, or no
    columns), computed on the worker so Dask and local runs return the same columns, and
    :func:`adan_ser.classifiers.torch_base.validation_uar` of the fitted model.
    """
    model = make_model(fold_name)
    fit_classifier(model, X_train, y_train, groups)
    return np.asarray(model.predict(X_test)), score_frame(model, X_test), validation_uar(model)



def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    folds: Sequence[Fold],
    make_model: Callable[[str], object],
    *,
    train_data: str = "real",
    synthetic: Optional[SyntheticSource] = None,
    progress: bool = True,
    desc: str = "folds",
    scheduler: Optional[str] = None,
) -> pd.DataFrame:
    """Fit one fresh model per fold and predict that fold's test rows.

    X: (n, d) features in feature units; y: (n,) labels; speakers: (n,) speaker per row (the
    groups that early stopping and inner searches hold out inside the training fold).
    ``make_model(fold_name)`` returns a fresh, unfitted estimator (a Pipeline whose last step
    takes ``groups``). ``scheduler``: None or ``"local"`` runs the folds here one after the
    other; a Dask scheduler address (``tcp://host:8786``) runs them as independent tasks on
    its workers (``make_model`` is pickled with cloudpickle; each task gets its fold's rows
    only). Models are seeded per fold, so both give the same predictions for the same seed.
    Returns one row per test utterance: ``row`` (position in X), ``fold``, ``true``, ``pred``,
    ``val_uar`` (the fold model's inner-validation UAR, NaN without one; see
    :func:`adan_ser.classifiers.torch_base.validation_uar`) and, when the model has
    ``decision_function``, one ``score_<class>`` column per class (see :func:`score_frame`;
    computed inside the fold task, so Dask and local agree).
    """
    check_scheduler(scheduler)
    y = np.asarray(y)
    speakers = np.asarray(speakers).astype(str)
    folds = list(folds)

    def task_args(fold):
        Xtr, ytr, gtr = training_set(X, y, speakers, fold, train_data, synthetic)
        return (make_model, fold.name, Xtr, ytr, gtr, X[fold.test])

    # On Dask each fold's task is submitted as its rows are cut; results come back in fold order.
    preds = list(run_tasks(_fit_predict_fold, (task_args(f) for f in folds), scheduler,
                           desc=desc, progress=progress, leave=False, total=len(folds)))
    parts = [
        pd.concat(
            [
                pd.DataFrame(
                    {"row": fold.test, "fold": fold.name, "true": y[fold.test], "pred": pred,
                     "val_uar": val_uar}
                ),
                scores.reset_index(drop=True),
            ],
            axis=1,
        )
        for fold, (pred, scores, val_uar) in zip(folds, preds)
    ]
    return pd.concat(parts, ignore_index=True)


def score_frame(model, X_test: np.ndarray) -> pd.DataFrame:
    """Per-class scores of a fitted model on (n, d) test rows: columns ``score_<class>``, (n, K).

    ``decision_function`` is used for every classifier (SVM: one-vs-rest scores; DNN: logits,
    whose softmax is ``predict_proba``), so scores of one classifier are comparable across folds.
    A two-class SVM returns one score for ``classes_[1]``; it is stored as (−s, s).
    No ``decision_function`` → an empty frame.
    """
    if not hasattr(model, "decision_function"):
        return pd.DataFrame(index=range(len(X_test)))
    s = np.asarray(model.decision_function(X_test), dtype=np.float64)
    if s.ndim == 1:
        s = np.column_stack([-s, s])
    return pd.DataFrame(s, columns=[f"score_{c}" for c in model.classes_])


def combinations(classifiers: Iterable[str], train_data: Iterable[str]) -> list[tuple[str, str]]:
    return [(c, t) for c in classifiers for t in train_data]
