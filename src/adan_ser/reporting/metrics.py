"""Weighted accuracy (WA), unweighted average recall (UAR), per-class recall and confusion matrices."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix


def confusion(y_true: Sequence, y_pred: Sequence, classes: Sequence) -> np.ndarray:
    """(K, K) counts; row = true class, column = predicted class, in ``classes`` order."""
    return confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=list(classes))


def scores(y_true: Sequence, y_pred: Sequence, classes: Sequence) -> dict:
    """WA and UAR in percent, per-class recall in percent, and the confusion matrix (lists).

    UAR averages recall over the classes that occur in ``y_true`` (a fold may lack a class).
    """
    cm = confusion(y_true, y_pred, classes)
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(cm), support, out=np.zeros(len(classes)), where=present)
    n = cm.sum()
    return {
        "wa": float(100.0 * np.trace(cm) / n) if n else float("nan"),
        "uar": float(100.0 * recall[present].mean()) if present.any() else float("nan"),
        "recall": {str(c): float(100.0 * r) for c, r, p in zip(classes, recall, present) if p},
        "confusion": cm.tolist(),
        "n": int(n),
    }
