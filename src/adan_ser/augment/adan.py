"""ADAN: the Adversarial Data Augmentation Network of Yi & Mak, and its separately-trained ablation.

ADAN learns a latent space (encoder E, decoder R) shaped by an auxiliary emotion classifier C, and
a conditional generator G whose latents a discriminator D cannot tell from E's. Synthetic feature
vectors are ``R(G(z, y))``, ``z ~ N(0, I)``.

Shapes: ``X`` is (n_samples, n_features) in feature units (openSMILE functionals), ``y`` (n_samples,)
labels; latents are (n, latent_dim) in (-1, 1) (tanh). Everything the networks see is scaled by
statistics of the training rows; everything returned is back in feature units, full width.

Estimators:

* :class:`ADAN` — the jointly trained network (paper's eqs. 1–6).
* :class:`SeparateADAN` — the paper's ablation: an autoencoder trained alone on the reconstruction
  loss, then a vanilla conditional GAN on its frozen latents (no auxiliary classifier).
* :class:`ADANSampler`, :class:`SeparateADANSampler` — imblearn samplers around them.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
from numbers import Integral, Real
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from torch import nn

from adan_ser import __version__
from adan_ser.augment.baselines import SyntheticSampler, _check_ratio, _check_seed, check_Xy, synthetic_counts
from adan_ser.core.device import resolve_device
from adan_ser.core.errors import AdanError

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover
    from sklearn_compat.utils.validation import validate_data

__all__ = [
    "ADAN",
    "SeparateADAN",
    "ADANSampler",
    "SeparateADANSampler",
    "ADANNetworks",
    "load_model",
    "MLP",
    "class_weights",
    "converged",
    "FORMAT_VERSION",
]

#: Saved-file format "major.minor"; a file with another major is refused.
FORMAT_VERSION = "1.0"
_FORMAT_TAG = "adan_ser.augment.adan"

#: Early stop: |mean D output − 0.5| ≤ tol, for real and generated latents, this many epochs running.
EARLY_STOP_TOL = 0.01
EARLY_STOP_PATIENCE = 3

ACTIVATIONS = ("tanh", "leaky_bn")
SCALINGS = ("znorm", "maxabs")
G_LOSSES = ("nonsaturating", "minimax")

#: Rows per forward pass in sample()/transform(); bounds memory, not results.
_CHUNK = 4096

#: Order of the per-batch statistics accumulated during an ADAN epoch.
_ADAN_STATS = ("loss_d", "loss_c", "loss_g_ce", "loss_g_adv", "loss_r", "d_real", "d_fake")
_GAN_STATS = ("loss_d", "loss_g_adv", "d_real", "d_fake")


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------


class MLP(nn.Module):
    """Fully connected net: ``in_dim`` → hidden layers → ``out_dim``.

    Hidden activation ``tanh`` or ``leaky_bn`` (LeakyReLU 0.2, then batch norm when
    ``batch_norm``, the order of the authors' code). ``out`` is ``"tanh"`` or ``None`` (linear).
    Weights are Xavier-uniform from ``generator``, biases zero.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int],
        out_dim: int,
        activation: str,
        batch_norm: bool,
        out: Optional[str],
        generator: torch.Generator,
    ):
        super().__init__()
        dims = [int(in_dim), *map(int, hidden), int(out_dim)]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(d) for d in dims[1:-1]) if batch_norm else None
        self.activation = activation
        self.out = out
        for layer in self.linears:
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, frozen: bool = False) -> torch.Tensor:
        """``x`` (batch, in_dim) → (batch, out_dim).

        ``frozen=True`` uses detached parameters: gradients flow to ``x`` but never into this
        net, which is how C and D stay fixed while G learns through them in the same backward.
        """
        last = len(self.linears) - 1
        for i, layer in enumerate(self.linears):
            w, b = layer.weight, layer.bias
            if frozen:
                w, b = w.detach(), b.detach()
            x = F.linear(x, w, b)
            if i < last:
                x = torch.tanh(x) if self.activation == "tanh" else F.leaky_relu(x, 0.2)
                if self.norms is not None:
                    bn = self.norms[i]
                    if frozen:
                        # Running statistics are left alone so a frozen pass is side-effect free.
                        x = F.batch_norm(
                            x,
                            None if bn.training else bn.running_mean,
                            None if bn.training else bn.running_var,
                            bn.weight.detach(),
                            bn.bias.detach(),
                            training=bn.training,
                            eps=bn.eps,
                        )
                    else:
                        x = bn(x)
        return torch.tanh(x) if self.out == "tanh" else x


