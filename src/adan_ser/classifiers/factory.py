"""Classifier construction from params.

The result is a plain scikit-learn ``Pipeline``; speaker groups reach the classifier through the
step name: ``pipeline.fit(X, y, clf__groups=groups)``.
"""

from __future__ import annotations

from typing import Optional

from sklearn.pipeline import Pipeline

from adan_ser.classifiers.preprocess import make_preprocessor
from adan_ser.classifiers.specs import CLASSIFIERS
from adan_ser.core.errors import AdanError
from adan_ser.core.scaling import Z_CLIP

__all__ = ["CLASSIFIERS", "make_classifier"]


def make_classifier(name: str, params: Optional[dict], seed: int, fold: Optional[str] = None,
                    scale_on: str = "real", clip_z: Optional[float] = Z_CLIP) -> Pipeline:
    """Unfitted ``Pipeline([("pre", make_preprocessor(scale_on)), ("clf", <classifier>)])``.

    Fit it with ``fit(X, y, clf__groups=speakers)`` so early stopping and inner searches hold out
    whole speakers (both classifiers take ``groups`` in ``fit``).

    ``name``: a registered classifier (:data:`adan_ser.classifiers.specs.CLASSIFIER_SPECS`);
    ``params``: constructor arguments of the classifier (see SVMClassifier / DNNClassifier).
    ``seed`` is the experiment seed and is the only source of the classifier's ``random_state``, so a
    ``random_state`` key in params is rejected rather than silently winning or losing. ``fold``: the name
    of the fold the model trains in; a classifier with inner validation (``val_fold``) draws its
    validation speakers from (seed, fold), as the augment stage does. Likewise set here only.
    ``scale_on``: ``classify.scale_on``, the training rows the preprocessor is fitted on (``all``, or
    ``real``: the evaluation runner marks them with ``pre__real_rows``); ``clip_z``:
    ``classify.clip_z``, the bound on the preprocessor's z-scores (None: none).
    """
    if name not in CLASSIFIERS:
        raise AdanError(f"unknown classifier {name!r}; known: {', '.join(sorted(CLASSIFIERS))}")
    cls = CLASSIFIERS[name]
    params = dict(params or {})
    known = set(cls._get_param_names())
    for key in params:
        if key == "random_state":
            raise AdanError(f"{name} parameter 'random_state' is set by the experiment seed, not in params")
        if key == "val_fold":
            raise AdanError(f"{name} parameter 'val_fold' is set by the fold, not in params")
        if key not in known:
            raise AdanError(
                f"unknown {name} parameter {key!r}; known: {', '.join(sorted(known - {'random_state'}))}"
            )
    if "val_fold" in known:
        params["val_fold"] = fold
    return Pipeline([("pre", make_preprocessor(scale_on, clip_z)), ("clf", cls(**params, random_state=seed))])
