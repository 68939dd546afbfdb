"""``SpectroClassifier``: a spectrogram network + emotion head, trained on fixed-length segments.

X is a sequence of n utterance spectrograms, each (T_i, F) float (log magnitudes from
``features/spectrogram.py``; T_i varies). Inside :meth:`SpectroClassifier.fit` everything learned
from data comes from the X given to fit (the training fold): the per-bin normaliser, the
network, the head. Utterances are cut into ``segment_frames``-frame segments, every
``train_hop`` frames for training and every ``eval_hop`` frames for validation and prediction;
each segment inherits its utterance's label and an utterance's logits are the mean of its
segments' logits.

The emotion head and loss come from ``adan_ser.classifiers.heads``: any name of
``heads.HEAD_NAMES`` (``softmax``, ``am-softmax``, ``arcface+focal``, …), parameters in
``head_params`` (split into head and loss parameters by ``heads.split_params``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from adan_ser.classifiers.heads import ClassCenters
from adan_ser.classifiers.spectrogram_nets import build_net
from adan_ser.classifiers.torch_base import TorchClassifier, uar
from adan_ser.core.errors import AdanError, InputError
from adan_ser.features.spectrogram import FrameNormalizer, average_by_owner, segment

_EVAL_BATCH = 256  # segments per forward pass at prediction time; bounds memory only
GENDER_CODES = {"f": 0, "m": 1}

def gender_codes(gender) -> np.ndarray:
    """(n,) gender strings f / m / other → 0 / 1 / −1 (−1 is ignored by the gender loss)."""
    return np.array([GENDER_CODES.get(str(g), -1) for g in np.asarray(gender)], dtype=np.int64)


class SpectroClassifier(TorchClassifier):
    """Segment-level spectrogram classifier with utterance-level predictions.

    X: a sequence of n (T_i, F) spectrograms (a list of arrays, or a
    :class:`adan_ser.features.spectrogram.SpectrogramSet`), not a 2-D array. Loss = CE_emotion (or
    the margin loss) + ``gender_weight`` · CE_gender + ``center_weight`` · centre loss on the
    embedding. The fit (split, seeding, Adam, epochs, early stopping on utterance-level UAR as in
    ``DNNClassifier``, margin schedules advancing every step) is
    :class:`adan_ser.classifiers.torch_base.TorchClassifier`'s.

    Parameters
    ----------
    arch : str, default="crnn"
        ``crnn`` | ``cnn-tf-gap`` | ``cnn-blstm-att`` | ``cnn-blstm-att-stats`` | ``domain-aware``
        (see :mod:`adan_ser.classifiers.spectrogram_nets`).
    channels : tuple of int, default=(8, 16, 16)
        Conv widths, one 2×2-pooling block each.
    rnn_hidden : int, default=64
        LSTM units (per direction for the BLSTM).
    dropout : float, default=0.25
        In [0, 1): inside the conv blocks of ``cnn-blstm-att``, on the embedding of the others.
    tf_kernels : pair of (time, frequency) sizes, default=((10, 2), (2, 8))
        ``cnn-tf-gap``'s time-wise and frequency-wise first convolutions, in frames × bins.
    input_pool : (int, int), default=(2, 4)
        (time, frequency) average pooling of the input before the first conv; (2, 4) keeps CPU
        runs short on the 400-bin linear spectrogram, (1, 1) is the papers' resolution.
    head : str, default="softmax"
        Head name for ``heads.parse_head_name`` (``softmax``, margin heads, ``+loss``).
    head_params : dict or None, default=None
        Its parameters, split into head and loss parameters by ``heads.split_params``.
    gender_weight, center_weight : float or None, default=None
        Loss weights (≥ 0); None: the architecture's default, domain-aware (γ1, γ2, γ3) = (1, 1,
        0.5), the others 0 and 0. ``gender_weight > 0`` on the others adds the gender auxiliary
        task; gender comes from ``fit(..., gender=)`` (f / m; unknown genders are ignored).
    segment_frames : int, default=200
        Frames per segment; each segment inherits its utterance's label.
    train_hop, eval_hop : int, default=100, 40
        Frames between segment starts for training, and for validation and prediction.
    lr, weight_decay : float, default=1e-3, 0.0
        Adam's learning rate and weight decay.
    epochs, batch_size, patience : int, default=25, 32, 6
        Maximum epochs, segments per optimiser step, epochs without a better validation UAR.
    val_groups : int, default=1
        Training speakers held out for early stopping; 0 trains all ``epochs``.
    val_fold : str or None, default=None
        Name of the fold trained in, which places its validation speakers (the factory sets it).
    class_weight : {"balanced"}, dict or None, default=None
        Cross-entropy weights per class, as in ``DNNClassifier``.
    sampling : {"random", "balanced"}, default="random"
        ``random``: shuffled segments; ``balanced``: drawn with replacement, class probabilities
        equalised, as many per epoch as there are (the ``+balanced-sampling`` head turns it on).
    device : str, default="auto"
        Torch device; ``auto`` takes a GPU when there is one.
    random_state : int, default=0
        Seeds the validation draw, the initial weights, dropout and the epoch order.
    log_dir : str or None, default=None
        When set, per-epoch dvclive curves go there.

    Attributes
    ----------
    normalizer_ : FrameNormalizer
        Per-bin statistics of the training-fold frames.
    net_, head_, loss_ : torch.nn.Module
        Network ((B, T, F) segments → (B, n_emb)), emotion head, training loss.
    center_ : ClassCenters or None
        Learnable class centres when ``center_weight`` > 0.
    n_bins_ : int
        F, the frequency bins seen in :meth:`fit`.
    classes_, class_counts_, class_weight_, best_epoch_, history_, val_groups_, val_idx_, n_steps_
        As in :class:`~adan_ser.classifiers.torch_base.TorchClassifier` (utterance-level).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> specs = [rng.normal(size=(t, 16)).astype(np.float32) for t in rng.integers(30, 50, 12)]
    >>> y = np.tile(["angry", "sad"], 6); speakers = np.repeat(["s1", "s2", "s3"], 4)
    >>> clf = SpectroClassifier(channels=(4,), rnn_hidden=8, input_pool=(1, 1), segment_frames=20,
    ...                         train_hop=10, eval_hop=10, epochs=2, batch_size=8, device="cpu")
    >>> clf = clf.fit(specs, y, groups=speakers)
    >>> clf.classes_.tolist(), clf.n_bins_, len(clf.val_groups_), len(clf.history_)
    (['angry', 'sad'], 16, 1, 2)
    >>> clf.decision_function(specs).shape, clf.predict(specs[:3]).shape
    ((12, 2), (3,))
    """

    _what = "spectro"
    _min_batch = 2  # BatchNorm cannot train on a single segment

    def __init__(
        self,
        arch: str = "crnn",
        channels=(8, 16, 16),
        rnn_hidden: int = 64,
        dropout: float = 0.25,
        tf_kernels=((10, 2), (2, 8)),
        input_pool=(2, 4),
        head: str = "softmax",
        head_params: Optional[dict] = None,
        gender_weight: Optional[float] = None,
        center_weight: Optional[float] = None,
        segment_frames: int = 200,
        train_hop: int = 100,
        eval_hop: int = 40,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 25,
        batch_size: int = 32,
        patience: int = 6,
        val_groups: int = 1,
        val_fold: Optional[str] = None,
        class_weight=None,
        sampling: str = "random",
        device: str = "auto",
        random_state: int = 0,
        log_dir: Optional[str] = None,
    ):
        self.arch = arch
        self.channels = channels
        self.rnn_hidden = rnn_hidden
        self.dropout = dropout
        self.tf_kernels = tf_kernels
        self.input_pool = input_pool
        self.head = head
        self.head_params = head_params
        self.gender_weight = gender_weight
        self.center_weight = center_weight
        self.segment_frames = segment_frames
        self.train_hop = train_hop
        self.eval_hop = eval_hop
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_groups = val_groups
        self.val_fold = val_fold
        self.class_weight = class_weight
        self.sampling = sampling
        self.device = device
        self.random_state = random_state
        self.log_dir = log_dir

    # ------------------------------------------------------------------------------- settings

    def _weights(self) -> tuple[float, float]:
        domain = self.arch == "domain-aware"
        gw = (1.0 if domain else 0.0) if self.gender_weight is None else float(self.gender_weight)
        cw = (0.5 if domain else 0.0) if self.center_weight is None else float(self.center_weight)
        if gw < 0 or cw < 0:
            raise AdanError(f"spectro: gender_weight and center_weight must be ≥ 0, got {gw} and {cw}")
        if domain and gw == 0:
            raise AdanError("spectro: domain-aware needs gender_weight > 0 (its gender pathway learns from it)")
        return gw, cw

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("segment_frames", "train_hop", "eval_hop"):
            if int(getattr(self, name)) < 1:
                raise AdanError(f"spectro: {name} must be ≥ 1, got {getattr(self, name)!r}")
        if self.sampling not in ("random", "balanced"):
            raise AdanError(f"spectro: sampling must be 'random' or 'balanced', got {self.sampling!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise AdanError(f"spectro: dropout must be in [0, 1), got {self.dropout!r}")

    @staticmethod
    def _as_specs(X) -> list[np.ndarray]:
        """X (n spectrograms, indexable) → list of n (T_i, F) float32 arrays; InputError if malformed."""
        try:
            specs = [np.asarray(X[i], dtype=np.float32) for i in range(len(X))]
        except (TypeError, ValueError) as exc:
            raise InputError(f"spectro: X must be a sequence of (T, F) spectrograms ({exc})") from None
        if not specs:
            raise InputError("spectro: no spectrograms")
        n_bins = specs[0].shape[1] if specs[0].ndim == 2 else -1
        for i, s in enumerate(specs):
            if s.ndim != 2 or s.shape[1] != n_bins or len(s) == 0:
                raise InputError(f"spectro: spectrogram {i} has shape {s.shape}, expected (T>0, {n_bins})")
            if not np.isfinite(s).all():
                raise InputError(f"spectro: spectrogram {i} has non-finite values")
        return specs

    # -------------------------------------------------------------------------------- fitting

    def fit(self, X, y, groups=None, gender=None) -> "SpectroClassifier":
        """X: n (T_i, F) spectrograms; y: (n,) labels; groups: (n,) speakers; gender: (n,) f/m/…"""
        return super().fit(X, y, groups, gender=gender)

    def _check_inputs(self, X, y):
        specs = self._as_specs(X)
        if y is None:
            raise InputError("spectro: fit requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(specs):
            raise InputError(f"spectro: y has shape {y.shape} for {len(specs)} spectrograms")
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise InputError(f"spectro: {exc}") from None
        return specs, y

    def _prepare(self, specs, y_idx, gender=None):
        gw, _ = self._weights()
        g_idx = gender_codes(gender if gender is not None else ["unknown"] * len(y_idx))
        if len(g_idx) != len(y_idx):
            raise InputError(f"spectro: gender has {len(g_idx)} entries for {len(y_idx)} utterances")
        if gw > 0 and (g_idx < 0).all():
            raise AdanError(f"spectro: {self.arch} with gender_weight > 0 needs f/m genders, all are unknown")
        self.n_bins_ = specs[0].shape[1]
        self.normalizer_ = FrameNormalizer().fit(specs)  # training-fold frames only
        return self.normalizer_.transform(specs), g_idx

    def _fit_data(self, data, y_idx, tr, va, dev):
        specs, g_idx = data
        seg_tr, own_tr = segment([specs[i] for i in tr], int(self.segment_frames), int(self.train_hop))
        train = {
            "x": torch.from_numpy(seg_tr),
            "y": torch.as_tensor(y_idx[tr][own_tr]),
            "g": torch.as_tensor(g_idx[tr][own_tr]),
        }
        val = None
        if len(va):
            seg_va, own_va = segment([specs[i] for i in va], int(self.segment_frames), int(self.eval_hop))
            val = (torch.from_numpy(seg_va), own_va, y_idx[va])
        return train, val

    def _train_targets(self, train) -> np.ndarray:
        return train["y"].numpy()

    def _build(self, n_classes: int, dev) -> None:
        gw, cw = self._weights()
        params = dict(channels=tuple(int(c) for c in self.channels), rnn_hidden=int(self.rnn_hidden),
                      dropout=float(self.dropout), tf_kernels=self.tf_kernels,
                      input_pool=tuple(self.input_pool), gender_aux=gw > 0)
        self.net_ = build_net(self.arch, self.n_bins_, **params).to(dev)
        n_emb = self.net_.out_dim
        self.head_ = self._build_head(n_emb, n_classes).to(dev)
        self.loss_ = self._build_loss(n_emb, n_classes).to(dev)
        self.center_ = ClassCenters(n_classes, n_emb).to(dev) if cw > 0 else None

    def _modules(self) -> list[nn.Module]:
        return [m for m in (self.net_, self.head_, self.loss_, self.center_) if m is not None]

    def _balanced_sampling(self) -> bool:
        return self.sampling == "balanced" or super()._balanced_sampling()

    def _batch_loss(self, train, b, dev) -> torch.Tensor:
        gw, cw = self._weights()
        xb, yb, gb = train["x"][b].to(dev), train["y"][b].to(dev), train["g"][b].to(dev)
        emb, g_logits = self.net_(xb)
        loss = self._head_loss(emb, yb)
        if gw > 0 and (gb >= 0).any():
            loss = loss + gw * F.cross_entropy(g_logits, gb, ignore_index=-1)
        if cw > 0:
            loss = loss + cw * self.center_(emb, yb)
        return loss

    def _validate(self, val) -> tuple[float, float]:
        logits = self._utterance_logits(val[0], val[1], len(val[2]))
        val_loss = float(F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(val[2])))
        return val_loss, uar(val[2], logits.argmax(1), len(self.classes_))

    # ------------------------------------------------------------------------------ inference

    def _utterance_logits(self, segs: torch.Tensor, owner: np.ndarray, n: int) -> np.ndarray:
        """(n, n_classes) mean head logits of each utterance's segments, eval mode, no autograd."""
        modes = [m.training for m in self._modules()]
        self._set_training(False)
        dev = next(self.net_.parameters()).device
        with torch.no_grad():
            out = torch.cat([
                self.head_(self.net_(segs[i : i + _EVAL_BATCH].to(dev))[0]).cpu()
                for i in range(0, len(segs), _EVAL_BATCH)
            ]).numpy()
        for m, mode in zip(self._modules(), modes):
            m.train(mode)
        return average_by_owner(out.astype(np.float64), owner, n)

    def decision_function(self, X) -> np.ndarray:
        """(n, n_classes) utterance logits (mean over segments), columns in ``classes_`` order."""
        check_is_fitted(self, "net_")
        specs = self._as_specs(X)
        if specs[0].shape[1] != self.n_bins_:
            raise AdanError(f"spectro: X has {specs[0].shape[1]} bins, the model was fitted on {self.n_bins_}")
        segs, owner = segment(self.normalizer_.transform(specs), int(self.segment_frames), int(self.eval_hop))
        return self._utterance_logits(torch.from_numpy(segs), owner, len(specs))

    def predict_proba(self, X) -> np.ndarray:
        """(n, n_classes) softmax of the utterance logits; rows sum to 1."""
        logits = self.decision_function(X)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """(n,) labels from ``classes_``."""
        check_is_fitted(self, "net_")
        return self.classes_[self.decision_function(X).argmax(1)]
