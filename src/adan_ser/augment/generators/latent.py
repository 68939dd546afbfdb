"""The estimator every latent augmenter is: fit, sample, encode, decode, save and load.

Its training loop and GAN losses are in :mod:`~adan_ser.augment.generators.training`, the feature
scaling, seed streams and class indices in :mod:`~adan_ser.augment.generators.latent_inputs`, the
saved file in :mod:`~adan_ser.augment.generators.persistence`.

Shapes: ``X`` is (n_samples, n_features) in feature units (openSMILE functionals), ``y`` (n_samples,)
labels; latents are (n, latent_dim) in (-1, 1) (tanh). Everything the networks see is scaled by
statistics of the training rows; everything returned is back in feature units, full width.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from adan_ser.augment.generators.base import SEED, check_Xy, validate_params
from adan_ser.augment.generators.networks import ADANNetworks
from adan_ser.augment.generators.latent_inputs import class_indices, fit_scaling, sampling_seed, training_seeds
from adan_ser.augment.generators.persistence import read_model, write_model
from adan_ser.core.device import resolve_device
from adan_ser.core.errors import InputError
from adan_ser.core.constraints import LayerSizes

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover
    from sklearn_compat.utils.validation import validate_data

__all__ = ["LatentAugmenter", "CHUNK", "ACTIVATIONS", "SCALINGS", "G_LOSSES"]

ACTIVATIONS = ("tanh", "leaky_bn")
SCALINGS = ("znorm", "maxabs")
G_LOSSES = ("nonsaturating", "minimax")

#: Rows per forward pass in sample()/transform(); bounds memory, not results.
CHUNK = 4096


class LatentAugmenter(TransformerMixin, BaseEstimator):
    """Base of the latent-space augmenters (ADAN, its ablation, the AAE, the speaker-style ADAN).

    A supervised transformer in scikit-learn's terms: ``fit(X, y)``; ``transform(X)`` → latent codes
    E(x); ``sample`` → synthetic rows R(G(z, y)); ``reconstruct``, ``decode``, ``sample_latent``;
    ``save`` / ``load``. Subclasses define ``__init__`` (parameters), ``_parameter_constraints``
    (this class's plus their own) and ``_train(Xs, yi, yi_np)``. Parameter errors → one-line
    :class:`~adan_ser.core.errors.InputError` naming the parameter; an unfitted model's
    ``sample``/``transform`` → scikit-learn's ``NotFittedError``.

    Parameters
    ----------
    latent_dim, enc_hidden, gen_hidden, disc_hidden, noise_dim, activation, scaling
        The networks' sizes and shape, and the feature scaling; see
        :class:`~adan_ser.augment.generators.adan.ADAN`, which documents every shared parameter.
    d_steps, g_loss, lr, beta1, eps, batch_size, epochs, early_stop, min_epochs, max_updates
        The training schedule and Adam's settings.
    device, random_state, log_dir, progress
        Where and how reproducibly it trains, and what it reports.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained networks.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    keep_features_ : ndarray of shape (n_features_in_,)
        False for the features constant in the training rows, which the networks do not see.
    constant_values_ : ndarray of shape (n_constant,)
        Their values, restored in every output.
    scaler_ : ZScaler
        Maps the other features to network units (z-norm, or centre 0 and scale max|x|).
    history_ : list of dict
        One dict per epoch.
    n_epochs_ : int
        Epochs trained.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when given.

    Examples
    --------
    >>> import numpy as np
    >>> from adan_ser.augment.generators.adan import ADAN
    >>> X, y = np.random.default_rng(0).normal(size=(20, 3)), np.repeat(["angry", "sad"], 10)
    >>> model = ADAN(latent_dim=2, noise_dim=2, enc_hidden=(4,), gen_hidden=(4,), disc_hidden=(4,),
    ...              clf_hidden=(4,), epochs=1, early_stop=False, device="cpu").fit(X, y)
    >>> isinstance(model, LatentAugmenter), model.reconstruct(X).shape, model.decode(np.zeros((2, 2))).shape
    (True, (20, 3), (2, 3))
    """

    _with_classifier = True

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "enc_hidden": [LayerSizes()],
        "gen_hidden": [LayerSizes()],
        "disc_hidden": [LayerSizes()],
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
        "max_updates": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "random_state": [SEED, None],
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
        self.keep_features_, self.constant_values_, self.scaler_ = fit_scaling(X, self.scaling, type(self).__name__)

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
                raise InputError(
                    f"{type(self).__name__}: {len(names)} feature_names for {X.shape[1]} features"
                )
            self.feature_names_in_ = names
        self.device_ = resolve_device(self.device)
        self.classes_, yi = np.unique(y, return_inverse=True)
        self._fit_scaler(X)
        init_seed, shuffle_seed, noise_seed = training_seeds(self.random_state)
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

    def _epoch_budget(self, n: int, epochs: int) -> int:
        """``epochs`` on ``n`` rows, cut to ceil(``max_updates`` / batches per epoch) when set."""
        if self.max_updates is None:  # an epoch costs O(n): a cap bounds a fit on a large corpus
            return epochs
        return min(epochs, -(-self.max_updates // self._n_batches(n)))  # ≥ 1 unless epochs is 0

    def _batches(self, n: int) -> tuple[torch.Tensor, ...]:
        perm = torch.randperm(n, generator=self._shuffle_gen).to(self.device_)
        return perm.tensor_split(self._n_batches(n))

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.noise_dim, generator=self._noise_gen, device=self.device_)

    # ---- using a fitted model ----------------------------------------------------------------

    def sample(self, y=None, counts: Optional[dict] = None, seed: Optional[int] = None):
        """Synthetic feature vectors ``R(G(z, y))``: ``(X_syn (m, n_features_in_) float64, y_syn (m,))``.

        ``y``: labels (m,) to generate, in that order; or ``counts``: {label: n}, generated in
        ``classes_`` order. ``seed`` seeds a generator of its own, so the same seed gives the same
        samples whatever happened before; None draws fresh entropy.
        """
        check_is_fitted(self, "net_")
        idx = class_indices(self.classes_, y, counts, type(self).__name__)
        m = len(idx)
        seed = sampling_seed(seed, f"{type(self).__name__}.sample")
        out = np.empty((m, self.n_features_in_))
        self.net_.eval()
        with torch.no_grad():
            for s, g in self._generated(idx, seed):
                x = self.net_.decoder(g)
                out[s:s + len(g)] = self._unscale(x.cpu().numpy().astype(np.float64))
        return out, self.classes_[idx]

    def _generated(self, idx: np.ndarray, seed: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(start, G(z, y) chunk) over the rows of class indices ``idx``; eval mode, no grad."""
        gen = torch.Generator().manual_seed(int(seed))
        # Drawn on the CPU in one go: identical z for a seed on any device and any chunking.
        z = torch.randn(len(idx), self.noise_dim, generator=gen)
        eye = torch.eye(len(self.classes_))
        onehot = eye[torch.from_numpy(idx)]
        for s in range(0, len(idx), CHUNK):
            gz = torch.cat([z[s:s + CHUNK], onehot[s:s + CHUNK]], dim=1).to(self.device_)
            yield s, self.net_.generator(gz)

    def sample_latent(self, y=None, counts: Optional[dict] = None, seed: Optional[int] = None):
        """The latent codes behind :meth:`sample`: ``(codes (m, latent_dim) float64, y_syn (m,))``.

        Same arguments as :meth:`sample`; the same seed gives the codes that ``sample`` decodes.
        """
        check_is_fitted(self, "net_")
        idx = class_indices(self.classes_, y, counts, type(self).__name__)
        seed = sampling_seed(seed, f"{type(self).__name__}.sample_latent")
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
            raise InputError(f"{type(self).__name__}.decode: codes must be (m, {self.latent_dim}), got {codes.shape}")
        self.net_.eval()
        out = np.empty((len(codes), self.n_features_in_))
        with torch.no_grad():
            for s in range(0, len(codes), CHUNK):
                x = self.net_.decoder(torch.from_numpy(codes[s:s + CHUNK]).to(self.device_))
                out[s:s + CHUNK] = self._unscale(x.cpu().numpy().astype(np.float64))
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
            for s in range(0, len(X), CHUNK):
                r = self.net_.decoder(self.net_.encoder(self._scale(X[s:s + CHUNK])))
                out[s:s + CHUNK] = self._unscale(r.cpu().numpy().astype(np.float64))
        return out

    def transform(self, X) -> np.ndarray:
        """Latent codes ``E(x)``: ``X`` (n, n_features_in_) feature units → (n, latent_dim) float64."""
        X = self._fitted_input(X, "transform")
        self.net_.eval()
        parts = []
        with torch.no_grad():
            for s in range(0, len(X), CHUNK):
                parts.append(self.net_.encoder(self._scale(X[s:s + CHUNK])).cpu().numpy())
        return np.concatenate(parts).astype(np.float64) if parts else np.empty((0, self.latent_dim))

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the fitted model to one file (``torch.save`` of plain containers and tensors)."""
        check_is_fitted(self, "net_")
        write_model(self, path)

    def _extra_state(self) -> dict:
        return {}

    def _load_extra_state(self, extra: dict) -> None:
        pass

    @classmethod
    def load(cls, path, device: Optional[str] = None):
        """Read a file written by :meth:`save`; ``device`` overrides the saved ``device`` param."""
        return read_model(cls, path, device)
