"""The foundation's accuracy targets, measured on the real corpora in $ADAN_CORPORA.

EmoDB (2-second copy), IS11, leave-one-speaker-out, linear SVM C=0.001: WA ≥ 75 %, UAR ≥ 72 %.
RAVDESS (24 actors, 8 emotions), IS10, leave-one-speaker-out, RBF SVM C=10: WA ≥ 58 %, UAR ≥ 56 %.
These run the same library calls as the prepare → extract → evaluate stages.
"""

import pytest

from adan_ser.contracts.plan import PlanSettings
from adan_ser.corpora.build import build_manifest
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.features.opensmile import extract_features
from adan_ser.reporting.metrics import scores

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _svm_scores(corpus, root, feature_set, svm):
    manifest = build_manifest(corpus, root)
    features, bad = extract_features(manifest, root, feature_set, workers=2, progress=False)
    assert bad == []
    pred = evaluate(manifest, features,
                    EvaluateSettings({"svm": svm}, corpus, feature_set, PlanSettings("leave-one-speaker-out", 0)))
    assert pred["fold"].nunique() == manifest["speaker"].nunique()
    return manifest, scores(pred["true"], pred["pred"], sorted(manifest["emotion"].unique()))


def test_emodb_is11_linear_svm_reaches_target(emodb_root):
    manifest, s = _svm_scores("emodb", emodb_root, "IS11", {"kernel": "linear", "C": 0.001})
    assert len(manifest) == 535 and manifest["speaker"].nunique() == 10
    assert s["wa"] >= 75.0 and s["uar"] >= 72.0, s


def test_ravdess_is10_rbf_svm_reaches_target(ravdess_root):
    manifest, s = _svm_scores("ravdess", ravdess_root, "IS10", {"kernel": "rbf", "C": 10})
    assert len(manifest) == 1440 and manifest["speaker"].nunique() == 24
    assert s["wa"] >= 58.0 and s["uar"] >= 56.0, s
