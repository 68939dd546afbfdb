"""What the torch classifiers share: the inner validation split, class weights, and the epoch loop
with speaker-held-out early stopping and dvclive curves.

Used by :class:`adan_ser.classifiers.dnn.DNNClassifier` (feature vectors) and
:class:`adan_ser.classifiers.spectrogram_classifier.SpectroClassifier` (spectrogram segments); each supplies its own
epoch and validation step.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

from adan_ser.contracts.folds import holdout_groups
from adan_ser.core.errors import AdanError

VAL_SHARE = 0.1  # validation share of the rows when no speakers are given


def uar(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Balanced accuracy (0–1) over the classes present in ``y_true`` (a held-out speaker may lack some).

    y_true, y_pred: (n,) class indices in [0, n_classes).
    """
    support = np.bincount(y_true, minlength=n_classes)
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    present = support > 0
    return float((hits[present] / support[present]).mean())


def validation_split(y_idx: np.ndarray, groups, val_groups: int, seed: int,
                     rng: np.random.Generator, what: str):
    """Hold out ``val_groups`` training speakers (or, without speakers, a stratified 10 %).

    y_idx: (n,) class indices; groups: (n,) speakers or None. Speakers are drawn with ``rng`` among
    those that :func:`holdout_groups` allows. Returns ``(train_idx, val_idx, held speakers or None)``;
    ``val_idx`` is empty when ``val_groups`` ≤ 0. ``what`` names the classifier in errors.
    """
    n = len(y_idx)
    idx = np.arange(n)
    if int(val_groups) <= 0:
        return idx, idx[:0], None
    if groups is not None:
        g = np.asarray(groups).astype(str)
        if len(g) != n:
            raise AdanError(f"groups has {len(g)} entries for {n} rows")
        candidates = holdout_groups(g)
        n_distinct = len(np.unique(g))
        if n_distinct >= 2 and len(candidates) >= 1:
            k = min(int(val_groups), len(candidates), n_distinct - 1)
            held = np.sort(rng.choice(candidates, size=k, replace=False))
            mask = np.isin(g, held)
            return idx[~mask], idx[mask], held
    n_val = max(1, int(round(VAL_SHARE * n)))
    if n - n_val < 1:
        raise AdanError(f"{what}: {n} rows are too few to hold out a validation set")
    try:
        sss = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=int(seed))
        tr, va = next(sss.split(idx, y_idx))
    except ValueError:  # a class with a single row cannot be stratified
        perm = rng.permutation(n)
        tr, va = perm[n_val:], perm[:n_val]
    return np.sort(tr), np.sort(va), None


def class_weights(class_weight, y_train: np.ndarray, classes: np.ndarray, what: str) -> Optional[np.ndarray]:
    """(n_classes,) cross-entropy weights from ``class_weight``, or None for unweighted.

    ``"balanced"``: max(count)/count over the training rows ``y_train`` (class indices; a class
    without rows gets 0 rather than inf); a ``{label: weight}`` dict (missing labels 1).
    """
    n_classes = len(classes)
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise AdanError(f"{what}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        counts = np.bincount(y_train, minlength=n_classes).astype(float)
        return np.divide(counts.max(), counts, out=np.zeros(n_classes), where=counts > 0)
    if isinstance(class_weight, dict):
        known = set(np.asarray(classes).tolist())
        unknown = [k for k in class_weight if k not in known]
        if unknown:
            raise AdanError(f"{what}: class_weight names unknown class {unknown[0]!r}")
        return np.array([float(class_weight.get(c, 1.0)) for c in np.asarray(classes).tolist()])
    raise AdanError(f"{what}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")


def open_live(log_dir):
    """A dvclive ``Live`` writing to ``log_dir`` (metrics under ``plots/``), or None without a folder."""
    if log_dir is None:
        return None
    from dvclive import Live  # lazy: dvclive pulls in dvc/git machinery

    return Live(str(log_dir), save_dvc_exp=False, dvcyaml=None)


def train_epochs(
    run_epoch: Callable[[], float],
    validate: Optional[Callable[[], tuple[float, float]]],
    snapshot: Callable[[], Any],
    restore: Callable[[Any], None],
    *,
    epochs: int,
    patience: int,
    log_dir=None,
) -> tuple[list[dict], int]:
    """Run up to ``epochs`` epochs, keeping the weights of the best validation epoch.

    ``run_epoch()`` trains one epoch and returns its mean training loss; ``validate()`` returns
    ``(val_loss, val_uar)`` (None: no validation, the last epoch is kept). The best epoch has the
    highest validation UAR, ties broken by the lower loss; training stops after ``patience``
    epochs without a better one and ``restore(snapshot())`` of the best epoch is loaded back.
    Curves go to dvclive under ``log_dir`` (``train/loss``, ``val/loss``, ``val/uar``).
    Returns ``(history, best_epoch)``: one dict per epoch (epoch, train_loss, val_loss, val_uar).
    """
    live = open_live(log_dir)
    history: list[dict] = []
    best_key, best_state, best_epoch, wait = None, None, 0, 0
    try:
        for epoch in range(1, int(epochs) + 1):
            rec = {"epoch": epoch, "train_loss": float(run_epoch()), "val_loss": math.nan, "val_uar": math.nan}
            if validate is not None:
                rec["val_loss"], rec["val_uar"] = validate()
            history.append(rec)
            if live is not None:
                live.log_metric("train/loss", rec["train_loss"])
                if validate is not None:
                    live.log_metric("val/loss", rec["val_loss"])
                    live.log_metric("val/uar", rec["val_uar"])
                live.next_step()
            if validate is None:
                best_epoch = epoch
                continue
            key = (rec["val_uar"], -rec["val_loss"])
            if best_key is None or key > best_key:
                best_key, best_epoch, wait = key, epoch, 0
                best_state = snapshot()
            else:
                wait += 1
                if wait >= int(patience):
                    break
        if best_state is not None:
            restore(best_state)
        if live is not None:
            live.summary["best_epoch"] = best_epoch
    finally:
        if live is not None:
            live.end()
    return history, best_epoch


def validation_uar(model) -> float:
    """UAR in percent (4 decimals) on the inner validation speaker(s) at the kept epoch of a fitted
    torch classifier (or of the last step of a Pipeline ending in one); NaN for a model without
    an epoch history (the SVM) or trained without validation.

    Reads the ``history_`` and 1-based ``best_epoch_`` that :func:`train_epochs` returned to the
    estimator. Used to choose among heads without looking at the test fold.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    history, best = getattr(final, "history_", None), getattr(final, "best_epoch_", 0)
    if not history or best < 1:
        return math.nan
    return round(100.0 * float(history[best - 1]["val_uar"]), 4)
