"""Multi-layer perceptron classifier (torch) with speaker-held-out early stopping.

The network is ``body_`` (hidden layers, producing an embedding) followed by ``head_`` (class
logits) and trained with ``loss_``; ``head`` names both, e.g. ``"softmax"`` (a linear layer and
cross-entropy) or ``"arcface+focal"`` (see :mod:`adan_ser.classifiers.heads`). Training runs
body → head(emb, target) → loss(logits, target, emb); inference runs head(emb), without margin.
The fit itself (split, seeding, optimiser, epochs, early stopping) is
:class:`adan_ser.classifiers.torch_base.TorchClassifier`'s. Subclasses may still override
:meth:`DNNClassifier._build_head` and :meth:`DNNClassifier._loss`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from numbers import Integral, Real
from typing import Optional

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from adan_ser.classifiers.inputs import check_features
from adan_ser.classifiers.mixup import manifold_mixup_loss
from adan_ser.classifiers.torch_base import TorchClassifier, uar
from adan_ser.core.constraints import LayerSizes, check_params
from adan_ser.core.errors import AdanError

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU}
_EVAL_BATCH = 4096  # rows per forward pass at prediction time; bounds GPU memory only


def init_weights(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases for every ``nn.Linear`` in ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class DNNClassifier(TorchClassifier):
    """Feed-forward network on (n_samples, n_features) float features; labels any hashable.

    Per width in ``hidden``: Linear → [BatchNorm1d] → activation → Dropout; then ``head_`` (for
    ``softmax``, Linear(hidden[-1], n_classes)). Xavier-uniform weights, zero biases, Adam. Early
    stopping: with ``groups`` (speakers) in :meth:`fit`, ``val_groups`` whole speakers drawn from
    ``random_state`` and ``val_fold`` (:func:`adan_ser.contracts.folds.inner_validation_groups`) are held
    out, else a stratified 10 % of rows; the epoch with the best validation UAR (ties: lower
    loss) is kept. Class-specific margins and ``weighted`` / ``balanced-sampling`` use the
    training part's class counts; learnable loss parameters (center-loss centres) train with
    the model; A-softmax's λ advances once per optimiser step.

    Parameters
    ----------
    hidden : sequence of int or int, default=(256, 256)
        Widths of the hidden layers; the last is the embedding size.
    activation : {"relu", "tanh", "leaky_relu"}, default="relu"
        Activation after every hidden layer.
    dropout : float, default=0.3
        Dropout probability after every activation, in [0, 1).
    batch_norm : bool, default=False
        BatchNorm1d after every hidden Linear (a last batch of one row is then skipped).
    lr : float, default=1e-3
        Adam's learning rate.
    weight_decay : float, default=0.0
        Adam's: a ``weight_decay · w`` gradient term on every parameter, biases included.
    l2 : float, default=0.0
        Keras' ``kernel_regularizer``: the training loss gains ``l2 · Σ w²`` over the kernels of
        the Linear layers only (hidden layers and the softmax head's).
    l2_first : bool, default=True
        Whether ``l2`` covers the first hidden layer (the released ADAN code's DNN: l2=0.1, False).
    epochs : int, default=100
        Maximum passes over the training part.
    batch_size : int, default=64
        Rows per optimiser step.
    patience : int, default=10
        Epochs without a better validation UAR before training stops.
    val_groups : int, default=1
        Training speakers held out for early stopping; 0 disables validation (all rows train for
        ``epochs`` epochs and the last weights are kept).
    val_fold : str or None, default=None
        The fold's name, which places its validation speakers (the factory sets it).
    class_weight : {"balanced"}, dict or None, default=None
        Cross-entropy weights: max(count)/count per class, or ``{label: weight}``; None: ones.
    device : str, default="auto"
        Torch device (``cpu``, ``cuda``); ``auto`` takes a GPU when there is one.
    random_state : int, default=0
        Seeds the validation draw, the initial weights, dropout and the epoch order.
    log_dir : str or None, default=None
        Per-epoch metrics go to dvclive there (no dvc.yaml, no experiment).
    head : str, default="softmax"
        A name from :data:`heads.HEAD_NAMES`: the head, then ``+loss`` unless plain cross-entropy
        (``"am-softmax"``, ``"arcface+focal"``; see :mod:`adan_ser.classifiers.heads`).
    head_params : dict or None, default=None
        The head's and loss's parameters (s, m, m0, margins, lambda_*, gamma, alpha,
        center_weight; see :data:`heads.HEAD_PARAMS`, :data:`heads.LOSS_PARAMS`).
    mixup_alpha : float, default=0.0
        > 0: manifold mixup, λ ~ Beta(α, α) (:mod:`~adan_ser.classifiers.mixup`); 0: off.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted labels seen in :meth:`fit`.
    model_ : torch.nn.Sequential
        ``body_`` then ``head_``, in eval mode.
    body_, head_, loss_ : torch.nn.Module
        Hidden layers ((batch, n_features) → (batch, hidden[-1])), head, training loss.
    class_counts_, class_weight_ : ndarray of shape (n_classes,)
        Training-part rows per class; loss weights.
    best_epoch_ : int
        1-based epoch whose weights were kept.
    history_ : list of dict
        Per epoch: epoch, train_loss, val_loss (margin-free logits), val_uar (NaN: no validation).
    val_groups_ : ndarray or None
        Held-out speakers (None: a stratified share of rows or no validation).
    val_idx_ : ndarray of shape (n_val,)
        Validation row indices into X.
    n_steps_ : int
        Optimiser steps taken.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = np.repeat(["angry", "happy", "sad"], 20)
    >>> speakers = np.tile(["s1", "s2", "s3", "s4"], 15)
    >>> dnn = DNNClassifier(hidden=[8], epochs=2, device="cpu").fit(X, y, groups=speakers)
    >>> dnn.classes_.tolist(), len(dnn.val_groups_), dnn.class_counts_.tolist(), len(dnn.history_)
    (['angry', 'happy', 'sad'], 1, [15, 15, 15], 2)
    >>> dnn.predict(X[:4]).shape, dnn.predict_proba(X).shape
    ((4,), (60, 3))
    """

    _what = "dnn"

    _parameter_constraints: dict = {
        "hidden": [LayerSizes(), Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "l2_first": ["boolean"],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "val_groups": [Interval(Integral, 0, None, closed="left")],
        "val_fold": [str, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "device": [str],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "log_dir": [str, os.PathLike, None],
        "head": [str],
        "head_params": [dict, None],
        "mixup_alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden=(256, 256),
        activation: str = "relu",
        dropout: float = 0.3,
        batch_norm: bool = False,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        l2: float = 0.0,
        l2_first: bool = True,
        epochs: int = 100,
        batch_size: int = 64,
        patience: int = 10,
        val_groups: int = 1,
        val_fold: Optional[str] = None,
        class_weight=None,
        device: str = "auto",
        random_state: int = 0,
        log_dir: Optional[str] = None,
        head: str = "softmax",
        head_params: Optional[dict] = None,
        mixup_alpha: float = 0.0,
    ):
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.lr = lr
        self.weight_decay = weight_decay
        self.l2 = l2
        self.l2_first = l2_first
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_groups = val_groups
        self.val_fold = val_fold
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.log_dir = log_dir
        self.head = head
        self.head_params = head_params
        self.mixup_alpha = mixup_alpha

    # ----------------------------------------------------------------- model pieces (overridable)

    def _hidden(self) -> tuple[int, ...]:
        h = (self.hidden,) if isinstance(self.hidden, int) else tuple(self.hidden)
        if any(int(w) < 1 for w in h):
            raise AdanError(f"dnn: hidden widths must be ≥ 1, got {self.hidden!r}")
        return tuple(int(w) for w in h)

    def _build_body(self, n_in: int) -> nn.Sequential:
        """(batch, n_in) → (batch, hidden[-1]) embedding; identity when ``hidden`` is empty."""
        if self.activation not in _ACTIVATIONS:
            raise AdanError(
                f"dnn: unknown activation {self.activation!r}; known: {', '.join(_ACTIVATIONS)}"
            )
        if not 0.0 <= float(self.dropout) < 1.0:
            raise AdanError(f"dnn: dropout must be in [0, 1), got {self.dropout!r}")
        layers: list[nn.Module] = []
        width = n_in
        for w in self._hidden():
            act = _ACTIVATIONS[self.activation]()
            norm = [nn.BatchNorm1d(w)] if self.batch_norm else []
            layers += [nn.Linear(width, w), *norm, act, nn.Dropout(self.dropout)]
            width = w
        return nn.Sequential(*layers)

    @property
    def _min_batch(self) -> int:
        return 2 if self.batch_norm else 1

    # ----------------------------------------------------------------------------- fitting

    def fit(self, X, y, groups=None) -> "DNNClassifier":
        """X: (n_samples, n_features) floats; y: (n_samples,) labels; groups: speakers or None.

        A bad parameter → :class:`~adan_ser.core.constraints.ParameterError` (a ``ValueError``) naming it."""
        check_params(self)
        return super().fit(X, y, groups)

    def _check_inputs(self, X, y):
        X, y = check_features(self, X, y, reset=True, what="dnn")
        return X.astype(np.float32), y

    def _embedding_dim(self, n_in: int) -> int:
        h = self._hidden()
        return h[-1] if h else n_in

    def _fit_data(self, X, y_idx, tr, va, dev):
        train = (torch.as_tensor(X[tr], device=dev), torch.as_tensor(y_idx[tr], dtype=torch.long, device=dev),
                 y_idx[tr])
        val = None
        if len(va):
            val = (torch.as_tensor(X[va], device=dev), torch.as_tensor(y_idx[va], dtype=torch.long, device=dev),
                   y_idx[va])
        return train, val

    def _train_targets(self, train) -> np.ndarray:
        return train[2]

    def _build(self, n_classes: int, dev) -> None:
        self.body_ = self._build_body(self.n_features_in_)
        n_emb = self._embedding_dim(self.n_features_in_)
        self.head_ = self._build_head(n_emb, n_classes)
        self.model_ = nn.Sequential(OrderedDict(body=self.body_, head=self.head_))
        init_weights(self.model_)
        self.model_.to(dev)
        self.loss_ = self._build_loss(n_emb, n_classes).to(dev)

    def _modules(self) -> list[nn.Module]:
        return [self.body_, self.head_, self.loss_]

    def _batch_loss(self, train, b, dev) -> torch.Tensor:
        b = b.to(dev)
        xb, yb = train[0][b], train[1][b]
        if self.mixup_alpha:
            loss = manifold_mixup_loss(self.body_, self._head_loss, xb, yb, float(self.mixup_alpha))
        else:
            loss = self._head_loss(self.body_(xb), yb)
        if self.l2:
            loss = loss + float(self.l2) * sum(w.square().sum() for w in self._l2_kernels())
        return loss

    def _l2_kernels(self) -> list[torch.Tensor]:
        """The (out, in) kernels ``l2`` penalises: every Linear weight, the first one's only with
        ``l2_first`` (margin heads hold their class weights as a plain parameter: not included)."""
        kernels = [m.weight for m in self.model_.modules() if isinstance(m, nn.Linear)]
        return kernels if self.l2_first else kernels[1:]

    def _validate(self, val) -> tuple[float, float]:
        out, emb = self._outputs(val[0], with_emb=True)
        with torch.no_grad():
            val_loss = float(self._call_loss(out, val[1], emb))
        return val_loss, uar(val[2], out.argmax(1).cpu().numpy(), len(self.classes_))

    # ---------------------------------------------------------------------------- inference

    def _outputs(self, Xt: torch.Tensor, with_emb: bool = False):
        """Margin-free head outputs (n, n_classes) in eval mode, batched, without autograd.

        ``with_emb``: also return the (n, n_emb) embeddings, as ``(outputs, embeddings)``.
        """
        was_training = self.model_.training
        self.model_.eval()
        outs, embs = [], []
        with torch.no_grad():
            for i in range(0, len(Xt), _EVAL_BATCH):
                emb = self.body_(Xt[i : i + _EVAL_BATCH])
                outs.append(self.head_(emb))
                if with_emb:
                    embs.append(emb)
        self.model_.train(was_training)
        out = torch.cat(outs)
        return (out, torch.cat(embs)) if with_emb else out

    def _predict_outputs(self, X) -> torch.Tensor:
        check_is_fitted(self, "model_")
        X = check_features(self, X, reset=False, what="dnn").astype(np.float32)
        dev = next(self.model_.parameters()).device
        return self._outputs(torch.as_tensor(X, device=dev))

    def decision_function(self, X) -> np.ndarray:
        """(n_samples, n_classes) logits, columns in ``classes_`` order."""
        return self._predict_outputs(X).cpu().numpy()

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, n_classes) softmax probabilities; rows sum to 1."""
        return torch.softmax(self._predict_outputs(X), dim=1).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """(n_samples,) labels drawn from ``classes_``."""
        check_is_fitted(self, "model_")
        return self.classes_[self._predict_outputs(X).argmax(1).cpu().numpy()]
