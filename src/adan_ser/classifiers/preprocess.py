"""Feature preprocessing shared by every classifier, and input checks.

The preprocessor is an sklearn ``Pipeline`` so that it is fitted on the training fold only and
then applied unchanged to the test fold (statistics never see test rows).
"""

from __future__ import annotations

from sklearn.feature_selection import VarianceThreshold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def make_preprocessor() -> Pipeline:
    """Unfitted ``VarianceThreshold(0.0)`` → ``StandardScaler()``.

    Input (n_samples, n_features) in feature units; output (n_samples, n_kept) z-scores, where
    the features constant on the training rows are dropped (they would divide by zero).
    """
    return Pipeline([("drop_constant", VarianceThreshold(0.0)), ("scale", StandardScaler())])


