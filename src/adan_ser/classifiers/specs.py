"""One declarative entry per classifier: the only place a classifier is named.

A :class:`ClassifierSpec` ties a name in params.yaml (``classify.models``, the block
``classify.<name>``) to its estimator class; the params schema block is derived from that class's
constructor (defaults) and ``_parameter_constraints`` (kinds and bounds), and
:func:`~adan_ser.classifiers.factory.make_classifier` builds it. Adding a classifier is one module
with its estimator and one :func:`register` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.svm import SVMClassifier
from adan_ser.core.errors import AdanError

__all__ = ["ClassifierSpec", "CLASSIFIERS", "CLASSIFIER_SPECS", "register", "unregister", "SET_BY_THE_RUN"]

#: Constructor parameters the evaluation run sets (the experiment seed, the fold, the log folder),
#: never a params key.
SET_BY_THE_RUN = ("random_state", "val_fold", "log_dir")


@dataclass(frozen=True)
class ClassifierSpec:
    """How ``classify.<name>`` is built.

    Parameters
    ----------
    name : str
        As in params (``classify.models``) and the ``classifier`` column of results.
    estimator : type
        A scikit-learn classifier taking ``fit(X, y, groups=None)`` and a ``random_state``; its
        constructor's defaults and ``_parameter_constraints`` make the params block.
    block : str
        The params block its constructor arguments come from (``classify.<name>``).
    hints : mapping
        Per-key lines the params schema shows after an error (what the key does).
    """

    name: str
    estimator: type
    block: str = ""
    hints: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not self.block:
            object.__setattr__(self, "block", f"classify.{self.name}")


#: Every classifier spec by name.
CLASSIFIER_SPECS: dict[str, ClassifierSpec] = {}


#: Classifier name → estimator class (a view of :data:`CLASSIFIER_SPECS`, kept in step by :func:`register`).
CLASSIFIERS: dict[str, type] = {}


def register(spec: ClassifierSpec) -> ClassifierSpec:
    """Add ``spec`` (a new name) to :data:`CLASSIFIER_SPECS`; returns it."""
    if spec.name in CLASSIFIER_SPECS:
        raise AdanError(f"classifier {spec.name!r} is already registered")
    CLASSIFIER_SPECS[spec.name] = spec
    CLASSIFIERS[spec.name] = spec.estimator
    return spec


def unregister(name: str) -> None:
    """Remove classifier ``name`` (e.g. a test's own)."""
    del CLASSIFIER_SPECS[name], CLASSIFIERS[name]


register(ClassifierSpec("svm", SVMClassifier, hints={
    "C": "SVM regularisation", "grid": "a mapping parameter → list of values for inner_search",
    "solver": "linear kernel's solver; auto: by training rows"}))
register(ClassifierSpec("dnn", DNNClassifier, hints={
    "hidden": "hidden layer widths", "batch_norm": "batch normalisation after each hidden layer",
    "weight_decay": "Adam weight decay on every parameter",
    "l2": "Keras-style L2 penalty l2·Σw² on Linear kernels",
    "l2_first": "whether l2 also penalises the first hidden layer",
    "device": "auto, cpu, cuda, cuda:N or mps", "head": "e.g. softmax, arcface, arcface+focal"}))
