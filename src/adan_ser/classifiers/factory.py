"""Classifier construction from params, and fitting with speaker groups routed to the model."""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.pipeline import Pipeline

from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.preprocess import make_preprocessor
from adan_ser.contracts.align import check_finite
from adan_ser.classifiers.svm import SVMClassifier
from adan_ser.core.errors import AdanError

CLASSIFIERS = {"svm": SVMClassifier, "dnn": DNNClassifier}


def make_classifier(name: str, params: Optional[dict], seed: int) -> Pipeline:
    """Unfitted ``Pipeline([("pre", make_preprocessor()), ("clf", <classifier>)])``.

    ``params``: constructor arguments of the classifier (see SVMClassifier / DNNClassifier).
    ``seed`` is the experiment seed and is the only source of the classifier's seed, so a
    ``seed`` key in params is rejected rather than silently winning or losing.
    """
    if name not in CLASSIFIERS:
        raise AdanError(f"unknown classifier {name!r}; known: {', '.join(sorted(CLASSIFIERS))}")
    cls = CLASSIFIERS[name]
    params = dict(params or {})
    known = set(cls._get_param_names())
    for key in params:
        if key == "seed":
            raise AdanError(f"{name} parameter 'seed' is set by the experiment seed, not in params")
        if key not in known:
            raise AdanError(
                f"unknown {name} parameter {key!r}; known: {', '.join(sorted(known - {'seed'}))}"
            )
    return Pipeline([("pre", make_preprocessor()), ("clf", cls(**params, seed=seed))])


def fit_classifier(pipeline: Pipeline, X, y, groups=None) -> Pipeline:
    """Fit every step but the last on X, then ``clf.fit(Xt, y, groups=groups)``; returns pipeline.

    X: (n_samples, n_features) training rows only; y: (n_samples,); groups: (n_samples,)
    speakers or None. Plain ``Pipeline.fit`` cannot pass groups to the last step without
    sklearn's metadata routing, hence this helper.
    """
    X = check_finite(X, what="training features")
    y = np.asarray(y)
    Xt = pipeline[:-1].fit_transform(X, y)
    pipeline.steps[-1][1].fit(Xt, y, groups=groups)
    return pipeline
