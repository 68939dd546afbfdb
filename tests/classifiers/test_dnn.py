import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs, make_classification
from sklearn.preprocessing import StandardScaler
from torch import nn

from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.heads import HEAD_NAMES
from adan_ser.contracts.folds import SYNTHETIC_GROUP
from adan_ser.core.errors import AdanError

SMALL = dict(hidden=(32,), epochs=40, patience=8, batch_size=32, device="cpu")


def _data(seed=0, weights=None):
    X, y = make_classification(300, 20, n_informative=10, n_redundant=0, n_classes=4,
                               class_sep=3.0, weights=weights, random_state=seed)
    groups = np.repeat([f"spk{i}" for i in range(6)], 50)
    np.random.default_rng(seed).shuffle(groups)
    labels = np.array(["angry", "happy", "neutral", "sad"])[y]
    return StandardScaler().fit_transform(X).astype(np.float32), labels, groups


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def easy():
    return _data()


@pytest.fixture(scope="module")
def fitted(easy):
    X, y, g = easy
    return DNNClassifier(**SMALL, random_state=0).fit(X[:240], y[:240], g[:240])


def test_learns_easy_data_with_string_labels(easy, fitted):
    X, y, _ = easy
    pred = fitted.predict(X[240:])
    assert set(pred) <= set(fitted.classes_) == {"angry", "happy", "neutral", "sad"}
    assert (pred == y[240:]).mean() > 0.8


def test_outputs_shapes_and_proba_sums_to_one(easy, fitted):
    X = easy[0][240:]
    proba = fitted.predict_proba(X)
    logits = fitted.decision_function(X)
    assert proba.shape == logits.shape == (60, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fitted.classes_[logits.argmax(1)], fitted.predict(X))


def test_same_seed_identical_different_seed_differs(easy, fitted):
    X, y, g = easy
    again = DNNClassifier(**SMALL, random_state=0).fit(X[:240], y[:240], g[:240])
    np.testing.assert_array_equal(again.decision_function(X), fitted.decision_function(X))
    other = DNNClassifier(**dict(SMALL, epochs=1), random_state=1).fit(X[:240], y[:240], g[:240])
    w0 = fitted.model_.state_dict()["body.0.weight"]
    assert not torch.equal(other.model_.state_dict()["body.0.weight"], w0)


def test_global_torch_rng_untouched(easy):
    X, y, g = easy
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DNNClassifier(**dict(SMALL, epochs=1), random_state=5).fit(X[:60], y[:60], g[:60])
    assert torch.equal(torch.rand(3), expected)


def test_early_stopping_holds_out_whole_groups(easy, fitted):
    X, y, g = easy
    g = g[:240]
    val = np.zeros(240, bool)
    val[fitted.val_idx_] = True
    assert val.any() and not val.all()
    assert set(g[val]) == set(fitted.val_groups_) and len(fitted.val_groups_) == 1
    assert not set(g[val]) & set(g[~val])
    two = DNNClassifier(**dict(SMALL, epochs=1), val_groups=2).fit(X[:240], y[:240], g)
    assert len(two.val_groups_) == 2
    assert not set(g[two.val_idx_]) & set(np.delete(g, two.val_idx_))


def test_synthetic_rows_never_validate(easy):
    X, y, g = easy
    g = g.astype(object)
    g[:150] = SYNTHETIC_GROUP
    for seed in range(4):
        clf = DNNClassifier(**dict(SMALL, epochs=1), val_groups=3, random_state=seed).fit(X, y, g)
        assert SYNTHETIC_GROUP not in set(g[clf.val_idx_])


def test_without_groups_stratified_ten_percent(easy):
    X, y, _ = easy
    clf = DNNClassifier(**dict(SMALL, epochs=1)).fit(X, y)
    assert clf.val_groups_ is None and len(clf.val_idx_) == 30
    _, counts = np.unique(y[clf.val_idx_], return_counts=True)
    assert counts.min() >= 7 and counts.max() <= 8


