"""The paper's ablation of ADAN: an autoencoder trained alone, then a conditional GAN on its frozen latents.

Same building blocks, scaling, sampling and persistence as :class:`~adan_ser.augment.generators.adan.ADAN`
(see :mod:`adan_ser.augment.generators.latent`), but no auxiliary classifier.
"""

from __future__ import annotations

from numbers import Integral
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from adan_ser.augment.generators.latent import LatentAugmenter
from adan_ser.augment.generators.training import (d_steps, gan_d_loss, gan_g_adv, model_adam, open_monitor,
                                                  run_epochs)

__all__ = ["SeparateADAN"]

#: Order of the per-batch statistics accumulated during a GAN-phase epoch.
_GAN_STATS = ("loss_d", "loss_g_adv", "d_real", "d_fake")


class SeparateADAN(LatentAugmenter):
    """The paper's ablation: E/R trained alone, then a vanilla conditional GAN on frozen latents.

    Phase 1 (``ae_epochs`` epochs): E and R on L_R = mean‖x − R(E(x))‖² only. Phase 2 (up to
    ``epochs``, early stop as :class:`~adan_ser.augment.generators.adan.ADAN`): G(z, y) against D on
    the fixed latents E(x), no auxiliary classifier; L_D as ADAN, G's loss is the adversarial term
    alone. Sampling is ``R(G(z, y))`` as in ADAN. Same building blocks, scaling, sampling and
    persistence as ADAN.

    Parameters
    ----------
    latent_dim, enc_hidden, gen_hidden, disc_hidden, noise_dim, activation, scaling, d_steps, g_loss
        As :class:`~adan_ser.augment.generators.adan.ADAN`.
    lr, beta1, eps, batch_size
        Adam's settings (one rate for every network) and rows per batch, as ADAN's.
    ae_epochs : int, default=200
        Epochs of phase 1 (≥ 0).
    epochs, early_stop, min_epochs
        Most GAN epochs (default 1500) and the D-balance early stop, as ADAN's.
    max_updates : int or None, default=None
        Cap on the optimiser steps (batches) of each phase, as ADAN's.
    device, random_state, log_dir, progress
        As ADAN's.

    Attributes
    ----------
    net_ : ADANNetworks
        The trained E, R, G and D (no C).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : list of dict
        Phase-1 entries (``phase="autoencoder"``: epoch, loss_r), then phase-2 entries
        (``phase="gan"``: epoch, loss_d, loss_g_adv, d_real, d_fake), epochs counted per phase.
    n_epochs_ : int
        GAN epochs trained.
    n_ae_epochs_ : int
        Autoencoder epochs trained.
    keep_features_, constant_values_, scaler_, n_features_in_, feature_names_in_
        As :class:`~adan_ser.augment.generators.latent.LatentAugmenter`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,), device="cpu")
    >>> model = SeparateADAN(ae_epochs=1, epochs=2, early_stop=False, **small).fit(X, y)
    >>> model.sample(y=["sad", "angry"], seed=0)[0].shape, model.n_ae_epochs_, model.n_epochs_
    ((2, 6), 1, 2)
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
        max_updates: Optional[int] = None,
        device: str = "auto",
        random_state: Optional[int] = 0,
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
        self.max_updates = max_updates
        self.device = device
        self.random_state = random_state
        self.log_dir = log_dir
        self.progress = progress

    _parameter_constraints: dict = {
        **LatentAugmenter._parameter_constraints,
        "ae_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def _extra_state(self) -> dict:
        return {"n_ae_epochs": int(self.n_ae_epochs_)}

    def _load_extra_state(self, extra: dict) -> None:
        self.n_ae_epochs_ = int(extra.get("n_ae_epochs", 0))

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        net = self.net_
        n = Xs.shape[0]
        onehot = torch.eye(len(self.classes_), device=self.device_)[yi]
        opt_ae = model_adam(self, [*net.encoder.parameters(), *net.decoder.parameters()])
        opt_d = model_adam(self, net.discriminator.parameters())
        opt_g = model_adam(self, net.generator.parameters())

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

        def d_loss(h, g):
            return gan_d_loss(net.discriminator, h, g)

        latents = None
        stats = torch.zeros(len(_GAN_STATS), device=self.device_)

        def gan_epoch():
            stats.zero_()
            batches = self._batches(n)
            for idx in batches:
                g = net.generator(torch.cat([self._noise(len(idx)), onehot[idx]], dim=1))
                loss_d, d_real, d_fake = d_steps(d_loss, latents[idx], g.detach(), opt_d, self.d_steps)
                loss_g = gan_g_adv(net.discriminator, g, self.g_loss)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                stats.add_(torch.stack([loss_d, loss_g.detach(), d_real, d_fake]))
            return dict(zip(_GAN_STATS, (stats / len(batches)).tolist()))

        ae_epochs = self._epoch_budget(len(Xs), self.ae_epochs)
        gan_epochs = self._epoch_budget(len(Xs), self.epochs)
        with open_monitor(self.log_dir, self.progress, ae_epochs + gan_epochs, type(self).__name__) as monitor:
            ae_hist = run_epochs(ae_epochs, ae_epoch, monitor, early_stop=False, phase="autoencoder")
            # The autoencoder is frozen from here on: its latents are computed once, in eval mode.
            net.encoder.eval()
            net.decoder.eval()
            with torch.no_grad():
                latents = net.encoder(Xs)
            gan_hist = run_epochs(gan_epochs, gan_epoch, monitor, self.early_stop, self.min_epochs, phase="gan")
        self.history_ = ae_hist + gan_hist
        self.n_ae_epochs_ = len(ae_hist)
        self.n_epochs_ = len(gan_hist)
