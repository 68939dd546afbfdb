"""What ADAN and its ablation share: scaling, batching, training loop, sampling, persistence.

Shapes: ``X`` is (n_samples, n_features) in feature units (openSMILE functionals), ``y`` (n_samples,)
labels; latents are (n, latent_dim) in (-1, 1) (tanh). Everything the networks see is scaled by
statistics of the training rows; everything returned is back in feature units, full width.
"""

from __future__ import annotations

import contextlib
import os
from numbers import Integral, Real
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from adan_ser import __version__
from adan_ser.augment.generators.base import check_Xy, validate_params
from adan_ser.augment.generators.networks import ADANNetworks
from adan_ser.core.device import resolve_device
from adan_ser.core.errors import AdanError, InputError
from adan_ser.core.live import open_live
from adan_ser.core.scaling import ZScaler

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover
    from sklearn_compat.utils.validation import validate_data

__all__ = ["converged", "FORMAT_VERSION", "EARLY_STOP_TOL", "EARLY_STOP_PATIENCE"]

#: Saved-file format "major.minor"; a file with another major is refused.
FORMAT_VERSION = "1.0"
#: Tag inside every saved file (named after the module that first wrote the format; kept so old files load).
_FORMAT_TAG = "adan_ser.augment.generators.adan"

#: Early stop: |mean D output − 0.5| ≤ tol, for real and generated latents, this many epochs running.
EARLY_STOP_TOL = 0.01
EARLY_STOP_PATIENCE = 3

ACTIVATIONS = ("tanh", "leaky_bn")
SCALINGS = ("znorm", "maxabs")
G_LOSSES = ("nonsaturating", "minimax")

#: Rows per forward pass in sample()/transform(); bounds memory, not results.
_CHUNK = 4096

_SEED = Interval(Integral, 0, None, closed="left")


class _LayerSizes(Options):
    """Parameter constraint: a list or tuple of positive integer layer sizes (may be empty).

    An :class:`~sklearn.utils._param_validation.Options` only because scikit-learn's parameter
    validation accepts no other constraint class; the test is on the elements, not a finite set.
    """

    def __init__(self):
        super().__init__(type=(list, tuple), options=set())

    def is_satisfied_by(self, val):
        return isinstance(val, (list, tuple)) and all(
            isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in val
        )

    def __str__(self):
        return "a list or tuple of positive integer layer sizes"


class _MaxAbsScaler(ZScaler):
    """``scaling="maxabs"`` (the authors' code): centre 0, scale max|x| per feature, so a tanh
    decoder spans the training range. Fitted on non-constant features only, so no scale is 0."""

    def fit(self, X: np.ndarray) -> "_MaxAbsScaler":
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = np.zeros(X.shape[1])
        self.scale_ = np.abs(X).max(axis=0)
        self.varies_ = self.scale_ > 0
        return self


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


