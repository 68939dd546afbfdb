import numpy as np
import pytest
from sklearn.datasets import make_classification

from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.factory import make_classifier
from adan_ser.classifiers.svm import SVMClassifier
from adan_ser.core.errors import AdanError


def _data():
    X, y = make_classification(300, 20, n_informative=10, n_redundant=0, n_classes=4,
                               class_sep=3.0, random_state=0)
    X = X * 50 + 1000  # raw feature units: the pipeline must scale them
    X[:, 7] = 3.0  # constant column: dropped by the preprocessor
    groups = np.repeat([f"spk{i}" for i in range(6)], 50)
    return X, np.array(list("wxyz"))[y], groups


def test_builds_pre_then_clf_with_seed():
    svm = make_classifier("svm", {"kernel": "linear", "C": 2.0}, seed=3)
    assert [name for name, _ in svm.steps] == ["pre", "clf"]
    assert isinstance(svm["clf"], SVMClassifier)
    assert svm["clf"].C == 2.0 and svm["clf"].random_state == 3
    dnn = make_classifier("dnn", {"hidden": [16]}, seed=7)
    assert isinstance(dnn["clf"], DNNClassifier) and dnn["clf"].random_state == 7


def test_unknown_name_and_param_are_named():
    with pytest.raises(AdanError, match=r"'rf'.*dnn, svm"):
        make_classifier("rf", {}, seed=0)
    with pytest.raises(AdanError, match="'lerning_rate'"):
        make_classifier("dnn", {"lerning_rate": 0.1}, seed=0)
    with pytest.raises(AdanError, match="'random_state' is set by the experiment seed"):
        make_classifier("svm", {"random_state": 1}, seed=0)
    with pytest.raises(AdanError, match="'val_fold' is set by the fold"):
        make_classifier("dnn", {"val_fold": "a"}, seed=0)


def test_fold_places_the_dnn_validation_speakers(one_torch_thread):
    """The DNN holds out the fold contract's draw of its (seed, fold), the speakers the augment
    stage keeps from that fold's augmenters."""
    from adan_ser.contracts.folds import inner_validation_groups

    X, y, g = _data()
    assert make_classifier("svm", {}, seed=0, fold="spk5")["clf"].get_params().get("val_fold") is None
    for fold in ("spk0", "spk5", "other"):
        model = make_classifier("dnn", {"hidden": [4], "epochs": 1, "device": "cpu"}, seed=2, fold=fold)
        assert model["clf"].val_fold == fold
        model.fit(X, y, clf__groups=g)
        assert list(model["clf"].val_groups_) == list(inner_validation_groups(g, 1, 2, fold))


def test_pipeline_fit_routes_groups_by_step_name_and_fits_pre_on_train_only():
    X, y, g = _data()
    model = make_classifier("svm", {"inner_search": True, "grid": {"C": [0.1, 10]}}, seed=0)
    assert model.fit(X[:250], y[:250], clf__groups=g[:250]) is model
    assert model["clf"].cv_results_ is not None  # the search ran, so groups arrived
    assert model["pre"]["drop_constant"].get_support().sum() == 19
    np.testing.assert_allclose(model["pre"]["scale"].mean_, np.delete(X[:250], 7, 1).mean(0))
    assert (model.predict(X[250:]) == y[250:]).mean() > 0.9




def test_pipeline_fit_dnn_holds_out_a_speaker(one_torch_thread):
    X, y, g = _data()
    model = make_classifier("dnn", {"hidden": [32], "epochs": 30, "device": "cpu"}, seed=0)
    model.fit(X[:250], y[:250], clf__groups=g[:250])
    clf = model["clf"]
    assert len(clf.val_groups_) == 1 and clf.val_groups_[0] in set(g[:250])
    assert (model.predict(X[250:]) == y[250:]).mean() > 0.7  # unseen speaker, 200 training rows


@pytest.mark.parametrize("name", ["svm", "dnn"])
def test_pipeline_fit_rejects_nan(name):
    X, y, g = _data()
    X[5, 4] = np.nan
    with pytest.raises(AdanError, match="index 4.*first at row 5"):
        make_classifier(name, {"epochs": 1} if name == "dnn" else {}, seed=0).fit(X, y, clf__groups=g)
