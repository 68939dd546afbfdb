"""``classify.normalise: nap`` in the evaluate stage: fitted per fold on training speakers only."""

from __future__ import annotations

import numpy as np
import pytest

import adan_ser.classifiers.nap as nap_module
from adan_ser.core.errors import AdanError
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from adan_ser.reporting.report import normalise_note
from tests.toy import toy_corpus

SVM = {"svm": {"kernel": "linear", "C": 0.01}}


def test_nap_fits_on_training_speakers_and_records_its_k(monkeypatch):
    manifest, features = toy_corpus(n=60, speakers=5, separation=3.0)
    seen = []
    fit = nap_module.ValidatedNuisanceProjection.fit

    def spy(self, X, y, groups):
        seen.append((self.fold, set(np.asarray(groups).astype(str))))
        return fit(self, X, y, groups)

    monkeypatch.setattr(nap_module.ValidatedNuisanceProjection, "fit", spy)
    pred = evaluate(manifest, features, EvaluateSettings(SVM, corpus="toy", feature_set="F", normalise="nap"))
    assert len(seen) == manifest["speaker"].nunique()
    for fold, speakers in seen:
        assert fold not in speakers   # the test speaker's rows never reach the projection
    assert set(pred["normalise"]) == {"nap"}
    assert pred["nap_k"].isin([0, 1, 2, 4, 8]).all()
    again = evaluate(manifest, features, EvaluateSettings(SVM, corpus="toy", feature_set="F", normalise="nap"))
    np.testing.assert_array_equal(pred["pred"], again["pred"])


def test_nap_takes_no_enrolment_and_says_it_uses_no_test_audio():
    manifest, features = toy_corpus(n=40, speakers=4)
    with pytest.raises(AdanError, match="classify.enrol"):
        evaluate(manifest, features, EvaluateSettings(SVM, corpus="toy", feature_set="F", normalise="nap", enrol=2))
    import pandas as pd

    note = normalise_note(pd.Series(["nap"]))
    assert "no audio of the test speakers" in note and "uses unlabelled" not in note
