"""ADAN: the Adversarial Data Augmentation Network of Yi & Mak, jointly trained (the paper's eqs. 1–6).

ADAN learns a latent space (encoder E, decoder R) shaped by an auxiliary emotion classifier C, and
a conditional generator G whose latents a discriminator D cannot tell from E's. Synthetic feature
vectors are ``R(G(z, y))``, ``z ~ N(0, I)``. Shapes and units: see :mod:`adan_ser.augment.latent`.
"""

from __future__ import annotations

from numbers import Real
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.latent import LatentAugmenter, _adam, _LayerSizes
from adan_ser.core.class_weights import class_weights

__all__ = ["ADAN"]

#: Order of the per-batch statistics accumulated during an ADAN epoch.
_ADAN_STATS = ("loss_d", "loss_c", "loss_g_ce", "loss_g_adv", "loss_r", "d_real", "d_fake")


class ADAN(LatentAugmenter):
    """Adversarial Data Augmentation Network (Yi & Mak), jointly trained.

    Losses per mini-batch (x, y), z ~ N(0, I_noise_dim):

    * D: L_D = ½[−log D(E(x)) − log(1 − D(G(z, y)))]
    * E, R, C: L_R = mean‖x − R(E(x))‖² (over batch and features), L_C = CE(C(E(x)), y);
      E learns from L_R + L_C (never from D), R from L_R, C from L_C
    * G: L_G = −log D(G(z, y)) + CE(C(G(z, y)), y) (``g_loss="nonsaturating"``, paper eq. 6) or
      log(1 − D(G(z, y))) + CE (``"minimax"``, eq. 5), with D and C frozen.

    ``class_weight="balanced"`` multiplies each CE term by ``max(count) / count[y]`` (mean over
    the batch, as the authors' code); a dict maps label → weight (others 1); see
    :func:`adan_ser.core.class_weights.class_weights`.

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
    ``n_epochs_``, ``class_weight_`` ((n_classes,) CE weights, None when unweighted),
    ``keep_features_``/``constant_values_`` (constant training features, dropped from the networks
    and restored in the output), ``scaler_`` (see :class:`~adan_ser.augment.latent.LatentAugmenter`).
    """

    _parameter_constraints: dict = {
        **LatentAugmenter._parameter_constraints,
        "clf_hidden": [_LayerSizes()],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "lr_d": [Interval(Real, 0, None, closed="neither"), None],
        "lr_g": [Interval(Real, 0, None, closed="neither"), None],
    }

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
        self.class_weight_ = class_weights(self.class_weight, yi_np, self.classes_, type(self).__name__)
        weighted = self.class_weight_ is not None
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