def test_history_and_best_epoch_weights_kept(easy):
    X, y, g = easy
    clf = DNNClassifier(**dict(SMALL, epochs=300, patience=3)).fit(X[:240], y[:240], g[:240])
    h = clf.history_
    assert [r["epoch"] for r in h] == list(range(1, len(h) + 1))
    assert set(h[0]) == {"epoch", "train_loss", "val_loss", "val_uar"}
    assert len(h) < 300 and len(h) - clf.best_epoch_ == 3  # stopped by patience
    best = max(r["val_uar"] for r in h)
    assert h[clf.best_epoch_ - 1]["val_uar"] == best
    # The kept weights are the best epoch's: recomputing validation UAR reproduces it.
    Xv, yv = X[:240][clf.val_idx_], y[:240][clf.val_idx_]
    pred = clf.predict(Xv)
    uar = np.mean([(pred[yv == c] == c).mean() for c in np.unique(yv)])
    assert uar == pytest.approx(best)


def test_val_groups_zero_trains_all_epochs(easy):
    X, y, g = easy
    clf = DNNClassifier(**dict(SMALL, epochs=5), val_groups=0).fit(X, y, g)
    assert len(clf.history_) == 5 and clf.best_epoch_ == 5 and len(clf.val_idx_) == 0


def test_class_weight_balanced():
    X, y, g = _data(weights=[0.55, 0.25, 0.1, 0.1])
    clf = DNNClassifier(**dict(SMALL, epochs=15), class_weight="balanced").fit(X, y, g)
    counts = np.array([np.sum(y[np.setdiff1d(np.arange(300), clf.val_idx_)] == c)
                       for c in clf.classes_])
    np.testing.assert_allclose(clf.class_weight_, counts.max() / counts)
    assert clf.class_weight_.max() > 3 and clf.class_weight_.min() == 1.0
    assert clf.score(X, y) > 0.5
    with pytest.raises(AdanError, match="class_weight"):
        DNNClassifier(**SMALL, class_weight="bogus").fit(X, y)


def test_dvclive_logs_into_log_dir(easy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y, g = easy
    log = tmp_path / "live"
    clf = DNNClassifier(**dict(SMALL, epochs=3, patience=50), log_dir=str(log)).fit(X, y, g)
    assert (log / "metrics.json").is_file()
    lines = (log / "plots" / "metrics" / "train" / "loss.tsv").read_text().strip().splitlines()
    assert len(lines) == 1 + len(clf.history_)  # header + one row per epoch
    assert (log / "plots" / "metrics" / "val" / "uar.tsv").is_file()
    assert not list(tmp_path.rglob("dvc.yaml"))


def test_bad_input_names_culprit(easy):
    X, y, _ = easy
    with pytest.raises(AdanError, match="activation"):
        DNNClassifier(**dict(SMALL, activation="gelu")).fit(X, y)
    fitted = DNNClassifier(**dict(SMALL, epochs=1)).fit(X, y)
    with pytest.raises(AdanError, match="features"):
        fitted.predict(X[:, :5])


class _CosineHead(nn.Module):
    def __init__(self, n_emb, n_classes):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, n_emb) * 0.1)

    def forward(self, e):
        return nn.functional.normalize(e, dim=1) @ nn.functional.normalize(self.weight, dim=1).T


class _AMSoftmax(DNNClassifier):
    def _build_head(self, n_emb, n_classes):
        return _CosineHead(n_emb, n_classes)

    def _loss(self, cos, targets):
        margin = nn.functional.one_hot(targets, cos.shape[1]) * 0.2
        return nn.functional.cross_entropy(20.0 * (cos - margin), targets)


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
def test_head_and_loss_are_replaceable(easy, activation):
    X, y, g = easy
    clf = _AMSoftmax(**dict(SMALL, activation=activation)).fit(X[:240], y[:240], g[:240])
    assert isinstance(clf.head_, _CosineHead)
    assert (clf.predict(X[240:]) == y[240:]).mean() > 0.8


# ------------------------------------------------------------------- margin heads and losses