class ADANNetworks(nn.Module):
    """The five ADAN parts (``classifier`` is ``None`` in the separately-trained ablation).

    * ``encoder``  E: (n, n_features) → (n, latent_dim), tanh output
    * ``decoder``  R: (n, latent_dim) → (n, n_features), linear (z-norm) or tanh (max-abs) output
    * ``classifier`` C: (n, latent_dim) → (n, n_classes) logits
    * ``generator`` G: (n, noise_dim + n_classes) → (n, latent_dim), tanh output
    * ``discriminator`` D: (n, latent_dim) → (n, 1) logit of "came from E"

    ``n_features`` counts the kept (non-constant) features.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        latent_dim: int,
        enc_hidden: Sequence[int],
        gen_hidden: Sequence[int],
        disc_hidden: Sequence[int],
        clf_hidden: Optional[Sequence[int]],
        noise_dim: int,
        activation: str,
        linear_decoder: bool,
        generator: torch.Generator,
    ):
        super().__init__()
        bn = activation == "leaky_bn"
        # Construction order fixes the draw order from ``generator``, hence the initial weights.
        self.encoder = MLP(n_features, enc_hidden, latent_dim, activation, bn, "tanh", generator)
        self.decoder = MLP(
            latent_dim, tuple(reversed(tuple(enc_hidden))), n_features, activation, bn,
            None if linear_decoder else "tanh", generator,
        )
        self.classifier = (
            MLP(latent_dim, clf_hidden, n_classes, activation, False, None, generator)
            if clf_hidden is not None
            else None
        )
        self.generator = MLP(noise_dim + n_classes, gen_hidden, latent_dim, activation, False, "tanh", generator)
        self.discriminator = MLP(latent_dim, disc_hidden, 1, activation, False, None, generator)


def class_weights(y_index: np.ndarray, n_classes: int, class_weight) -> np.ndarray:
    """Per-class CE weights (n_classes,): ones, ``max(count) / count`` (``"balanced"``) or a dict.

    ``y_index`` holds class indices 0..n_classes-1. A dict maps class *index* to weight
    (:class:`ADAN` translates labels to indices first); missing classes weigh 1.
    """
    if class_weight is None:
        return np.ones(n_classes)
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(y_index, minlength=n_classes).astype(np.float64)
        # A class absent from y never appears in a loss term; weight 1 keeps the vector finite.
        return np.where(counts > 0, counts.max() / np.maximum(counts, 1), 1.0)
    if isinstance(class_weight, dict):
        w = np.ones(n_classes)
        for k, v in class_weight.items():
            w[int(k)] = float(v)
        return w
    raise AdanError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")


def converged(
    history: Sequence[dict],
    min_epochs: int,
    tol: float = EARLY_STOP_TOL,
    patience: int = EARLY_STOP_PATIENCE,
) -> bool:
    """Early-stop test on a per-epoch history (dicts with ``epoch``, ``d_real``, ``d_fake``).

    True once the last ``patience`` epochs all lie after ``min_epochs`` and have both mean D
    outputs within ``tol`` of 0.5 — D can no longer tell generated latents from real ones.
    """
    if len(history) < patience:
        return False
    return all(
        h["epoch"] > min_epochs and abs(h["d_real"] - 0.5) <= tol and abs(h["d_fake"] - 0.5) <= tol
        for h in history[-patience:]
    )


def _adam(params, lr: float, beta1: float, eps: float, device: torch.device) -> torch.optim.Adam:
    params = list(params)
    kwargs = dict(lr=lr, betas=(beta1, 0.999), eps=eps)
    # The fused kernel is ~4x faster than the per-tensor loop on CPU for ~7 M parameters.
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):  # pragma: no cover - device/dtype without a fused kernel
        return torch.optim.Adam(params, foreach=device.type == "cuda", **kwargs)


def _to_builtin(obj):
    """Plain Python containers/scalars only, so the saved file loads with ``weights_only=True``."""
    if isinstance(obj, dict):
        return {_to_builtin(k): _to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_builtin(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


class _Monitor:
    """Per-epoch side channels: dvclive metrics and a tqdm bar (both optional)."""

    def __init__(self, live, bar):
        self.live = live
        self.bar = bar

    def log(self, entry: dict) -> None:
        if self.live is not None:
            prefix = f"{entry['phase']}/" if "phase" in entry else ""
            for key, value in entry.items():
                if key not in ("epoch", "phase"):
                    self.live.log_metric(prefix + key, value)
            self.live.next_step()
        if self.bar is not None:
            self.bar.update(1)
            if "d_fake" in entry:
                self.bar.set_postfix(d_real=f"{entry['d_real']:.3f}", d_fake=f"{entry['d_fake']:.3f}", refresh=False)


# --------------------------------------------------------------------------------------------
# shared estimator machinery
# --------------------------------------------------------------------------------------------


class _LatentAugmenter(BaseEstimator):
    """Scaling, networks, sampling, transform and persistence shared by ADAN and its ablation.

    Subclasses define ``__init__`` (parameters) and ``_train(Xs, yi)``.
    """

    _with_classifier = True

    # ---- parameters ------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = type(self).__name__

        def positive_int(param, minimum=1):
            v = getattr(self, param)
            if isinstance(v, bool) or not isinstance(v, Integral) or v < minimum:
                raise AdanError(f"{name}: {param} must be an integer >= {minimum}, got {v!r}")

        def hidden(param):
            v = getattr(self, param)
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or not all(
                isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in v
            ):
                raise AdanError(f"{name}: {param} must be a sequence of positive layer sizes, got {v!r}")

        def positive_real(param, upper=None):
            v = getattr(self, param)
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0 or (
                upper is not None and v >= upper
            ):
                raise AdanError(f"{name}: {param} must be a number > 0{f' and < {upper}' if upper else ''}, got {v!r}")

        for p in ("latent_dim", "noise_dim", "batch_size", "epochs", "d_steps"):
            positive_int(p)
        positive_int("min_epochs", 0)
        for p in ("enc_hidden", "gen_hidden", "disc_hidden"):
            hidden(p)
        if self._with_classifier:
            hidden("clf_hidden")
        positive_real("lr")
        positive_real("eps")
        if isinstance(self.beta1, bool) or not isinstance(self.beta1, Real) or not 0 <= self.beta1 < 1:
            raise AdanError(f"{name}: beta1 must be in [0, 1), got {self.beta1!r}")
        if self.activation not in ACTIVATIONS:
            raise AdanError(f"{name}: activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.scaling not in SCALINGS:
            raise AdanError(f"{name}: scaling must be one of {SCALINGS}, got {self.scaling!r}")
        if self.g_loss not in G_LOSSES:
            raise AdanError(f"{name}: g_loss must be one of {G_LOSSES}, got {self.g_loss!r}")
        _check_seed(name, self.seed)
        try:
            resolve_device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise AdanError(f"{name}: bad device {self.device!r}: {exc}") from None

    # ---- scaling ---------------------------------------------------------------------------

    def _fit_scaler(self, X: np.ndarray) -> None:
        X = np.asarray(X, dtype=np.float64)
        self.keep_features_ = np.ptp(X, axis=0) > 0
        if not self.keep_features_.any():
            raise AdanError(f"{type(self).__name__}: every feature is constant in the training data")
        self.constant_values_ = X[0, ~self.keep_features_].copy()
        kept = X[:, self.keep_features_]
        if self.scaling == "znorm":
            self.center_ = kept.mean(axis=0)
            self.scale_ = kept.std(axis=0)
        else:
            self.center_ = np.zeros(kept.shape[1])
            self.scale_ = np.abs(kept).max(axis=0)

    def _scale(self, X: np.ndarray) -> torch.Tensor:
        """(n, n_features_in_) feature units → (n, n_kept) float32 tensor on the device."""
        Z = (np.asarray(X, dtype=np.float64)[:, self.keep_features_] - self.center_) / self.scale_
        return torch.from_numpy(Z.astype(np.float32)).to(self.device_)

    def _unscale(self, Z: np.ndarray) -> np.ndarray:
        """(n, n_kept) network units → (n, n_features_in_) float64 feature units, constants restored."""
        out = np.empty((Z.shape[0], self.n_features_in_))
        out[:, self.keep_features_] = Z * self.scale_ + self.center_
        out[:, ~self.keep_features_] = self.constant_values_
        return out

    # ---- fitting ---------------------------------------------------------------------------

    def _seeds(self) -> tuple[int, int, int]:
        """(weight-init, shuffle, noise) seeds derived from ``seed`` (fresh entropy when None)."""
        states = np.random.SeedSequence(self.seed).generate_state(3, dtype=np.uint64).tolist()
        return tuple(int(s >> 1) for s in states)

    def _build(self, n_kept: int, n_classes: int, init_seed: int) -> None:
        gen = torch.Generator().manual_seed(init_seed)
        self.net_ = ADANNetworks(
            n_features=n_kept,
            n_classes=n_classes,
            latent_dim=self.latent_dim,
            enc_hidden=self.enc_hidden,
            gen_hidden=self.gen_hidden,
            disc_hidden=self.disc_hidden,
            clf_hidden=self.clf_hidden if self._with_classifier else None,
            noise_dim=self.noise_dim,
            activation=self.activation,
            linear_decoder=self.scaling == "znorm",
            generator=gen,
        ).to(self.device_)

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None):
        """Train on ``X`` (n, d) feature units and ``y`` (n,) labels; returns self.

        ``feature_names`` (d,) sets ``feature_names_in_`` for an array input (a DataFrame's
        columns set it anyway).
        """
        self._check_params()
        X, y = check_Xy(self, X, y)
        if feature_names is not None:
            names = np.asarray(list(feature_names), dtype=object)
            if names.shape != (X.shape[1],):
                raise AdanError(
                    f"{type(self).__name__}: {len(names)} feature_names for {X.shape[1]} features"
                )
            self.feature_names_in_ = names
        self.device_ = resolve_device(self.device)
        self.classes_, yi = np.unique(y, return_inverse=True)
        self._fit_scaler(X)
        init_seed, shuffle_seed, noise_seed = self._seeds()
        self._build(int(self.keep_features_.sum()), len(self.classes_), init_seed)
        # One CPU generator drives shuffling (randperm is a CPU op); z comes from a generator on
        # the device so a GPU run draws noise without host round trips.
        self._shuffle_gen = torch.Generator().manual_seed(shuffle_seed)
        self._noise_gen = torch.Generator(device=self.device_).manual_seed(noise_seed)
        Xs = self._scale(X)
        yi_t = torch.from_numpy(yi.astype(np.int64)).to(self.device_)
        self.net_.train()
        try:
            self._train(Xs, yi_t, yi)
        finally:
            self.net_.eval()
            del self._shuffle_gen, self._noise_gen
        return self

    def _n_batches(self, n: int) -> int:
        # Near-equal batches covering every row: 480 rows at batch_size 128 → 4 × 120, never a
        # ragged last batch of a handful of rows (which batch norm and Adam both dislike).
        n_batches = max(1, round(n / self.batch_size))
        if self.activation == "leaky_bn":
            n_batches = min(n_batches, n // 2)  # batch norm needs two rows per batch
        return n_batches

    def _batches(self, n: int) -> tuple[torch.Tensor, ...]:
        perm = torch.randperm(n, generator=self._shuffle_gen).to(self.device_)
        return perm.tensor_split(self._n_batches(n))

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.noise_dim, generator=self._noise_gen, device=self.device_)

    @contextlib.contextmanager
    def _monitor(self, total: int) -> Iterator[_Monitor]:
        live = bar = None
        if self.log_dir is not None:
            from dvclive import Live  # lazy: dvclive is slow to import and optional at run time

            # dvcyaml=None / save_dvc_exp=False: log files only, never touch dvc.yaml or DVC experiments.
            live = Live(os.fspath(self.log_dir), dvcyaml=None, save_dvc_exp=False, report=None)
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=type(self).__name__, unit="epoch")
        try:
            yield _Monitor(live, bar)
        finally:
            if bar is not None:
                bar.close()
            if live is not None:
                live.end()

    def _loop(self, n_epochs, epoch_fn, monitor: _Monitor, early_stop: bool, phase: Optional[str] = None):
        history = []
        for epoch in range(1, n_epochs + 1):
            entry = {"epoch": epoch}
            if phase is not None:
                entry["phase"] = phase
            entry.update(epoch_fn())
            history.append(entry)
            monitor.log(entry)
            if early_stop and converged(history, self.min_epochs):
                break
        return history

    # ---- losses shared by both variants -----------------------------------------------------

    def _d_loss(self, h: torch.Tensor, g: torch.Tensor):
        """D's loss on detached latents ``h`` (real, from E) and ``g`` (from G), both (b, latent_dim).

        Returns (loss_d, mean D(h), mean D(g)); loss_d = ½[−log D(h) − log(1 − D(g))] via softplus
        of the logit (−log σ(l) = softplus(−l), −log(1 − σ(l)) = softplus(l)), stable for any logit.
        """
        logits = self.net_.discriminator(torch.cat([h, g])).squeeze(1)
        real, fake = logits[: len(h)], logits[len(h):]
        loss = 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())
        with torch.no_grad():
            return loss, torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()

    def _g_adv(self, g: torch.Tensor) -> torch.Tensor:
        """G's adversarial term through a frozen D: −log D(g) (non-saturating) or log(1 − D(g))."""
        logit = self.net_.discriminator(g, frozen=True).squeeze(1)
        if self.g_loss == "nonsaturating":
            return F.softplus(-logit).mean()
        return -F.softplus(logit).mean()

    def _d_steps(self, h: torch.Tensor, g: torch.Tensor, opt_d: torch.optim.Optimizer):
        """``d_steps`` D updates on one batch; returns the first step's (loss, D(h), D(g)) before updating."""
        first = None
        for _ in range(self.d_steps):
            loss_d, d_real, d_fake = self._d_loss(h, g)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if first is None:
                first = (loss_d.detach(), d_real, d_fake)
        return first

    # ---- using a fitted model ----------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise AdanError(f"{type(self).__name__} is not fitted; call fit first")

    def _labels_to_indices(self, y, counts) -> np.ndarray:
        name = type(self).__name__
        if (y is None) == (counts is None):
            raise AdanError(f"{name}.sample: give exactly one of y (labels) or counts (label → n)")
        if counts is not None:
            if not isinstance(counts, dict):
                raise AdanError(f"{name}.sample: counts must be a dict label → n, got {type(counts).__name__}")
            parts = []
            for label, n in counts.items():
                if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
                    raise AdanError(f"{name}.sample: count for {label!r} must be an integer >= 0, got {n!r}")
            known = {c: i for i, c in enumerate(self.classes_.tolist())}
            unknown = [k for k in counts if _to_builtin(k) not in known]
            if unknown:
                raise AdanError(f"{name}.sample: unknown label {_to_builtin(unknown[0])!r}; known: {self.classes_.tolist()}")
            # classes_ order, not dict order: the same counts always give the same samples.
            resolved = {known[_to_builtin(k)]: int(n) for k, n in counts.items()}
            for i in range(len(self.classes_)):
                parts.append(np.full(resolved.get(i, 0), i, dtype=np.int64))
            return np.concatenate(parts)
        y = np.asarray(y).ravel()
        if y.size == 0:
            return np.empty(0, dtype=np.int64)
        missing = ~np.isin(y, self.classes_)
        if missing.any():
            raise AdanError(f"{name}.sample: unknown label {_to_builtin(y[missing][0])!r}; known: {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def sample(self, y=None, counts: Optional[dict] = None, seed: Optional[int] = None):
        """Synthetic feature vectors ``R(G(z, y))``: ``(X_syn (m, n_features_in_) float64, y_syn (m,))``.

        ``y``: labels (m,) to generate, in that order; or ``counts``: {label: n}, generated in
        ``classes_`` order. ``seed`` seeds a generator of its own, so the same seed gives the same
        samples whatever happened before; None draws fresh entropy.
        """
        self._check_fitted()
        idx = self._labels_to_indices(y, counts)
        m = len(idx)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
        _check_seed(f"{type(self).__name__}.sample", seed)
        gen = torch.Generator().manual_seed(int(seed))
        # Drawn on the CPU in one go: identical z for a seed on any device and any chunking.
        z = torch.randn(m, self.noise_dim, generator=gen)
        eye = torch.eye(len(self.classes_))
        onehot = eye[torch.from_numpy(idx)]
        out = np.empty((m, self.n_features_in_))
        self.net_.eval()
        with torch.no_grad():
            for s in range(0, m, _CHUNK):
                gz = torch.cat([z[s:s + _CHUNK], onehot[s:s + _CHUNK]], dim=1).to(self.device_)
                x = self.net_.decoder(self.net_.generator(gz))
                out[s:s + _CHUNK] = self._unscale(x.cpu().numpy().astype(np.float64))
        return out, self.classes_[idx]

    def transform(self, X) -> np.ndarray:
        """Latent codes ``E(x)``: ``X`` (n, n_features_in_) feature units → (n, latent_dim) float64."""
        self._check_fitted()
        try:
            X = validate_data(self, X=X, reset=False, dtype=[np.float64, np.float32])
        except ValueError as exc:
            raise AdanError(f"{type(self).__name__}.transform: {str(exc).strip().splitlines()[0]}") from None
        self.net_.eval()
        parts = []
        with torch.no_grad():
            for s in range(0, len(X), _CHUNK):
                parts.append(self.net_.encoder(self._scale(X[s:s + _CHUNK])).cpu().numpy())
        return np.concatenate(parts).astype(np.float64) if parts else np.empty((0, self.latent_dim))

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the fitted model to one file (``torch.save`` of plain containers and tensors)."""
        self._check_fitted()
        from adan_ser.core.io import atomic_path

        payload = {
            "format": _FORMAT_TAG,
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "model": type(self).__name__,
            "params": _to_builtin(self.get_params()),
            "state_dict": {k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
            "keep_features": torch.from_numpy(self.keep_features_.copy()),
            "constant_values": torch.from_numpy(self.constant_values_.copy()),
            "center": torch.from_numpy(self.center_.copy()),
            "scale": torch.from_numpy(self.scale_.copy()),
            "classes": _to_builtin(self.classes_.tolist()),
            "classes_dtype": self.classes_.dtype.str if self.classes_.dtype != object else "object",
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": (
                [str(n) for n in self.feature_names_in_] if hasattr(self, "feature_names_in_") else None
            ),
            "history": _to_builtin(self.history_),
            "n_epochs": int(self.n_epochs_),
            "extra": _to_builtin(self._extra_state()),
        }
        # Through a file object: given a path, torch.save names the archive after the (random)
        # temporary file, and the same model would then give different bytes (and DVC hashes).
        with atomic_path(path, ".pt") as tmp, open(tmp, "wb") as fh:
            torch.save(payload, fh)

    def _extra_state(self) -> dict:
        return {}

    def _load_extra_state(self, extra: dict) -> None:
        pass

    @classmethod
    def load(cls, path, device: Optional[str] = None):
        """Read a file written by :meth:`save`; ``device`` overrides the saved ``device`` param."""
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise AdanError(f"model file {os.fspath(path)!r} not found") from None
        except Exception as exc:  # unpickling errors come in many types
            raise AdanError(f"{os.fspath(path)!r} is not a readable ADAN model file: {type(exc).__name__}") from None
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT_TAG:
            raise AdanError(f"{os.fspath(path)!r} is not an ADAN model file")
        major = str(payload.get("format_version", "")).split(".")[0]
        if major != FORMAT_VERSION.split(".")[0]:
            raise AdanError(
                f"{os.fspath(path)!r} has format version {payload.get('format_version')!r}; "
                f"this adan_ser reads {FORMAT_VERSION.split('.')[0]}.x"
            )
        model_cls = _MODELS.get(payload["model"])
        if model_cls is None or not issubclass(model_cls, cls):
            raise AdanError(f"{os.fspath(path)!r} holds a {payload['model']}, not a {cls.__name__}")
        known = set(inspect.signature(model_cls.__init__).parameters) - {"self"}
        params = {k: v for k, v in payload["params"].items() if k in known}
        if device is not None:
            params["device"] = device
        est = model_cls(**params)
        est._check_params()
        est.device_ = resolve_device(est.device)
        est.keep_features_ = payload["keep_features"].numpy().astype(bool)
        est.constant_values_ = payload["constant_values"].numpy().astype(np.float64)
        est.center_ = payload["center"].numpy().astype(np.float64)
        est.scale_ = payload["scale"].numpy().astype(np.float64)
        dtype = payload["classes_dtype"]
        est.classes_ = np.asarray(payload["classes"], dtype=object if dtype == "object" else np.dtype(dtype))
        est.n_features_in_ = int(payload["n_features_in"])
        if payload.get("feature_names_in") is not None:
            est.feature_names_in_ = np.asarray(payload["feature_names_in"], dtype=object)
        est.history_ = list(payload["history"])
        est.n_epochs_ = int(payload["n_epochs"])
        est._build(int(est.keep_features_.sum()), len(est.classes_), 0)
        est.net_.load_state_dict(payload["state_dict"])
        est.net_.eval()
        est._load_extra_state(payload.get("extra", {}))
        return est


# --------------------------------------------------------------------------------------------
# ADAN
# --------------------------------------------------------------------------------------------


class ADAN(_LatentAugmenter):
    """Adversarial Data Augmentation Network (Yi & Mak), jointly trained.

    Losses per mini-batch (x, y), z ~ N(0, I_noise_dim):

    * D: L_D = ½[−log D(E(x)) − log(1 − D(G(z, y)))]
    * E, R, C: L_R = mean‖x − R(E(x))‖² (over batch and features), L_C = CE(C(E(x)), y);
      E learns from L_R + L_C (never from D), R from L_R, C from L_C
    * G: L_G = −log D(G(z, y)) + CE(C(G(z, y)), y) (``g_loss="nonsaturating"``, paper eq. 6) or
      log(1 − D(G(z, y))) + CE (``"minimax"``, eq. 5), with D and C frozen.

    ``class_weight="balanced"`` multiplies each CE term by ``max(count) / count[y]`` (mean over
    the batch, as the authors' code); a dict maps label → weight.

    Schedule: ``d_steps`` D updates, then one update of E, R, C and G together (one backward of
    L_R + L_C + L_G; C and D enter G's loss with detached weights, so each net gets exactly its own
    gradient). One Adam over E, R, C, G equals four separate Adams with equal settings, because
    Adam is element-wise. E(x) and G(z, y) are computed once per batch and reused by the D step
    (detached) and the main step: neither E nor G changes in between.

    Learning rates: ``lr`` for E, R and C (paper: 1e-4 for every network); ``lr_d`` and ``lr_g``
    (None = ``lr``) let D and G learn at their own pace, the usual lever when D overpowers G.

    Early stop: the epoch means of D(E(x)) and D(G(z, y)) — taken from the first D step of each
    batch, before that update — both within 0.01 of 0.5 for three epochs running after
    ``min_epochs``.

    Fitted: ``net_`` (:class:`ADANNetworks`), ``classes_``, ``n_features_in_``, ``history_`` (one dict
    per epoch: epoch, loss_d, loss_c, loss_g_ce, loss_g_adv, loss_r, d_real, d_fake — batch means),
    ``n_epochs_``, ``class_weight_`` (n_classes,), ``keep_features_``/``constant_values_`` (constant
    training features, dropped from the networks and restored in the output), ``center_``/``scale_``.
    """

    def __init__(
        self,
        latent_dim: int = 100,
        enc_hidden: Sequence[int] = (800, 800),
        gen_hidden: Sequence[int] = (100, 100),
        disc_hidden: Sequence[int] = (100, 100),
        clf_hidden: Sequence[int] = (100, 100),
        noise_dim: int = 100,
        activation: str = "tanh",
        scaling: str = "znorm",
        d_steps: int = 1,
        g_loss: str = "nonsaturating",
        class_weight=None,
        lr: float = 1e-4,
        lr_d: Optional[float] = None,
        lr_g: Optional[float] = None,
        beta1: float = 0.5,
        eps: float = 1e-5,
        batch_size: int = 128,
        epochs: int = 1500,
        early_stop: bool = True,
        min_epochs: int = 200,
        device: str = "auto",
        seed: Optional[int] = 0,
        log_dir=None,
        progress: bool = False,
    ):
        self.latent_dim = latent_dim
        self.enc_hidden = enc_hidden
        self.gen_hidden = gen_hidden
        self.disc_hidden = disc_hidden
        self.clf_hidden = clf_hidden
        self.noise_dim = noise_dim
        self.activation = activation
        self.scaling = scaling
        self.d_steps = d_steps
        self.g_loss = g_loss
        self.class_weight = class_weight
        self.lr = lr
        self.lr_d = lr_d
        self.lr_g = lr_g
        self.beta1 = beta1
        self.eps = eps
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stop = early_stop
        self.min_epochs = min_epochs
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.progress = progress

    def _check_params(self) -> None:
        super()._check_params()
        for param in ("lr_d", "lr_g"):
            v = getattr(self, param)
            if v is not None and (isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0):
                raise AdanError(f"ADAN: {param} must be a number > 0 or null (= lr), got {v!r}")
        cw = self.class_weight
        if not (cw is None or (isinstance(cw, str) and cw == "balanced") or isinstance(cw, dict)):
            raise AdanError(f"ADAN: class_weight must be None, 'balanced' or a dict, got {cw!r}")

    def _class_weight_vector(self, yi: np.ndarray) -> np.ndarray:
        cw = self.class_weight
        if isinstance(cw, dict):
            known = {c: i for i, c in enumerate(self.classes_.tolist())}
            bad = [k for k in cw if _to_builtin(k) not in known]
            if bad:
                raise AdanError(f"ADAN: class_weight names unknown label {_to_builtin(bad[0])!r}")
            cw = {known[_to_builtin(k)]: v for k, v in cw.items()}
        return class_weights(yi, len(self.classes_), cw)

    def _ce(self, logits: torch.Tensor, yb: torch.Tensor, wb: Optional[torch.Tensor]) -> torch.Tensor:
        if wb is None:
            return F.cross_entropy(logits, yb)
        return (F.cross_entropy(logits, yb, reduction="none") * wb).mean()

    def _losses(self, xb, yb, wb, h, g):
        """The main step's losses for one batch: (L_R, L_C, G's adversarial term, G's CE term).

        ``xb`` (b, n_kept) scaled input, ``yb`` (b,) class indices, ``wb`` (b,) CE weights or None,
        ``h = E(xb)`` and ``g = G(z, y)`` (b, latent_dim) with their graphs. Only E, R, C receive
        gradients from the first two, only G from the last two.
        """
        net = self.net_
        loss_r = F.mse_loss(net.decoder(h), xb)
        loss_c = self._ce(net.classifier(h), yb, wb)
        loss_g_adv = self._g_adv(g)
        loss_g_ce = self._ce(net.classifier(g, frozen=True), yb, wb)
        return loss_r, loss_c, loss_g_adv, loss_g_ce

    def _optimizers(self):
        net = self.net_
        lr_d = self.lr if self.lr_d is None else self.lr_d
        lr_g = self.lr if self.lr_g is None else self.lr_g
        opt_d = _adam(net.discriminator.parameters(), lr_d, self.beta1, self.eps, self.device_)
        # Param groups keep one fused Adam (one kernel per step) while G may learn at its own rate.
        main = [
            {"params": [p for part in (net.encoder, net.decoder, net.classifier) for p in part.parameters()]},
            {"params": list(net.generator.parameters()), "lr": lr_g},
        ]
        opt_main = _adam(main, self.lr, self.beta1, self.eps, self.device_)
        return opt_d, opt_main

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        net = self.net_
        n = Xs.shape[0]
        self.class_weight_ = self._class_weight_vector(yi_np)
        weighted = self.class_weight is not None
        w_rows = torch.from_numpy(self.class_weight_.astype(np.float32)).to(self.device_)[yi] if weighted else None
        onehot = torch.eye(len(self.classes_), device=self.device_)[yi]
        opt_d, opt_main = self._optimizers()
        stats = torch.zeros(len(_ADAN_STATS), device=self.device_)

        def epoch():
            stats.zero_()
            batches = self._batches(n)
            for idx in batches:
                xb, yb = Xs[idx], yi[idx]
                wb = w_rows[idx] if weighted else None
                h = net.encoder(xb)
                g = net.generator(torch.cat([self._noise(len(idx)), onehot[idx]], dim=1))
                loss_d, d_real, d_fake = self._d_steps(h.detach(), g.detach(), opt_d)
                loss_r, loss_c, loss_g_adv, loss_g_ce = self._losses(xb, yb, wb, h, g)
                opt_main.zero_grad(set_to_none=True)
                (loss_r + loss_c + loss_g_adv + loss_g_ce).backward()
                opt_main.step()
                # Accumulated on the device: one host sync per epoch, not one per loss per batch.
                stats.add_(torch.stack([loss_d, loss_c.detach(), loss_g_ce.detach(), loss_g_adv.detach(),
                                        loss_r.detach(), d_real, d_fake]))
            return dict(zip(_ADAN_STATS, (stats / len(batches)).tolist()))

        with self._monitor(self.epochs) as monitor:
            self.history_ = self._loop(self.epochs, epoch, monitor, self.early_stop)
        self.n_epochs_ = len(self.history_)


# --------------------------------------------------------------------------------------------
# ablation: autoencoder first, then a conditional GAN on its frozen latents
# --------------------------------------------------------------------------------------------


class SeparateADAN(_LatentAugmenter):
    """The paper's ablation: E/R trained alone, then a vanilla conditional GAN on frozen latents.

    Phase 1 (``ae_epochs`` epochs): E and R on L_R = mean‖x − R(E(x))‖² only. Phase 2 (up to
    ``epochs``, early stop as :class:`ADAN`): G(z, y) against D on the fixed latents E(x), no
    auxiliary classifier; L_D as ADAN, G's loss is the adversarial term alone. Sampling is
    ``R(G(z, y))`` as in ADAN. Same building blocks, scaling, sampling and persistence as ADAN.

    ``history_`` holds phase-1 entries (``phase="autoencoder"``: epoch, loss_r) then phase-2
    entries (``phase="gan"``: epoch, loss_d, loss_g_adv, d_real, d_fake), epochs counted per
    phase; ``n_epochs_`` is the number of GAN epochs, ``n_ae_epochs_`` the autoencoder's.
    """

    _with_classifier = False

    def __init__(
        self,
        latent_dim: int = 100,
        enc_hidden: Sequence[int] = (800, 800),
        gen_hidden: Sequence[int] = (100, 100),
        disc_hidden: Sequence[int] = (100, 100),
        noise_dim: int = 100,
        activation: str = "tanh",
        scaling: str = "znorm",
        d_steps: int = 1,
        g_loss: str = "nonsaturating",
        lr: float = 1e-4,
        beta1: float = 0.5,
        eps: float = 1e-5,
        batch_size: int = 128,
        ae_epochs: int = 200,
        epochs: int = 1500,
        early_stop: bool = True,
        min_epochs: int = 200,
        device: str = "auto",
        seed: Optional[int] = 0,
        log_dir=None,
        progress: bool = False,
    ):
        self.latent_dim = latent_dim
        self.enc_hidden = enc_hidden
        self.gen_hidden = gen_hidden
        self.disc_hidden = disc_hidden
        self.noise_dim = noise_dim
        self.activation = activation
        self.scaling = scaling
        self.d_steps = d_steps
        self.g_loss = g_loss
        self.lr = lr
        self.beta1 = beta1
        self.eps = eps
        self.batch_size = batch_size
        self.ae_epochs = ae_epochs
        self.epochs = epochs
        self.early_stop = early_stop
        self.min_epochs = min_epochs
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.progress = progress

    def _check_params(self) -> None:
        super()._check_params()
        v = self.ae_epochs
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
            raise AdanError(f"SeparateADAN: ae_epochs must be an integer >= 0, got {v!r}")

    def _extra_state(self) -> dict:
        return {"n_ae_epochs": int(self.n_ae_epochs_)}

    def _load_extra_state(self, extra: dict) -> None:
        self.n_ae_epochs_ = int(extra.get("n_ae_epochs", 0))

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        net = self.net_
        n = Xs.shape[0]
        onehot = torch.eye(len(self.classes_), device=self.device_)[yi]
        opt_ae = _adam(
            [*net.encoder.parameters(), *net.decoder.parameters()], self.lr, self.beta1, self.eps, self.device_
        )
        opt_d = _adam(net.discriminator.parameters(), self.lr, self.beta1, self.eps, self.device_)
        opt_g = _adam(net.generator.parameters(), self.lr, self.beta1, self.eps, self.device_)

        def ae_epoch():
            total = torch.zeros((), device=self.device_)
            batches = self._batches(n)
            for idx in batches:
                xb = Xs[idx]
                loss_r = F.mse_loss(net.decoder(net.encoder(xb)), xb)
                opt_ae.zero_grad(set_to_none=True)
                loss_r.backward()
                opt_ae.step()
                total += loss_r.detach()
            return {"loss_r": (total / len(batches)).item()}

        latents = None
        stats = torch.zeros(len(_GAN_STATS), device=self.device_)

        def gan_epoch():
            stats.zero_()
            batches = self._batches(n)
            for idx in batches:
                g = net.generator(torch.cat([self._noise(len(idx)), onehot[idx]], dim=1))
                loss_d, d_real, d_fake = self._d_steps(latents[idx], g.detach(), opt_d)
                loss_g = self._g_adv(g)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                stats.add_(torch.stack([loss_d, loss_g.detach(), d_real, d_fake]))
            return dict(zip(_GAN_STATS, (stats / len(batches)).tolist()))

        with self._monitor(self.ae_epochs + self.epochs) as monitor:
            ae_hist = self._loop(self.ae_epochs, ae_epoch, monitor, early_stop=False, phase="autoencoder")
            # The autoencoder is frozen from here on: its latents are computed once, in eval mode.
            net.encoder.eval()
            net.decoder.eval()
            with torch.no_grad():
                latents = net.encoder(Xs)
            gan_hist = self._loop(self.epochs, gan_epoch, monitor, self.early_stop, phase="gan")
        self.history_ = ae_hist + gan_hist
        self.n_ae_epochs_ = len(ae_hist)
        self.n_epochs_ = len(gan_hist)


_MODELS = {"ADAN": ADAN, "SeparateADAN": SeparateADAN}


def load_model(path, device: Optional[str] = None):
    """Load an :class:`ADAN` or :class:`SeparateADAN` file written by ``save``, whichever it holds."""
    return _LatentAugmenter.load(path, device=device)


# --------------------------------------------------------------------------------------------
# imblearn samplers
# --------------------------------------------------------------------------------------------


def _model_param_names(model_cls) -> list[str]:
    return [p for p in inspect.signature(model_cls.__init__).parameters if p != "self"]


class _LatentSampler(SyntheticSampler):
    """Fit a latent augmenter on (X, y), then sample ``n_sets × count`` (or ``round(ratio × count)``) per class."""

    _model_cls = ADAN

    def _check_params(self) -> None:
        name = type(self).__name__
        if isinstance(self.n_sets, bool) or not isinstance(self.n_sets, Integral) or self.n_sets < 0:
            raise AdanError(f"{name}: n_sets must be an integer >= 0, got {self.n_sets!r}")
        _check_ratio(name, self.ratio, allow_none=True)
        self._model()._check_params()

    def _model(self):
        return self._model_cls(**{p: getattr(self, p) for p in _model_param_names(self._model_cls)})

    def _generate(self, X, y):
        n_new = synthetic_counts(y, self.n_sets if self.ratio is None else self.ratio)
        self.adan_ = self._model().fit(X, y)
        # A seed of its own for sampling (derived from ``seed``), distinct from the training streams.
        sample_seed = None
        if self.seed is not None:
            sample_seed = int(np.random.SeedSequence([self.seed, 1]).generate_state(1, dtype=np.uint64)[0] >> 1)
        return self.adan_.sample(counts=n_new, seed=sample_seed)


class ADANSampler(_LatentSampler):
    """imblearn sampler: real rows + ADAN samples (``n_sets`` × each class count, paper: 10).

    ``ratio`` (float), when given, replaces ``n_sets``: ``round(ratio × count)`` per class.
    The other parameters are :class:`ADAN`'s. Fitted: ``adan_`` (the trained :class:`ADAN`).
    """

    _model_cls = ADAN

    def __init__(
        self,
        n_sets: int = 10,
        ratio: Optional[float] = None,
        latent_dim: int = 100,
        enc_hidden: Sequence[int] = (800, 800),
        gen_hidden: Sequence[int] = (100, 100),
        disc_hidden: Sequence[int] = (100, 100),
        clf_hidden: Sequence[int] = (100, 100),
        noise_dim: int = 100,
        activation: str = "tanh",
        scaling: str = "znorm",
        d_steps: int = 1,
        g_loss: str = "nonsaturating",
        class_weight=None,
        lr: float = 1e-4,
        lr_d: Optional[float] = None,
        lr_g: Optional[float] = None,
        beta1: float = 0.5,
        eps: float = 1e-5,
        batch_size: int = 128,
        epochs: int = 1500,
        early_stop: bool = True,
        min_epochs: int = 200,
        device: str = "auto",
        seed: Optional[int] = 0,
        log_dir=None,
        progress: bool = False,
    ):
        self.n_sets = n_sets
        self.ratio = ratio
        self.latent_dim = latent_dim
        self.enc_hidden = enc_hidden
        self.gen_hidden = gen_hidden
        self.disc_hidden = disc_hidden
        self.clf_hidden = clf_hidden
        self.noise_dim = noise_dim
        self.activation = activation
        self.scaling = scaling
        self.d_steps = d_steps
        self.g_loss = g_loss
        self.class_weight = class_weight
        self.lr = lr
        self.lr_d = lr_d
        self.lr_g = lr_g
        self.beta1 = beta1
        self.eps = eps
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stop = early_stop
        self.min_epochs = min_epochs
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.progress = progress


class SeparateADANSampler(_LatentSampler):
    """imblearn sampler around :class:`SeparateADAN` (the ablation); interface as :class:`ADANSampler`."""

    _model_cls = SeparateADAN

    def __init__(
        self,
        n_sets: int = 10,
        ratio: Optional[float] = None,
        latent_dim: int = 100,
        enc_hidden: Sequence[int] = (800, 800),
        gen_hidden: Sequence[int] = (100, 100),
        disc_hidden: Sequence[int] = (100, 100),
        noise_dim: int = 100,
        activation: str = "tanh",
        scaling: str = "znorm",
        d_steps: int = 1,
        g_loss: str = "nonsaturating",
        lr: float = 1e-4,
        beta1: float = 0.5,
        eps: float = 1e-5,
        batch_size: int = 128,
        ae_epochs: int = 200,
        epochs: int = 1500,
        early_stop: bool = True,
        min_epochs: int = 200,
        device: str = "auto",
        seed: Optional[int] = 0,
        log_dir=None,
        progress: bool = False,
    ):
        self.n_sets = n_sets
        self.ratio = ratio
        self.latent_dim = latent_dim
        self.enc_hidden = enc_hidden
        self.gen_hidden = gen_hidden
        self.disc_hidden = disc_hidden
        self.noise_dim = noise_dim
        self.activation = activation
        self.scaling = scaling
        self.d_steps = d_steps
        self.g_loss = g_loss
        self.lr = lr
        self.beta1 = beta1
        self.eps = eps
        self.batch_size = batch_size
        self.ae_epochs = ae_epochs
        self.epochs = epochs
        self.early_stop = early_stop
        self.min_epochs = min_epochs
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.progress = progress