class LatentAugmenter(TransformerMixin, BaseEstimator):
    """Base of :class:`~adan_ser.augment.generators.adan.ADAN` and :class:`~adan_ser.augment.generators.adan_separate.SeparateADAN`.

    Subclasses define ``__init__`` (parameters), ``_parameter_constraints`` (this class's plus
    their own) and ``_train(Xs, yi, yi_np)``. Parameter errors → :class:`AdanError` naming the
    parameter; an unfitted model's ``sample``/``transform`` → scikit-learn's ``NotFittedError``.
    A supervised transformer in scikit-learn's terms: ``fit(X, y)``, ``transform(X)`` → latent codes.

    Scaling: features constant in the training rows are dropped from the networks
    (``keep_features_``) and restored in the output (``constant_values_``); the others are mapped
    by ``scaler_`` (a :class:`~adan_ser.core.scaling.ZScaler` for ``scaling="znorm"``, centre 0
    and scale max|x| for ``"maxabs"``).
    """

    _with_classifier = True

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "enc_hidden": [_LayerSizes()],
        "gen_hidden": [_LayerSizes()],
        "disc_hidden": [_LayerSizes()],
        "noise_dim": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "scaling": [StrOptions(set(SCALINGS))],
        "d_steps": [Interval(Integral, 1, None, closed="left")],
        "g_loss": [StrOptions(set(G_LOSSES))],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stop": ["boolean"],
        "min_epochs": [Interval(Integral, 0, None, closed="left")],
        "device": [str],
        "seed": [_SEED, None],
        "log_dir": [str, os.PathLike, None],
        "progress": ["boolean"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.sparse = False
        return tags

    def _validate_params(self) -> None:
        super()._validate_params()
        # The device must also exist here: "cuda" on a machine without one fails now, not mid-run.
        try:
            resolve_device(self.device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"The 'device' parameter of {type(self).__name__} must name an available device. "
                f"Got {self.device!r} instead ({exc})."
            ) from None

    # ---- scaling ---------------------------------------------------------------------------

    def _fit_scaler(self, X: np.ndarray) -> None:
        X = np.asarray(X, dtype=np.float64)
        self.keep_features_ = np.ptp(X, axis=0) > 0
        if not self.keep_features_.any():
            raise AdanError(f"{type(self).__name__}: every feature is constant in the training data")
        self.constant_values_ = X[0, ~self.keep_features_].copy()
        kept = X[:, self.keep_features_]
        self.scaler_ = (ZScaler() if self.scaling == "znorm" else _MaxAbsScaler()).fit(kept)

    def _scale(self, X: np.ndarray) -> torch.Tensor:
        """(n, n_features_in_) feature units → (n, n_kept) float32 tensor on the device."""
        Z = self.scaler_.transform(np.asarray(X, dtype=np.float64)[:, self.keep_features_])
        return torch.from_numpy(Z.astype(np.float32)).to(self.device_)

    def _unscale(self, Z: np.ndarray) -> np.ndarray:
        """(n, n_kept) network units → (n, n_features_in_) float64 feature units, constants restored."""
        out = np.empty((Z.shape[0], self.n_features_in_))
        out[:, self.keep_features_] = self.scaler_.inverse_transform(Z)
        out[:, ~self.keep_features_] = self.constant_values_
        return out

    # ---- fitting ---------------------------------------------------------------------------

    def _seeds(self) -> tuple[int, int, int]:
        """(weight-init, shuffle, noise) seeds derived from ``seed`` (fresh entropy when None)."""
        states = np.random.SeedSequence(self.seed).generate_state(3, dtype=np.uint64).tolist()
        return tuple(int(s >> 1) for s in states)

    def _extra_seeds(self) -> tuple[int, int]:
        """(auxiliary-noise, probe) seeds: the 4th and 5th words of the same seed sequence.

        A seed sequence's words do not depend on how many are drawn, so the three streams of
        :meth:`_seeds` are untouched; the auxiliary stream feeds the optional regularisers
        (dropout masks, input and instance noise, interpolation weights, a second z), the probe
        stream the fixed z of the per-epoch diagnostics. Neither is drawn from unless used.
        """
        states = np.random.SeedSequence(self.seed).generate_state(5, dtype=np.uint64).tolist()
        return int(states[3] >> 1), int(states[4] >> 1)

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
            ae_dropout=getattr(self, "ae_dropout", 0.0),
            c_dropout=getattr(self, "c_dropout", 0.0),
            cond_dim=self._extra_condition_dim(),
        ).to(self.device_)

    def _extra_condition_dim(self) -> int:
        """Inputs of G beyond (z, one-hot y): 0 here; a speaker-style model adds its style's size."""
        return 0

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None):
        """Train on ``X`` (n, d) feature units and ``y`` (n,) labels; returns self.

        ``feature_names`` (d,) sets ``feature_names_in_`` for an array input (a DataFrame's
        columns set it anyway).
        """
        validate_params(self)
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
        live, bar = open_live(self.log_dir, report=None), None
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

    def _loop(self, n_epochs, epoch_fn, monitor: _Monitor, early_stop: bool, phase: Optional[str] = None,
              probe=None, stop=None):
        """Run up to ``n_epochs`` of ``epoch_fn`` (→ dict of epoch means); returns the history.

        ``probe(epoch)`` → dict of extra metrics (or None) logged with that epoch but kept out of the
        history; ``stop(history)`` → bool replaces the D-balance rule :func:`converged`.
        """
        history = []
        for epoch in range(1, n_epochs + 1):
            entry = {"epoch": epoch}
            if phase is not None:
                entry["phase"] = phase
            entry.update(epoch_fn())
            history.append(entry)
            extra = probe(epoch) if probe is not None else None
            monitor.log({**entry, **extra} if extra else entry)
            if early_stop and (converged(history, self.min_epochs) if stop is None else stop(history)):
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
        check_is_fitted(self, "net_")
        idx = self._labels_to_indices(y, counts)
        m = len(idx)
        seed = self._sample_seed(seed, "sample")
        out = np.empty((m, self.n_features_in_))
        self.net_.eval()
        with torch.no_grad():
            for s, g in self._generated(idx, seed):
                x = self.net_.decoder(g)
                out[s:s + len(g)] = self._unscale(x.cpu().numpy().astype(np.float64))
        return out, self.classes_[idx]

    def _sample_seed(self, seed, where: str) -> int:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
        if not _SEED.is_satisfied_by(seed):
            raise AdanError(f"{type(self).__name__}.{where}: seed must be a non-negative integer or None, got {seed!r}")
        return int(seed)

    def _generated(self, idx: np.ndarray, seed: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(start, G(z, y) chunk) over the rows of class indices ``idx``; eval mode, no grad."""
        gen = torch.Generator().manual_seed(int(seed))
        # Drawn on the CPU in one go: identical z for a seed on any device and any chunking.
        z = torch.randn(len(idx), self.noise_dim, generator=gen)
        eye = torch.eye(len(self.classes_))
        onehot = eye[torch.from_numpy(idx)]
        for s in range(0, len(idx), _CHUNK):
            gz = torch.cat([z[s:s + _CHUNK], onehot[s:s + _CHUNK]], dim=1).to(self.device_)
            yield s, self.net_.generator(gz)

    def sample_latent(self, y=None, counts: Optional[dict] = None, seed: Optional[int] = None):
        """The latent codes behind :meth:`sample`: ``(codes (m, latent_dim) float64, y_syn (m,))``.

        Same arguments as :meth:`sample`; the same seed gives the codes that ``sample`` decodes.
        """
        check_is_fitted(self, "net_")
        idx = self._labels_to_indices(y, counts)
        seed = self._sample_seed(seed, "sample_latent")
        out = np.empty((len(idx), self.latent_dim))
        self.net_.eval()
        with torch.no_grad():
            for s, g in self._generated(idx, seed):
                out[s:s + len(g)] = g.cpu().numpy()
        return out, self.classes_[idx]

    def decode(self, codes) -> np.ndarray:
        """``R(codes)``: latent codes (m, latent_dim) → (m, n_features_in_) float64 feature units."""
        check_is_fitted(self, "net_")
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.latent_dim:
            raise AdanError(f"{type(self).__name__}.decode: codes must be (m, {self.latent_dim}), got {codes.shape}")
        self.net_.eval()
        out = np.empty((len(codes), self.n_features_in_))
        with torch.no_grad():
            for s in range(0, len(codes), _CHUNK):
                x = self.net_.decoder(torch.from_numpy(codes[s:s + _CHUNK]).to(self.device_))
                out[s:s + _CHUNK] = self._unscale(x.cpu().numpy().astype(np.float64))
        return out

    def _fitted_input(self, X, what: str) -> np.ndarray:
        """``X`` checked against the fitted model: (n, n_features_in_) float; one-line InputError."""
        check_is_fitted(self, "net_")
        try:
            return validate_data(self, X=X, reset=False, dtype=[np.float64, np.float32])
        except ValueError as exc:
            raise InputError(f"{type(self).__name__}.{what}: {str(exc).strip().splitlines()[0]}") from None

    def reconstruct(self, X) -> np.ndarray:
        """Reconstructions ``R(E(x))``: ``X`` (n, n_features_in_) → (n, n_features_in_) feature units."""
        X = self._fitted_input(X, "reconstruct")
        self.net_.eval()
        out = np.empty((len(X), self.n_features_in_))
        with torch.no_grad():
            for s in range(0, len(X), _CHUNK):
                r = self.net_.decoder(self.net_.encoder(self._scale(X[s:s + _CHUNK])))
                out[s:s + _CHUNK] = self._unscale(r.cpu().numpy().astype(np.float64))
        return out

    def transform(self, X) -> np.ndarray:
        """Latent codes ``E(x)``: ``X`` (n, n_features_in_) feature units → (n, latent_dim) float64."""
        X = self._fitted_input(X, "transform")
        self.net_.eval()
        parts = []
        with torch.no_grad():
            for s in range(0, len(X), _CHUNK):
                parts.append(self.net_.encoder(self._scale(X[s:s + _CHUNK])).cpu().numpy())
        return np.concatenate(parts).astype(np.float64) if parts else np.empty((0, self.latent_dim))

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the fitted model to one file (``torch.save`` of plain containers and tensors)."""
        check_is_fitted(self, "net_")
        from adan_ser.core.io import atomic_path

        payload = {
            "format": _FORMAT_TAG,
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "model": type(self).__name__,
            # where training curves went is not part of the model (and is a temporary folder
            # during the augment stage): kept out so the same model gives the same bytes
            "params": _to_builtin({**self.get_params(), "log_dir": None}),
            "state_dict": {k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
            "keep_features": torch.from_numpy(self.keep_features_.copy()),
            "constant_values": torch.from_numpy(self.constant_values_.copy()),
            "center": torch.from_numpy(np.array(self.scaler_.mean_, dtype=np.float64)),
            "scale": torch.from_numpy(np.array(self.scaler_.scale_, dtype=np.float64)),
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
        model_cls = next((c for c in _model_classes(cls) if c.__name__ == payload["model"]), None)
        if model_cls is None:
            raise AdanError(f"{os.fspath(path)!r} holds a {payload['model']}, not a {cls.__name__}")
        known = model_cls().get_params(deep=False)
        params = {k: v for k, v in payload["params"].items() if k in known}
        if device is not None:
            params["device"] = device
        est = model_cls(**params)
        validate_params(est)
        est.device_ = resolve_device(est.device)
        est.keep_features_ = payload["keep_features"].numpy().astype(bool)
        est.constant_values_ = payload["constant_values"].numpy().astype(np.float64)
        est.scaler_ = ZScaler.from_stats(payload["center"].numpy().astype(np.float64),
                                         payload["scale"].numpy().astype(np.float64))
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


def _model_classes(cls) -> Iterator[type]:
    """``cls`` and every subclass defined so far (a saved file names its class)."""
    yield cls
    for sub in cls.__subclasses__():
        yield from _model_classes(sub)