@pytest.fixture(scope="module")
def blobs():
    """Four well-separated Gaussian clusters in 8-d, unequal sizes: separable by any good head."""
    X, y = make_blobs([80, 60, 40, 60], 8, cluster_std=1.5, random_state=1)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    labels = np.array(["angry", "happy", "neutral", "sad"])[y]
    return X, labels, np.tile([f"spk{i}" for i in range(6)], 40)


@pytest.mark.parametrize("name", HEAD_NAMES)
def test_every_head_fits_separable_data(blobs, name):
    X, y, g = blobs
    test = np.arange(len(y)) % 5 == 0
    kw = dict(SMALL, epochs=20, head=name)
    clf = DNNClassifier(**kw).fit(X[~test], y[~test], g[~test])
    assert (clf.predict(X[test]) == y[test]).mean() >= 0.95
    np.testing.assert_allclose(clf.predict_proba(X[test]).sum(axis=1), 1.0, rtol=1e-5)
    again = DNNClassifier(**kw).fit(X[~test], y[~test], g[~test])
    np.testing.assert_array_equal(again.decision_function(X), clf.decision_function(X))


def test_softmax_head_name_is_the_plain_model(easy, fitted):
    X, y, g = easy
    named = DNNClassifier(**SMALL, random_state=0, head="softmax+ce", head_params={}).fit(X[:240], y[:240], g[:240])
    np.testing.assert_array_equal(named.decision_function(X), fitted.decision_function(X))
    assert isinstance(fitted.head_, nn.Linear)


