"""Input checks of the feature-vector classifiers, with scikit-learn's conventions and AdanError's.

Bad X or y raises :class:`InputError` (or :class:`InputTypeError` for data numpy cannot make
numeric): an :class:`~adan_ser.core.errors.AdanError`, so the CLI prints its one-line message, that
is also the ``ValueError`` (``TypeError``) scikit-learn's estimator checks and callers expect.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from adan_ser.contracts.align import check_finite
from adan_ser.core.errors import AdanError, InputError, InputTypeError, one_line


def check_features(estimator, X, y=None, *, reset: bool, what: str):
    """X as a (n_samples, n_features) float64 array, and with ``reset`` y as (n_samples,) labels.

    ``reset=True`` (fit): y is required and must be class labels; ``n_features_in_`` (and
    ``feature_names_in_`` for a DataFrame) are set on ``estimator``. ``reset=False`` (predict):
    X must have the fitted number of features. NaN/inf are reported by column and row
    (:func:`check_finite`). ``what`` names the classifier in messages. Returns X, or (X, y).
    """
    try:
        if reset:
            X, y = validate_data(estimator, X, y, reset=True, dtype=np.float64, ensure_all_finite=False)
            check_classification_targets(y)
        else:
            X = validate_data(estimator, X, reset=False, dtype=np.float64, ensure_all_finite=False)
    except TypeError as exc:
        raise InputTypeError(f"{what}: {one_line(exc)}") from None
    except ValueError as exc:
        raise InputError(f"{what}: {one_line(exc)}") from None
    names = getattr(estimator, "feature_names_in_", None)
    try:
        check_finite(X, names=None if names is None else list(names), what=f"{what}: features")
    except AdanError as exc:
        raise InputError(str(exc)) from None
    return (X, y) if reset else X


def check_n_classes(classes: np.ndarray, what: str) -> None:
    """InputError unless ``classes`` (the distinct training labels) holds at least two."""
    if len(classes) < 2:
        raise InputError(f"{what}: need at least 2 classes in y, got {len(classes)} class: {classes.tolist()}")

