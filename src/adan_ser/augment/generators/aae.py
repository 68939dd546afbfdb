"""The adversarial autoencoder of Sahu et al. (Interspeech 2017), method ``aae``.

Sahu et al., "Adversarial auto-encoders for speech based emotion recognition", use the supervised
adversarial autoencoder of Makhzani et al. (2016, section "incorporating label information"): an
autoencoder whose code distribution is matched, class by class, to a chosen prior by a
discriminator that sees the code and the label. New feature vectors are decoded prior samples
``R(z)``, ``z ~ p(z | y)``.

Same scaling, seeding, batching, monitor, sampling and persistence as ADAN
(:mod:`adan_ser.augment.generators.latent`). Unlike ADAN's, the codes are unbounded (a linear encoder output,
as in Makhzani et al.), since they must match a Gaussian prior. Shapes: ``X`` (n, d) feature units,
codes (n, latent_dim).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from adan_ser.augment.generators.latent import CHUNK, LatentAugmenter
from adan_ser.augment.generators.networks import MLP
from adan_ser.augment.generators.training import (d_steps, gan_d_loss, gan_g_adv, model_adam, open_monitor,
                                                  run_epochs)

__all__ = ["AAE", "prior_means"]

#: Order of the per-batch statistics accumulated during an epoch (the keys of a ``history_`` entry).
_AAE_STATS = ("loss_r", "loss_d", "loss_e_adv", "d_real", "d_fake")

#: The shared parameters the AAE takes (the rest of the base's concern the generator or early stop).
_SHARED = ("latent_dim", "enc_hidden", "disc_hidden", "activation", "scaling", "d_steps", "g_loss", "lr",
           "beta1", "eps", "batch_size", "epochs", "device", "random_state", "log_dir", "progress")


def prior_means(n_classes: int, latent_dim: int, radius: float) -> np.ndarray:
    """The class means of the prior, (n_classes, latent_dim) float64; a function of its arguments alone.

    * ``latent_dim >= n_classes``: ``mu_y = radius · e_y``, the y-th axis (pairwise distance radius·√2);
    * ``2 <= latent_dim < n_classes``: evenly spaced on the circle of ``radius`` in the first two
      axes, ``mu_y = radius · (cos 2πy/K, sin 2πy/K, 0, …)`` (Makhzani et al.'s 2-D layout; distance
      2·radius·sin(π/K));
    * ``latent_dim == 1``: evenly spaced on [−radius, radius] (distance 2·radius/(K − 1)).

    Class y is the y-th of the sorted labels (``classes_``).
    """
    K, d, r = int(n_classes), int(latent_dim), float(radius)
    means = np.zeros((K, d))
    if d >= K:
        means[np.arange(K), np.arange(K)] = r
    elif d >= 2:
        angle = 2.0 * math.pi * np.arange(K) / K
        means[:, 0], means[:, 1] = r * np.cos(angle), r * np.sin(angle)
    else:
        means[:, 0] = np.linspace(-r, r, K)
    return means


class _AAENetworks(nn.Module):
    """The three AAE parts, from :class:`~adan_ser.augment.generators.networks.MLP` blocks:

    * ``encoder`` E: (n, n_features) → (n, latent_dim), linear output (codes are unbounded)
    * ``decoder`` R: (n, latent_dim) → (n, n_features), linear (z-norm) or tanh (max-abs) output;
      hidden layers mirror E's
    * ``discriminator`` D: (n, latent_dim + n_classes) → (n, 1) logit of "drawn from the prior";
      its input is the code followed by the one-hot label

    ``prior_means`` (n_classes, latent_dim) is a buffer, so it travels with the saved weights.
    """

    def __init__(self, n_features, n_classes, latent_dim, enc_hidden, disc_hidden, activation,
                 linear_decoder, generator, means):
        super().__init__()
        bn = activation == "leaky_bn"
        # Construction order fixes the draw order from ``generator``, hence the initial weights.
        self.encoder = MLP(n_features, enc_hidden, latent_dim, activation, bn, None, generator)
        self.decoder = MLP(latent_dim, tuple(reversed(tuple(enc_hidden))), n_features, activation, bn,
                           None if linear_decoder else "tanh", generator)
        self.discriminator = MLP(latent_dim + n_classes, disc_hidden, 1, activation, False, None, generator)
        self.register_buffer("prior_means", torch.as_tensor(means, dtype=torch.float32))


class AAE(LatentAugmenter):
    """Supervised adversarial autoencoder (Makhzani et al. 2016; Sahu et al. 2017 for emotion).

    Prior: ``p(z | y) = N(mu_y, prior_std² I)``, ``mu_y`` from :func:`prior_means` (``prior_radius``
    · the y-th axis when ``latent_dim >= n_classes``). Per mini-batch (x, y), as Makhzani et al.:

    1. reconstruction: E and R on L_R = mean‖x − R(E(x))‖² (over batch and features);
    2. regularisation: ``d_steps`` updates of D on L_D = ½[−log D(z, y) − log(1 − D(E(x), y))],
       z ~ p(z | y) one per row with that row's label (real) against the codes of the batch (fake);
       then E alone on −log D(E(x), y) (``g_loss="nonsaturating"``) or log(1 − D(E(x), y))
       (``"minimax"``) through a frozen D.

    A fixed number of ``epochs`` (no early stop). ``sample`` decodes ``z ~ p(z | y)``;
    ``sample_latent`` gives those z; ``transform`` gives E(x).

    Defaults differ from ADAN's in ``lr`` (1e-3, not 1e-4) and D's size (2 × 500, Makhzani et al.
    use 2 × 1000): with ADAN's settings, 150 epochs on 480 rows of 384 separable features left the
    codes ~12 latent units from their class means and the samples at chance class.

    Parameters
    ----------
    latent_dim, enc_hidden, activation, scaling, d_steps, g_loss
        As :class:`~adan_ser.augment.generators.adan.ADAN` (codes here are unbounded).
    disc_hidden : sequence of int, default=(500, 500)
        Hidden layer sizes of D, which sees the code and the one-hot label.
    prior_std : float, default=1.0
        Standard deviation of each class's prior (> 0).
    prior_radius : float, default=5.0
        Distance of the class means from the origin (≥ 0).
    lr : float, default=1e-3
        Adam's learning rate of every network.
    beta1, eps, batch_size, device, random_state, log_dir, progress
        As ADAN's.
    epochs : int, default=150
        Epochs trained.
    max_updates : int or None, default=None
        Cap on the optimiser steps (batches), as ADAN's.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained E, R and D; its buffer ``prior_means`` travels with the weights.
    prior_means_ : ndarray of shape (n_classes, latent_dim)
        The class means of the prior.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : list of dict
        One entry per epoch: epoch, loss_r, loss_d, loss_e_adv, d_real (mean D on prior samples),
        d_fake (on codes); epoch means.
    n_epochs_ : int
        Epochs trained.
    keep_features_, constant_values_, scaler_, n_features_in_, feature_names_in_
        As :class:`~adan_ser.augment.generators.latent.LatentAugmenter`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> model = AAE(latent_dim=3, enc_hidden=(8,), disc_hidden=(8,), epochs=2, device="cpu").fit(X, y)
    >>> codes, labels = model.sample_latent(counts={"angry": 2, "sad": 1}, seed=0)
    >>> codes.shape, labels.tolist(), model.prior_means_.shape
    ((3, 3), ['angry', 'angry', 'sad'], (2, 3))
    """

    _with_classifier = False

    def __init__(
        self,
        latent_dim: int = 100,
        enc_hidden: Sequence[int] = (800, 800),
        disc_hidden: Sequence[int] = (500, 500),
        activation: str = "tanh",
        scaling: str = "znorm",
        prior_std: float = 1.0,
        prior_radius: float = 5.0,
        d_steps: int = 1,
        g_loss: str = "nonsaturating",
        lr: float = 1e-3,
        beta1: float = 0.5,
        eps: float = 1e-5,
        batch_size: int = 128,
        epochs: int = 150,
        max_updates: Optional[int] = None,
        device: str = "auto",
        random_state: Optional[int] = 0,
        log_dir=None,
        progress: bool = False,
    ):
        self.latent_dim = latent_dim
        self.enc_hidden = enc_hidden
        self.disc_hidden = disc_hidden
        self.activation = activation
        self.scaling = scaling
        self.prior_std = prior_std
        self.prior_radius = prior_radius
        self.d_steps = d_steps
        self.g_loss = g_loss
        self.lr = lr
        self.beta1 = beta1
        self.eps = eps
        self.batch_size = batch_size
        self.epochs = epochs
        self.max_updates = max_updates
        self.device = device
        self.random_state = random_state
        self.log_dir = log_dir
        self.progress = progress

    _parameter_constraints: dict = {
        **{k: v for k, v in LatentAugmenter._parameter_constraints.items() if k in _SHARED},
        "prior_std": [Interval(Real, 0, None, closed="neither")],
        "prior_radius": [Interval(Real, 0, None, closed="left")],
    }

    # ---- hooks of the latent base -----------------------------------------------------------

    def _build(self, n_kept: int, n_classes: int, init_seed: int) -> None:
        self.prior_means_ = prior_means(n_classes, self.latent_dim, self.prior_radius)
        self.net_ = _AAENetworks(
            n_features=n_kept,
            n_classes=n_classes,
            latent_dim=self.latent_dim,
            enc_hidden=self.enc_hidden,
            disc_hidden=self.disc_hidden,
            activation=self.activation,
            linear_decoder=self.scaling == "znorm",
            generator=torch.Generator().manual_seed(init_seed),
            means=self.prior_means_,
        ).to(self.device_)

    def _prior_noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=self._noise_gen, device=self.device_)

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        net = self.net_
        n = Xs.shape[0]
        onehot = torch.eye(len(self.classes_), device=self.device_)[yi]
        means = net.prior_means[yi]  # (n, latent_dim): each row's class mean
        opt_ae = model_adam(self, [*net.encoder.parameters(), *net.decoder.parameters()])
        opt_d = model_adam(self, net.discriminator.parameters())
        opt_e = model_adam(self, net.encoder.parameters())
        stats = torch.zeros(len(_AAE_STATS), device=self.device_)

        def d_loss(real, fake):
            return gan_d_loss(net.discriminator, real, fake)

        def epoch():
            stats.zero_()
            batches = self._batches(n)
            for idx in batches:
                xb, cb = Xs[idx], onehot[idx]
                # (1) reconstruction phase: E and R
                loss_r = F.mse_loss(net.decoder(net.encoder(xb)), xb)
                opt_ae.zero_grad(set_to_none=True)
                loss_r.backward()
                opt_ae.step()
                # (2) regularisation phase: D tells prior samples (real) from codes (fake), both with
                # their labels; then E, through a frozen D, makes its codes look like prior samples.
                h = net.encoder(xb)
                z = means[idx] + self.prior_std * self._prior_noise(len(idx))
                loss_d, d_real, d_fake = d_steps(d_loss, torch.cat([z, cb], 1), torch.cat([h.detach(), cb], 1), opt_d,
                                                 self.d_steps)
                loss_e = gan_g_adv(net.discriminator, torch.cat([h, cb], 1), self.g_loss)
                opt_e.zero_grad(set_to_none=True)
                loss_e.backward()
                opt_e.step()
                stats.add_(torch.stack([loss_r.detach(), loss_d, loss_e.detach(), d_real, d_fake]))
            return dict(zip(_AAE_STATS, (stats / len(batches)).tolist()))

        n_epochs = self._epoch_budget(len(Xs), self.epochs)
        with open_monitor(self.log_dir, self.progress, n_epochs, type(self).__name__) as monitor:
            self.history_ = run_epochs(n_epochs, epoch, monitor, early_stop=False)
        self.n_epochs_ = len(self.history_)

    def _generated(self, idx: np.ndarray, seed: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(start, chunk of z ~ p(z | y)) over the rows of class indices ``idx``; what ``sample``
        decodes and ``sample_latent`` returns."""
        gen = torch.Generator().manual_seed(int(seed))
        # Drawn on the CPU in one go: identical z for a seed on any device and any chunking.
        noise = torch.randn(len(idx), self.latent_dim, generator=gen)
        z = self.net_.prior_means.cpu()[torch.from_numpy(idx)] + float(self.prior_std) * noise
        for s in range(0, len(idx), CHUNK):
            yield s, z[s:s + CHUNK].to(self.device_)