def test_a_softmax_lambda_advances_per_optimiser_step(easy):
    X, y, g = easy
    clf = DNNClassifier(**dict(SMALL, epochs=3, patience=50), head="a-softmax").fit(X[:240], y[:240], g[:240])
    n_train = 240 - len(clf.val_idx_)
    assert clf.head_.n_steps == 3 * -(-n_train // SMALL["batch_size"])


def test_class_specific_margins_from_training_counts():
    X, y, g = _data(weights=[0.55, 0.25, 0.1, 0.1])
    clf = DNNClassifier(**dict(SMALL, epochs=2), head="class-specific-a-softmax",
                        head_params={"m0": 3, "margins": "auto"}).fit(X, y, g)
    counts = np.array([np.sum(y[np.setdiff1d(np.arange(300), clf.val_idx_)] == c) for c in clf.classes_])
    np.testing.assert_array_equal(clf.class_counts_, counts)
    m = clf.head_.margins.tolist()
    assert m[0] < m[2] and m[0] < m[3]  # the majority class gets the smaller margin
    named = DNNClassifier(**dict(SMALL, epochs=1), head="class-specific-a-softmax",
                          head_params={"margins": {"happy,sad": 5}}).fit(X, y, g)
    assert named.head_.margins.tolist() == [4, 5, 4, 5]


def test_center_loss_centres_are_trained(easy):
    X, y, g = easy
    clf = DNNClassifier(**dict(SMALL, epochs=3), head="softmax+center",
                        head_params={"center_weight": 0.1}).fit(X[:240], y[:240], g[:240])
    assert clf.loss_.centers.abs().sum() > 0  # zeros at start: they moved
    assert np.isfinite([r["val_loss"] for r in clf.history_]).all()


def test_balanced_sampling_draws_classes_evenly(monkeypatch):
    X, y, g = _data(weights=[0.7, 0.1, 0.1, 0.1])
    drawn = []
    real = torch.multinomial

    def spy(w, n, **kw):
        out = real(w, n, **kw)
        drawn.append((w, out))
        return out

    monkeypatch.setattr(torch, "multinomial", spy)
    clf = DNNClassifier(**dict(SMALL, epochs=2, patience=50), head="softmax+balanced-sampling").fit(X, y, g)
    assert len(drawn) == 2
    ytr = np.delete(np.unique(y, return_inverse=True)[1], clf.val_idx_)
    share = np.bincount(ytr[drawn[0][1].numpy()], minlength=4) / len(ytr)
    assert share.min() > 0.15 and share.max() < 0.35  # real shares 0.7 / 0.1 / 0.1 / 0.1


def test_weighted_loss_weights_inverse_counts():
    X, y, g = _data(weights=[0.55, 0.25, 0.1, 0.1])
    clf = DNNClassifier(**dict(SMALL, epochs=1), head="softmax+weighted").fit(X, y, g)
    np.testing.assert_allclose(clf.loss_.weight.numpy(), clf.class_counts_.max() / clf.class_counts_, rtol=1e-6)


def test_bad_head_names_culprit(easy):
    X, y, _ = easy
    with pytest.raises(AdanError, match="unknown head 'cosface'"):
        DNNClassifier(**SMALL, head="cosface").fit(X, y)
    with pytest.raises(AdanError, match="unknown parameter 'gamma' for head arcface\\+ce"):
        DNNClassifier(**SMALL, head="arcface", head_params={"gamma": 2}).fit(X, y)


def test_batch_norm_protocol_fixed_epochs_last_weights():
    """The released code's DNN: batch norm, tanh, dropout 0.5, fixed epochs without validation
    (``val_groups=0``): every epoch runs and the last weights are kept; a final one-row batch is
    skipped rather than crashing batch norm."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(101, 6)) + np.repeat([[0.0], [2.0]], [51, 50], axis=0)
    y = np.repeat(["a", "b"], [51, 50])
    clf = DNNClassifier(hidden=[8, 8], activation="tanh", batch_norm=True, dropout=0.5, epochs=5,
                        batch_size=50, val_groups=0, device="cpu", random_state=3).fit(X, y)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in clf.body_.modules()) == 2
    assert len(clf.history_) == 5 and clf.best_epoch_ == 5 and clf.val_groups_ is None
    assert clf.n_steps_ == 5 * 2  # 50 + 50 rows; the single-row remainder is skipped
    again = DNNClassifier(**clf.get_params()).fit(X, y)
    np.testing.assert_array_equal(clf.decision_function(X), again.decision_function(X))
    assert (clf.predict(X) == y).mean() > 0.8


def test_kernel_l2_adds_the_keras_penalty_on_the_chosen_kernels():
    """``l2`` adds l2·Σw² of the Linear kernels to the training loss (biases, batch norm free);
    ``l2_first=False`` leaves the first hidden layer out, as the released code's DNN does."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)) + np.repeat([[0.0], [2.0]], 30, axis=0)
    y = np.repeat(["a", "b"], 30)
    base = dict(hidden=[4, 3], batch_norm=True, epochs=2, val_groups=0, device="cpu", random_state=1, dropout=0.0)
    clf = DNNClassifier(**base).fit(X, y)
    kernels = [m.weight for m in clf.model_.modules() if isinstance(m, torch.nn.Linear)]
    assert [tuple(k.shape) for k in kernels] == [(4, 5), (3, 4), (2, 3)]
    train = (torch.as_tensor(X, dtype=torch.float32), torch.as_tensor((y == "b").astype(int)), None)
    b = torch.arange(60)
    clf.model_.eval()  # batch norm in eval mode: the same forward pass each call
    plain = float(clf._batch_loss(train, b, "cpu"))
    for l2_first, skip in ((True, 0), (False, 1)):
        clf.set_params(l2=0.5, l2_first=l2_first)
        expected = plain + 0.5 * sum(float(k.square().sum()) for k in kernels[skip:])
        assert float(clf._batch_loss(train, b, "cpu")) == pytest.approx(expected, rel=1e-5)
    # trained with a strong penalty, the penalised kernels shrink and the first one is spared
    fit = {first: DNNClassifier(**{**base, "epochs": 60, "lr": 0.05}, l2=1.0, l2_first=first).fit(X, y)
           for first in (True, False)}
    norms = {first: [float(m.weight.norm()) for m in c.model_.modules() if isinstance(m, torch.nn.Linear)]
             for first, c in fit.items()}
    assert norms[False][0] > 1.5 * norms[True][0]
