"""What the torch classifiers share: :class:`TorchClassifier`, the fit they all run.

The inner validation split (held-out training speakers), seeding, class weights, head and loss
construction, the Adam optimiser, the epoch loop with speaker-held-out early stopping and dvclive
curves, and a per-step hook where margin schedules (A-softmax's λ) advance. Subclasses supply only
what differs: the network, how X becomes batches, validation and prediction
(:class:`adan_ser.classifiers.dnn.DNNClassifier` on feature vectors,
:class:`adan_ser.classifiers.spectrogram_classifier.SpectroClassifier` on spectrogram segments).
"""

from __future__ import annotations

import copy
import inspect
import math
from typing import Any, Callable, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from torch import nn

from adan_ser.classifiers.heads import (
    make_head,
    make_loss,
    parse_head_name,
    sample_weights,
    split_params,
)
from adan_ser.classifiers.inputs import check_n_classes
from adan_ser.contracts.folds import inner_validation_groups
from adan_ser.core.class_weights import class_weights
from adan_ser.core.device import resolve_device
from adan_ser.core.live import open_live
from adan_ser.core.optim import adam
from adan_ser.core.errors import AdanError

VAL_SHARE = 0.1  # validation share of the rows when no speakers are given


def uar(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Balanced accuracy (0–1) over the classes present in ``y_true`` (a held-out speaker may lack some).

    y_true, y_pred: (n,) class indices in [0, n_classes).
    """
    support = np.bincount(y_true, minlength=n_classes)
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    present = support > 0
    return float((hits[present] / support[present]).mean())


def validation_split(y_idx: np.ndarray, groups, val_groups: int, seed: int,
                     rng: np.random.Generator, what: str, fold: Optional[str] = None):
    """Hold out ``val_groups`` training speakers (or, without speakers, a stratified 10 %).

    y_idx: (n,) class indices; groups: (n,) speakers or None. The speakers are the fold contract's
    :func:`~adan_ser.contracts.folds.inner_validation_groups` of ``seed`` and ``fold`` (the fold's
    name; the augment stage fits that seed's and fold's augmenters without them); ``rng`` shuffles
    the fallback split only. Returns ``(train_idx, val_idx, held speakers or None)``;
    ``val_idx`` is empty when ``val_groups`` ≤ 0. ``what`` names the classifier in errors.
    """
    n = len(y_idx)
    idx = np.arange(n)
    if int(val_groups) <= 0:
        return idx, idx[:0], None
    if groups is not None:
        g = np.asarray(groups).astype(str)
        if len(g) != n:
            raise AdanError(f"groups has {len(g)} entries for {n} rows")
        held = inner_validation_groups(g, val_groups, seed, fold)
        if held is not None:
            mask = np.isin(g, held)
            return idx[~mask], idx[mask], held
    n_val = max(1, int(round(VAL_SHARE * n)))
    if n - n_val < 1:
        raise AdanError(f"{what}: {n} rows are too few to hold out a validation set")
    try:
        sss = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=int(seed))
        tr, va = next(sss.split(idx, y_idx))
    except ValueError:  # a class with a single row cannot be stratified
        perm = rng.permutation(n)
        tr, va = perm[n_val:], perm[:n_val]
    return np.sort(tr), np.sort(va), None


def train_epochs(
    run_epoch: Callable[[], float],
    validate: Optional[Callable[[], tuple[float, float]]],
    snapshot: Callable[[], Any],
    restore: Callable[[Any], None],
    *,
    epochs: int,
    patience: int,
    log_dir=None,
) -> tuple[list[dict], int]:
    """Run up to ``epochs`` epochs, keeping the weights of the best validation epoch.

    ``run_epoch()`` trains one epoch and returns its mean training loss; ``validate()`` returns
    ``(val_loss, val_uar)`` (None: no validation, the last epoch is kept). The best epoch has the
    highest validation UAR, ties broken by the lower loss; training stops after ``patience``
    epochs without a better one and ``restore(snapshot())`` of the best epoch is loaded back.
    Curves go to dvclive under ``log_dir`` (``train/loss``, ``val/loss``, ``val/uar``).
    Returns ``(history, best_epoch)``: one dict per epoch (epoch, train_loss, val_loss, val_uar).
    """
    live = open_live(log_dir)
    history: list[dict] = []
    best_key, best_state, best_epoch, wait = None, None, 0, 0
    try:
        for epoch in range(1, int(epochs) + 1):
            rec = {"epoch": epoch, "train_loss": float(run_epoch()), "val_loss": math.nan, "val_uar": math.nan}
            if validate is not None:
                rec["val_loss"], rec["val_uar"] = validate()
            history.append(rec)
            if live is not None:
                live.log_metric("train/loss", rec["train_loss"])
                if validate is not None:
                    live.log_metric("val/loss", rec["val_loss"])
                    live.log_metric("val/uar", rec["val_uar"])
                live.next_step()
            if validate is None:
                best_epoch = epoch
                continue
            key = (rec["val_uar"], -rec["val_loss"])
            if best_key is None or key > best_key:
                best_key, best_epoch, wait = key, epoch, 0
                best_state = snapshot()
            else:
                wait += 1
                if wait >= int(patience):
                    break
        if best_state is not None:
            restore(best_state)
        if live is not None:
            live.summary["best_epoch"] = best_epoch
    finally:
        if live is not None:
            live.end()
    return history, best_epoch


def validation_uar(model) -> float:
    """UAR in percent (4 decimals) on the inner validation speaker(s) at the kept epoch of a fitted
    torch classifier (or of the last step of a Pipeline ending in one); NaN for a model without
    an epoch history (the SVM) or trained without validation.

    Reads the ``history_`` and 1-based ``best_epoch_`` that :func:`train_epochs` returned to the
    estimator. Used to choose among heads without looking at the test fold.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    history, best = getattr(final, "history_", None), getattr(final, "best_epoch_", 0)
    if not history or best < 1:
        return math.nan
    return round(100.0 * float(history[best - 1]["val_uar"]), 4)


def validation_speakers(model) -> str:
    """The inner-validation speakers of a fitted torch classifier (or of the last step of a Pipeline
    ending in one), space-separated in sorted order; "" for a model without them (the SVM, a fit
    without validation or with a stratified share of rows). Lets a choice made on ``val_uar`` say
    how many distinct speakers it rests on.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    held = getattr(final, "val_groups_", None)
    return "" if held is None else " ".join(sorted(map(str, held)))


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """Base of the torch classifiers: one :meth:`fit` for all of them.

    :meth:`fit` runs, in this order: parameter and input checks, ``classes_``, :meth:`_prepare`
    (data-dependent preprocessing of X learnt from the whole training set), the validation split
    (``val_groups`` speakers drawn from ``random_state`` and ``val_fold``, else a stratified 10 %), class
    weights and counts of the training part, :meth:`_fit_data` (X → training and validation data),
    then, inside a forked torch RNG seeded with ``random_state``, :meth:`_build` (modules) and the epoch
    loop (:func:`train_epochs`): Adam over the parameters of every module of :meth:`_modules` (the
    loss's learnable centres included), an epoch order drawn by a generator seeded with ``random_state`` (a
    permutation, or with replacement ∝ 1 / class count for balanced sampling), one optimiser step
    per ``batch_size`` chunk, then :meth:`_after_step`. Subclasses implement ``_check_inputs``,
    ``_prepare``, ``_fit_data``, ``_train_targets``, ``_build``, ``_modules``, ``_batch_loss`` and
    ``_validate``, and their own inference.

    Parameters
    ----------
    head, head_params, lr, weight_decay, epochs, batch_size, patience, val_groups, val_fold, ...
        Set by every subclass's ``__init__``, with ``class_weight``, ``device``, ``random_state`` and
        ``log_dir`` (see :class:`~adan_ser.classifiers.dnn.DNNClassifier`). ``val_fold``: the
        fold the model trains in, which places its validation speakers (the factory sets it).

    Attributes
    ----------
    classes_, class_counts_, class_weight_ : ndarray of shape (n_classes,)
        Sorted labels seen in :meth:`fit`; training-part rows per class; loss weights.
    head_, loss_ : torch.nn.Module
        The head ((batch, n_emb) → (batch, n_classes)) and the training loss.
    val_groups_ : ndarray or None
        Held-out speakers (None: a stratified share of rows or no validation).
    val_idx_ : ndarray of shape (n_val,)
        Validation row indices into X.
    best_epoch_, n_steps_ : int
        1-based epoch whose weights were kept; optimiser steps taken.
    history_ : list of dict
        Per epoch: epoch, train_loss, val_loss, val_uar (NaN without validation).

    Examples
    --------
    >>> import numpy as np
    >>> from adan_ser.classifiers.dnn import DNNClassifier
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = np.tile(["a", "b"], 20)
    >>> dnn = DNNClassifier(hidden=[4], epochs=2, device="cpu").fit(X, y, np.repeat([1, 2, 3, 4], 10))
    >>> isinstance(dnn, TorchClassifier), len(dnn.history_), validation_speakers(dnn).count(" ") + 1
    (True, 2, 1)
    """

    #: Name of the classifier in messages.
    _what = "torch"
    #: Batches with fewer rows are skipped (BatchNorm cannot train on a single row).
    _min_batch = 1

    # ------------------------------------------------------------------------- subclass hooks

    def _check_params(self) -> None:
        """AdanError naming the first invalid constructor parameter; subclasses extend it."""
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise AdanError(f"{self._what}: {name} must be ≥ 1, got {getattr(self, name)!r}")

    def _check_inputs(self, X, y):
        """(X, y) checked: y as an (n,) array of labels with one per item of X."""
        raise NotImplementedError

    def _prepare(self, X, y_idx: np.ndarray, **fit_data):
        """What is learnt from the whole training X before the split; returns the data to split."""
        return X

    def _fit_data(self, data, y_idx: np.ndarray, tr: np.ndarray, va: np.ndarray, dev):
        """(training data, validation data or None) from the rows ``tr`` and ``va``."""
        raise NotImplementedError

    def _train_targets(self, train) -> np.ndarray:
        """(n_train,) class indices of the training items the batches index."""
        raise NotImplementedError

    def _build(self, n_classes: int, dev) -> None:
        """Create the modules (``head_`` and ``loss_`` among them) on ``dev``."""
        raise NotImplementedError

    def _modules(self) -> list[nn.Module]:
        """The trained modules, in optimiser order; their states are the snapshot of an epoch."""
        raise NotImplementedError

    def _batch_loss(self, train, b: torch.Tensor, dev) -> torch.Tensor:
        """Scalar mean training loss of the training items ``b`` ((batch,) CPU indices)."""
        raise NotImplementedError

    def _validate(self, val) -> tuple[float, float]:
        """(validation loss, validation UAR in 0–1) of the current weights."""
        raise NotImplementedError

    def _after_step(self) -> None:
        """Called after every optimiser step of every model: margin schedules advance here.

        Every module of :meth:`_modules` with an ``advance()`` (A-softmax's λ annealing) counts
        the step; modules without a schedule are left alone.
        """
        for module in self._modules():
            advance = getattr(module, "advance", None)
            if callable(advance):
                advance()

    def _balanced_sampling(self) -> bool:
        """Whether epochs draw rows with replacement ∝ 1 / class count instead of shuffling."""
        return bool(getattr(self.loss_, "balanced_sampling", False))

    # ----------------------------------------------------------------------- head and loss

    def _head_loss_kwargs(self) -> tuple[str, str, dict, dict]:
        """(head name, loss name, head params, loss params) from ``head`` and ``head_params``."""
        head, loss = parse_head_name(self.head)
        if self.head_params is not None and not isinstance(self.head_params, dict):
            raise AdanError(f"{self._what}: head_params must be a dict, got {self.head_params!r}")
        return (head, loss, *split_params(head, loss, self.head_params))

    def _build_head(self, n_emb: int, n_classes: int) -> nn.Module:
        """(batch, n_emb) → (batch, n_classes) scores, from ``head`` / ``head_params``."""
        head, _, head_kw, _ = self._head_loss_kwargs()
        return make_head(head, n_emb, n_classes, self.class_counts_, classes=self.classes_.tolist(), **head_kw)

    def _build_loss(self, n_emb: int, n_classes: int) -> nn.Module:
        """The training loss of ``head``, weighted by ``class_weight_``."""
        _, loss, _, loss_kw = self._head_loss_kwargs()
        return make_loss(loss, n_emb, n_classes, self.class_counts_, class_weight=self.class_weight_, **loss_kw)

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

    def _head_loss(self, emb: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Training loss of (batch, n_emb) embeddings: head with margin, then the head's loss."""
        return self._call_loss(self._call_head(emb, targets), targets, emb)

    # ------------------------------------------------------------------------------ fitting

    def fit(self, X, y, groups=None, **fit_data):
        """X: the subclass's inputs, one per label; y: (n,) labels; groups: (n,) speakers or None.

        ``fit_data``: further per-item arrays the subclass's :meth:`_prepare` takes.
        """
        self._check_params()
        X, y = self._check_inputs(X, y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        check_n_classes(self.classes_, self._what)
        self._head_loss_kwargs()  # bad names fail before any training
        data = self._prepare(X, y_idx, **fit_data)
        n_classes = len(self.classes_)
        rng = np.random.default_rng(self.random_state)
        tr, va, held = validation_split(y_idx, groups, self.val_groups, self.random_state, rng, self._what,
                                        self.val_fold)
        self.val_groups_, self.val_idx_ = held, va
        cw = class_weights(self.class_weight, y_idx[tr], self.classes_, self._what)
        self.class_weight_ = np.ones(n_classes) if cw is None else cw
        self.class_counts_ = np.bincount(y_idx[tr], minlength=n_classes)
        dev = resolve_device(self.device)
        train, val = self._fit_data(data, y_idx, tr, va, dev)
        # fork_rng keeps the caller's global torch RNG untouched while seeding init and dropout.
        fork_devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(int(self.random_state))
            self._build(n_classes, dev)
            self._head_takes_target = "target" in inspect.signature(self.head_.forward).parameters
            self._train(train, val, dev)
        self._set_training(False)
        return self

    def _set_training(self, mode: bool) -> None:
        for module in self._modules():
            module.train(mode)

    def _epoch_batches(self, y_train: np.ndarray, gen: torch.Generator) -> list[torch.Tensor]:
        """One epoch's (batch,) CPU index chunks of the training items, drawn with ``gen``."""
        n, bs = len(y_train), int(self.batch_size)
        if self._balanced_sampling():  # n items drawn with replacement, ∝ 1 / class count
            order = torch.multinomial(sample_weights(y_train, len(self.classes_)), n, replacement=True,
                                      generator=gen)
        else:
            order = torch.randperm(n, generator=gen)
        return [order[i : i + bs] for i in range(0, n, bs)]

    def _train(self, train, val, dev) -> None:
        modules = self._modules()
        params = [p for m in modules for p in m.parameters()]
        opt = adam(params, lr=self.lr, weight_decay=self.weight_decay)
        gen = torch.Generator().manual_seed(int(self.random_state))
        y_train = self._train_targets(train)
        self.n_steps_ = 0

        def run_epoch() -> float:
            self._set_training(True)
            # Summed on the device: no host sync per step.
            total, seen = torch.zeros((), device=dev), 0
            for b in self._epoch_batches(y_train, gen):
                if len(b) < self._min_batch:
                    continue
                opt.zero_grad(set_to_none=True)
                loss = self._batch_loss(train, b, dev)
                loss.backward()
                opt.step()
                self.n_steps_ += 1
                self._after_step()
                total += loss.detach() * len(b)
                seen += len(b)
            return float(total) / max(seen, 1)

        def restore(states) -> None:
            for m, state in zip(modules, states):
                m.load_state_dict(state)

        self.history_, self.best_epoch_ = train_epochs(
            run_epoch, None if val is None else (lambda: self._validate(val)),
            snapshot=lambda: [copy.deepcopy(m.state_dict()) for m in modules], restore=restore,
            epochs=self.epochs, patience=self.patience, log_dir=self.log_dir,
        )
