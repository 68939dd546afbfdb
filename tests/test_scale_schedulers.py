"""Past one machine at scale: augment and evaluate on a Dask cluster give the local outputs, with
the size-dependent paths engaged (measures drawn under their row caps, the SVM on liblinear).

The toy corpus is sized so that every fold crosses the caps: 4 speakers × 700 rows, each fold's
augmenter trains on 1400 rows (2 speakers; the third validates), SMOTE adds 1400, so the measures
subsample (QUERY_ROWS 500, MEASURE_ROWS 1000) and real + synthetic training sets (3500 rows) are
above LIBLINEAR_MIN_ROWS.
"""

import numpy as np
import pandas as pd

from adan_ser.augment.measures.quality import MEASURE_ROWS, QUERY_ROWS
from adan_ser.augment.stage import AugmentSettings, augment_folds
from adan_ser.classifiers.svm import LIBLINEAR_MIN_ROWS
from adan_ser.contracts.plan import PlanSettings
from adan_ser.evaluation.evaluate import EvaluateSettings, evaluate
from tests.toy import toy_corpus

SCHEME = "leave-one-speaker-out"


def test_augment_and_evaluate_above_the_caps_match_local_on_dask(tmp_path, dask_scheduler):
    manifest, features = toy_corpus(n=2800, speakers=4, d=8, separation=0.7)
    assert 1400 > QUERY_ROWS and 2800 > MEASURE_ROWS and 3500 >= LIBLINEAR_MIN_ROWS
    tables, preds = {}, {}
    for where, scheduler in (("local", None), ("dask", dask_scheduler)):
        out = tmp_path / where / "smote"
        settings = AugmentSettings("smote", {"k_neighbors": 5}, 1.0, PlanSettings(SCHEME, 0, validation_speakers=1),
                                   scheduler=scheduler, progress=False)
        tables[where] = augment_folds(manifest, features, settings, out)
        preds[where] = evaluate(manifest, features,
                                EvaluateSettings({"svm": {"kernel": "linear", "C": 0.001}}, "toy", "f",
                                                 PlanSettings(SCHEME, 0), synthetic_dirs={"smote": out},
                                                 train_data=("real", "real+synthetic"), scheduler=scheduler))
    pd.testing.assert_frame_equal(tables["local"], tables["dask"])
    for file in sorted((tmp_path / "local" / "smote").rglob("*.parquet")):
        twin = tmp_path / "dask" / "smote" / file.relative_to(tmp_path / "local" / "smote")
        assert file.read_bytes() == twin.read_bytes(), file.name
    pd.testing.assert_frame_equal(preds["local"], preds["dask"])
    solvers = preds["local"].groupby("method")["solver"].unique()
    assert list(solvers["smote"]) == ["liblinear"] and list(solvers["none"]) == ["liblinear"]
    assert np.isfinite(tables["local"][["two_sample_acc", "nn_ratio", "val_mixed_svm_uar"]].to_numpy(float)).all()
