"""Multi-layer perceptron classifier (torch) with speaker-held-out early stopping.

The network is ``body_`` (hidden layers, producing an embedding) followed by ``head_`` (class
logits) and trained with ``loss_``; ``head`` names both, e.g. ``"softmax"`` (a linear layer and
cross-entropy) or ``"arcface+focal"`` (see :mod:`adan_ser.classifiers.heads`). Training runs
body → head(emb, target) → loss(logits, target, emb); inference runs head(emb), without margin.
Subclasses may still override :meth:`DNNClassifier._build_head` and :meth:`DNNClassifier._loss`.
"""

from __future__ import annotations

import copy
import inspect
from collections import OrderedDict
from typing import Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from adan_ser.classifiers.heads import make_head, make_loss, parse_head_name, sample_weights, split_params
from adan_ser.contracts.align import check_finite
from adan_ser.classifiers.torch_base import class_weights, train_epochs, uar, validation_split
from adan_ser.core.device import resolve_device
from adan_ser.core.errors import AdanError

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU}
_EVAL_BATCH = 4096  # rows per forward pass at prediction time; bounds GPU memory only


class DNNClassifier(ClassifierMixin, BaseEstimator):
    """Feed-forward network on (n_samples, n_features) float features; labels any hashable.

    Architecture: per width in ``hidden``: Linear → activation → Dropout(``dropout``); then
    ``head_`` Linear(hidden[-1], n_classes). Xavier-uniform weights, zero biases, Adam
    (``lr``, ``weight_decay``), cross-entropy, weighted by max(count)/count per class when
    ``class_weight="balanced"`` (or by a {label: weight} dict).

    Early stopping: with ``groups`` (speakers) in :meth:`fit`, ``val_groups`` whole speakers,
    drawn from ``seed``, are held out; otherwise a stratified 10 % of rows. The weights of the
    epoch with the best validation UAR (ties: lower validation loss) are kept, and training
    stops after ``patience`` epochs without improvement. ``val_groups=0`` disables validation:
    all rows train for ``epochs`` epochs and the last weights are kept.

    Head and loss: ``head`` is a name from :data:`heads.HEAD_NAMES` (the head, then ``+loss``
    unless plain cross-entropy), ``head_params`` its parameters (s, m, m0, margins, lambda_*,
    gamma, alpha, center_weight; see :data:`heads.HEAD_PARAMS`, :data:`heads.LOSS_PARAMS`).
    Class-specific margins and ``weighted`` / ``balanced-sampling`` use the class counts of the
    training part (validation rows excluded). Learnable loss parameters (center-loss centres)
    are optimised with the model; A-softmax's λ advances once per optimiser step.

    Fitted: ``classes_``, ``model_`` (``body_`` then ``head_``, in eval mode), ``body_``,
    ``head_``, ``loss_``, ``class_counts_`` ((n_classes,) training-part rows per class),
    ``best_epoch_`` (1-based), ``history_`` (one dict per epoch: epoch, train_loss,
    val_loss, val_uar; NaN without validation; val_loss is on margin-free logits),
    ``val_groups_`` (held-out speakers or None), ``val_idx_`` (validation row indices into X),
    ``class_weight_`` ((n_classes,) loss weights), ``n_features_in_``.

    ``log_dir``: when set, per-epoch metrics go to dvclive there (no dvc.yaml, no experiment).
    """

    def __init__(
        self,
        hidden=(256, 256),
        activation: str = "relu",
        dropout: float = 0.3,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 100,
        batch_size: int = 64,
        patience: int = 10,
        val_groups: int = 1,
        class_weight=None,
        device: str = "auto",
        seed: int = 0,
        log_dir: Optional[str] = None,
        head: str = "softmax",
        head_params: Optional[dict] = None,
    ):
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_groups = val_groups
        self.class_weight = class_weight
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.head = head
        self.head_params = head_params

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
            layers += [nn.Linear(width, w), act, nn.Dropout(self.dropout)]
            width = w
        return nn.Sequential(*layers)

    def _head_loss_kwargs(self) -> tuple[str, str, dict, dict]:
        head, loss = parse_head_name(self.head)
        if self.head_params is not None and not isinstance(self.head_params, dict):
            raise AdanError(f"dnn: head_params must be a dict, got {self.head_params!r}")
        return (head, loss, *split_params(head, loss, self.head_params))

    def _build_head(self, n_emb: int, n_classes: int) -> nn.Module:
        """(batch, n_emb) → (batch, n_classes) scores, from ``head`` / ``head_params``."""
        head, _, head_kw, _ = self._head_loss_kwargs()
        return make_head(head, n_emb, n_classes, self.class_counts_, classes=self.classes_.tolist(), **head_kw)

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor, emb=None) -> torch.Tensor:
        """Scalar mean loss of head outputs (batch, n_classes) against class indices (batch,)."""
        return self.loss_(outputs, targets, emb)

    def _call_loss(self, outputs, targets, emb) -> torch.Tensor:
        # Only losses that use the embedding get it, so a subclass's two-argument _loss still works.
        if self.loss_.needs_emb:
            return self._loss(outputs, targets, emb)
        return self._loss(outputs, targets)

    def _call_head(self, emb, targets) -> torch.Tensor:
        """Training logits: heads whose forward takes ``target`` get it (to apply the margin)."""
        if self._head_takes_target:
            return self.head_(emb, targets)
        return self.head_(emb)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        for m in module.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    # ----------------------------------------------------------------------------- fitting

    def fit(self, X, y, groups=None) -> "DNNClassifier":
        """X: (n_samples, n_features) floats; y: (n_samples,) labels; groups: speakers or None."""
        X = check_finite(X).astype(np.float32)
        y = np.asarray(y)
        if len(y) != len(X):
            raise AdanError(f"y has {len(y)} labels for {len(X)} rows")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise AdanError(f"dnn: need at least 2 classes, got {self.classes_.tolist()}")
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise AdanError(f"dnn: {name} must be ≥ 1, got {getattr(self, name)!r}")
        _, loss_name, _, loss_kw = self._head_loss_kwargs()  # bad names fail before any training
        self.n_features_in_ = X.shape[1]
        n_classes = len(self.classes_)
        rng = np.random.default_rng(self.seed)
        tr_idx, va_idx, held = validation_split(y_idx, groups, self.val_groups, self.seed, rng, "dnn")
        self.val_groups_, self.val_idx_ = held, va_idx
        cw = class_weights(self.class_weight, y_idx[tr_idx], self.classes_, "dnn")
        self.class_weight_ = np.ones(n_classes) if cw is None else cw
        self.class_counts_ = np.bincount(y_idx[tr_idx], minlength=n_classes)

        dev = resolve_device(self.device)
        # fork_rng keeps the caller's global torch RNG untouched while seeding init and dropout.
        fork_devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(int(self.seed))
            self.body_ = self._build_body(self.n_features_in_)
            n_emb = self._embedding_dim(self.n_features_in_)
            self.head_ = self._build_head(n_emb, n_classes)
            self._head_takes_target = "target" in inspect.signature(self.head_.forward).parameters
            self.model_ = nn.Sequential(OrderedDict(body=self.body_, head=self.head_))
            self._init_weights(self.model_)
            self.model_.to(dev)
            self.loss_ = make_loss(loss_name, n_emb, n_classes, self.class_counts_,
                                   class_weight=self.class_weight_, **loss_kw).to(dev)
            self._train(X, y_idx, tr_idx, va_idx, dev)
        self.model_.eval()
        return self

    def _embedding_dim(self, n_in: int) -> int:
        h = self._hidden()
        return h[-1] if h else n_in

    def _train(self, X, y_idx, tr_idx, va_idx, dev) -> None:
        Xtr = torch.as_tensor(X[tr_idx], device=dev)
        ytr = torch.as_tensor(y_idx[tr_idx], dtype=torch.long, device=dev)
        has_val = len(va_idx) > 0
        if has_val:
            Xva = torch.as_tensor(X[va_idx], device=dev)
            yva_np = y_idx[va_idx]
            yva = torch.as_tensor(yva_np, dtype=torch.long, device=dev)
        # The loss's own parameters (center-loss centres) train with the model's.
        params = list(self.model_.parameters()) + list(self.loss_.parameters())
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        shuffle = torch.Generator().manual_seed(int(self.seed))
        n, bs = len(tr_idx), int(self.batch_size)
        n_classes = len(self.classes_)
        draw_w = sample_weights(y_idx[tr_idx], n_classes) if self.loss_.balanced_sampling else None
        advance = getattr(self.head_, "advance", None)

        def run_epoch() -> float:
            self.model_.train()
            if draw_w is None:
                perm = torch.randperm(n, generator=shuffle).to(dev)
            else:  # class-balanced: n rows drawn with replacement, ∝ 1 / class count
                perm = torch.multinomial(draw_w, n, replacement=True, generator=shuffle).to(dev)
            total = torch.zeros((), device=dev)
            for start in range(0, n, bs):
                b = perm[start : start + bs]
                opt.zero_grad(set_to_none=True)
                emb = self.body_(Xtr[b])
                loss = self._call_loss(self._call_head(emb, ytr[b]), ytr[b], emb)
                loss.backward()
                opt.step()
                if advance is not None:
                    advance()
                total += loss.detach() * len(b)
            return float(total) / n

        def validate() -> tuple[float, float]:
            out, emb = self._outputs(Xva, with_emb=True)
            with torch.no_grad():
                val_loss = float(self._call_loss(out, yva, emb))
            return val_loss, uar(yva_np, out.argmax(1).cpu().numpy(), n_classes)

        self.history_, self.best_epoch_ = train_epochs(
            run_epoch, validate if has_val else None,
            snapshot=lambda: copy.deepcopy(self.model_.state_dict()), restore=self.model_.load_state_dict,
            epochs=self.epochs, patience=self.patience, log_dir=self.log_dir,
        )

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
        X = check_finite(X).astype(np.float32)
        if X.shape[1] != self.n_features_in_:
            raise AdanError(
                f"dnn: X has {X.shape[1]} features, the model was fitted on {self.n_features_in_}"
            )
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
        return self.classes_[self._predict_outputs(X).argmax(1).cpu().numpy()]
