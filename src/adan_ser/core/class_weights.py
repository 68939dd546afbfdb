"""Per-class loss weights, one rule for every model that trains with a weighted cross-entropy."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from adan_ser.core.errors import AdanError


def class_weights(class_weight, y_index: np.ndarray, classes: Sequence, what: str) -> Optional[np.ndarray]:
    """(n_classes,) cross-entropy weights from a ``class_weight`` param, or None for unweighted.

    ``y_index``: (n_rows,) class indices 0..n_classes-1 of the training rows; ``classes``: the
    (n_classes,) labels, index order. ``"balanced"``: max(count) / count; a class without training
    rows gets 0 (it is never a target, so its weight never enters the loss). A ``{label: weight}``
    dict weighs the labels it names and leaves the others at 1. ``what`` names the model in errors.
    """
    classes = np.asarray(classes).tolist()
    n_classes = len(classes)
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise AdanError(f"{what}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        counts = np.bincount(np.asarray(y_index, dtype=np.int64), minlength=n_classes).astype(float)
        return np.divide(counts.max(), counts, out=np.zeros(n_classes), where=counts > 0)
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes)]
        if unknown:
            raise AdanError(f"{what}: class_weight names unknown class {unknown[0]!r}")
        return np.array([float(class_weight.get(c, 1.0)) for c in classes])
    raise AdanError(f"{what}: class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
