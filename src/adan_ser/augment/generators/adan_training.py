"""One fit of an :class:`~adan_ser.augment.generators.adan.ADAN`: its losses, optimisers, auxiliary
random stream, per-epoch probes and the joint training loop (the paper's eqs. 1–6 and the remedies).

Shapes: ``xb`` (b, n_kept) scaled features, ``yb`` (b,) class indices, ``wb`` (b,) CE weights or None,
``h = E(xb)`` and ``g = G(z, y)`` (b, latent_dim).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from adan_ser.augment.generators.latent import CHUNK
from adan_ser.augment.generators.training import (d_steps, gan_d_loss, gan_g_adv, model_adam, open_monitor,
                                                  run_epochs)
from adan_ser.core.class_weights import class_weights
from adan_ser.core.torch_maths import sqrt_positive

__all__ = ["ADANTrainer", "cross_entropy"]

#: Order of the per-batch statistics accumulated during an ADAN epoch.
_ADAN_STATS = ("loss_d", "loss_c", "loss_g_ce", "loss_g_adv", "loss_r", "d_real", "d_fake")


def cross_entropy(logits: torch.Tensor, yb: torch.Tensor, wb: Optional[torch.Tensor],
                  smoothing: float = 0.0) -> torch.Tensor:
    """Mean CE of ``logits`` (b, k) against ``yb`` (b,), each row weighted by ``wb`` (b,) when given."""
    kw = {"label_smoothing": smoothing} if smoothing > 0 else {}
    if wb is None:
        return F.cross_entropy(logits, yb, **kw)
    return (F.cross_entropy(logits, yb, reduction="none", **kw) * wb).mean()


class ADANTrainer:
    """The training of ``model`` (an ADAN with ``net_`` built) on one training set.

    ``aux_seed`` seeds :attr:`aux_gen`, the stream of the optional regularisers (dropout masks,
    input and instance noise, interpolation weights, a second z); ``gp_sum`` accumulates the
    gradient penalty of a batch's D steps (Wasserstein critic only).
    """

    def __init__(self, model, aux_seed: int):
        self.model = model
        self.net = model.net_
        self.aux_gen = torch.Generator(device=model.device_).manual_seed(aux_seed)
        self.gp_sum = None
        self.probe_state = None

    # ---- losses ----------------------------------------------------------------------------

    def losses(self, xb, yb, wb, h, g):
        """The main step's losses for one batch: (L_R, L_C, G's adversarial term, G's CE term).

        ``h`` and ``g`` carry their graphs. Only E, R, C receive gradients from the first two, only
        G from the last two.
        """
        net = self.net
        loss_r = F.mse_loss(net.decoder(h), xb)
        loss_c = cross_entropy(net.classifier(h), yb, wb, self.model.c_label_smoothing)
        loss_g_adv = self.g_adv(g)
        loss_g_ce = cross_entropy(net.classifier(g, frozen=True), yb, wb)
        return loss_r, loss_c, loss_g_adv, loss_g_ce

    def instance_noise(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` plus Gaussian noise of std ``instance_noise`` (``t`` itself when 0)."""
        if self.model.instance_noise == 0:
            return t
        return t + self.model.instance_noise * torch.randn(t.shape, generator=self.aux_gen, device=t.device)

    def d_loss(self, h: torch.Tensor, g: torch.Tensor):
        """D's loss on detached ``h`` and ``g``: (loss, mean D(h), mean D(g)); the critic's means and
        loss with gradient penalty for ``adversarial="wasserstein"``."""
        m = self.model
        disc = self.net.discriminator
        if m.adversarial == "gan" and m.instance_noise == 0 and m.d_label_smoothing == 0:
            return gan_d_loss(disc, h, g)
        h, g = self.instance_noise(h), self.instance_noise(g)
        if m.adversarial == "gan":
            logits = disc(torch.cat([h, g])).squeeze(1)
            real, fake = logits[: len(h)], logits[len(h):]
            s = m.d_label_smoothing
            # BCE against target 1 − s for real codes: (1 − s)·softplus(−l) + s·softplus(l).
            loss_real = F.softplus(-real).mean() if s == 0 else (1 - s) * F.softplus(-real).mean() + s * F.softplus(real).mean()
            loss = 0.5 * (loss_real + F.softplus(fake).mean())
            with torch.no_grad():
                return loss, torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()
        out = disc(torch.cat([h, g])).squeeze(1)
        real, fake = out[: len(h)], out[len(h):]
        weight = torch.rand(len(h), 1, generator=self.aux_gen, device=h.device)
        x_hat = (h + weight * (g - h)).requires_grad_(True)
        grad, = torch.autograd.grad(disc(x_hat).sum(), x_hat, create_graph=True)
        penalty = grad.pow(2).sum(dim=1).pow(m.gp_power / 2).mean()
        loss = real.mean() - fake.mean() + m.gp_weight * penalty
        self.gp_sum = self.gp_sum + penalty.detach()
        return loss, real.mean().detach(), fake.mean().detach()

    def g_adv(self, g: torch.Tensor) -> torch.Tensor:
        """G's adversarial term through a frozen D (the critic's mean for a Wasserstein D)."""
        if self.model.adversarial == "gan":
            return gan_g_adv(self.net.discriminator, self.instance_noise(g), self.model.g_loss)
        return self.net.discriminator(self.instance_noise(g), frozen=True).mean()

    def diversity(self, g: torch.Tensor, z: torch.Tensor, onehot_b: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The diversity term (to minimise) for G's batch ``g`` = G(``z``, y), ``onehot_b`` (b, k), ``h`` = E(x)."""
        if self.model.diversity == "mode_seeking":
            z2 = self.noise_aux(z.shape)
            g2 = self.net.generator(torch.cat([z2, onehot_b], dim=1))
            ratio = (g - g2).norm(dim=1) / ((z - z2).norm(dim=1) + 1e-8)
            return -ratio.mean()
        counts = onehot_b.sum(dim=0)
        present = counts >= 2
        denom = counts.clamp(min=1.0)[:, None]
        h = h.detach()

        def moments(t):
            mean = onehot_b.T @ t / denom
            var = (onehot_b.T @ (t * t) / denom - mean * mean).clamp(min=0.0)
            return mean, sqrt_positive(var + 1e-8)

        (mg, sg), (mh, sh) = moments(g), moments(h)
        per_class = ((mg - mh) ** 2).mean(dim=1) + ((sg - sh) ** 2).mean(dim=1)
        return per_class[present].mean() if bool(present.any()) else g.sum() * 0.0

    def noise_aux(self, shape) -> torch.Tensor:
        """Standard normal noise of ``shape`` from the auxiliary stream."""
        return torch.randn(tuple(shape), generator=self.aux_gen, device=self.model.device_)

    # ---- schedule --------------------------------------------------------------------------

    def optimizers(self):
        """(D's Adam, one Adam over E, R, C and G with G at ``lr_g`` and the weight decays)."""
        m, net = self.model, self.net
        lr_d = m.lr if m.lr_d is None else m.lr_d
        lr_g = m.lr if m.lr_g is None else m.lr_g
        opt_d = model_adam(m, net.discriminator.parameters(), lr_d)
        # Param groups keep one fused Adam (one kernel per step) while G may learn at its own rate.
        if m.ae_weight_decay == 0 and m.c_weight_decay == 0:
            main = [{"params": [p for part in (net.encoder, net.decoder, net.classifier) for p in part.parameters()]}]
        else:
            main = [
                {"params": [p for part in (net.encoder, net.decoder) for p in part.parameters()],
                 "weight_decay": m.ae_weight_decay},
                {"params": list(net.classifier.parameters()), "weight_decay": m.c_weight_decay},
            ]
        main.append({"params": list(net.generator.parameters()), "lr": lr_g})
        opt_main = model_adam(m, main)
        return opt_d, opt_main

    def g_class_factor(self, epoch: int) -> float:
        """The weight of G's CE term in ``epoch`` (0 after ``g_class_warmup``)."""
        m = self.model
        if m.g_class_warmup is not None and epoch > m.g_class_warmup:
            return 0.0
        return float(m.g_class_weight)

    def probe_fn(self, Xs: torch.Tensor, yi_np: np.ndarray, onehot: torch.Tensor, probe_seed: int):
        """The per-epoch diagnostics callback of :func:`run_epochs` (None when ``diagnostics_every`` is 0)."""
        m = self.model
        if m.diagnostics_every == 0:
            return None
        from adan_ser.augment.measures.diagnostics import latent_measures

        net = self.net
        gen = torch.Generator().manual_seed(probe_seed)
        probe_z = torch.randn(len(yi_np), m.noise_dim, generator=gen).to(m.device_)
        state = {"score": -math.inf, "since": 0, "best": None}

        def probe(epoch):
            if epoch % m.diagnostics_every:
                return None
            # G's condition is read at each check: a speaker-style model updates it in place every epoch
            probe_in = torch.cat([probe_z, onehot], 1)
            net.eval()
            try:
                with torch.no_grad():
                    H = torch.cat([net.encoder(Xs[s:s + CHUNK]) for s in range(0, len(Xs), CHUNK)])
                    G = torch.cat([net.generator(probe_in[s:s + CHUNK]) for s in range(0, len(Xs), CHUNK)])
            finally:
                net.train()
            H, G = H.cpu().numpy().astype(np.float64), G.cpu().numpy().astype(np.float64)
            measures = latent_measures(H, yi_np, G, yi_np)
            m.diagnostics_.append({"epoch": epoch, **measures})
            if m.stop == "diversity" and epoch > m.min_epochs:
                ratio = measures["latent_spread_ratio"]
                score = -abs(math.log(ratio)) if ratio > 0 else -math.inf
                if score > state["score"]:
                    state.update(score=score, since=0, epoch=epoch,
                                 best={k: v.detach().clone() for k, v in net.state_dict().items()})
                else:
                    state["since"] += 1
            return measures

        self.probe_state = state
        return probe

    # ---- the loop --------------------------------------------------------------------------

    def train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray, probe_seed: int) -> None:
        """Train on scaled ``Xs`` (n, n_kept) and class indices ``yi`` (n,) (tensor) / ``yi_np`` (numpy);
        ``probe_seed`` seeds the diagnostics' fixed z. Sets the model's ``class_weight_``,
        ``history_``, ``n_epochs_``, ``diagnostics_`` and ``best_epoch_``."""
        m, net = self.model, self.net
        n = Xs.shape[0]
        m.class_weight_ = class_weights(m.class_weight, yi_np, m.classes_, type(m).__name__)
        weighted = m.class_weight_ is not None
        w_rows = torch.from_numpy(m.class_weight_.astype(np.float32)).to(m.device_)[yi] if weighted else None
        onehot = m._condition(torch.eye(len(m.classes_), device=m.device_)[yi])
        opt_d, opt_main = self.optimizers()
        for part in (net.encoder, net.decoder, net.classifier):
            if part is not None:
                part.rng = self.aux_gen
        gan = m._trains_gan()
        wasserstein = gan and m.adversarial == "wasserstein"
        names = _ADAN_STATS if gan else ("loss_c", "loss_r")
        names = names + (("gp",) if wasserstein else ()) + (("loss_div",) if gan and m.diversity else ())
        stats = torch.zeros(len(names), device=m.device_)
        m.diagnostics_ = []
        m.best_epoch_ = None
        count = {"epoch": 0}

        def epoch():
            count["epoch"] += 1
            m._before_epoch(Xs, yi_np)
            g_factor = self.g_class_factor(count["epoch"])
            stats.zero_()
            batches = m._batches(n)
            for idx in batches:
                xb, yb = Xs[idx], yi[idx]
                wb = w_rows[idx] if weighted else None
                x_in = xb if m.ae_noise == 0 else xb + m.ae_noise * self.noise_aux(xb.shape)
                h = net.encoder(x_in)
                if not gan:
                    loss_r = F.mse_loss(net.decoder(h), xb)
                    loss_c = cross_entropy(net.classifier(h), yb, wb, m.c_label_smoothing)
                    opt_main.zero_grad(set_to_none=True)
                    (loss_r + loss_c).backward()
                    opt_main.step()
                    stats.add_(torch.stack([loss_c.detach(), loss_r.detach()]))
                    continue
                z = m._noise(len(idx))
                g = net.generator(torch.cat([z, onehot[idx]], dim=1))
                self.gp_sum = torch.zeros((), device=m.device_)
                loss_d, d_real, d_fake = d_steps(self.d_loss, h.detach(), g.detach(), opt_d, m.d_steps)
                loss_r, loss_c, loss_g_adv, loss_g_ce = self.losses(xb, yb, wb, h, g)
                total = loss_r + loss_c + loss_g_adv
                if g_factor == 1.0:
                    total = total + loss_g_ce
                elif g_factor != 0.0:
                    total = total + g_factor * loss_g_ce
                extra = []
                if wasserstein:
                    extra.append(self.gp_sum / m.d_steps)
                if m.diversity:
                    div = self.diversity(g, z, onehot[idx], h)
                    total = total + m.diversity_weight * div
                    extra.append(div.detach())
                opt_main.zero_grad(set_to_none=True)
                total.backward()
                opt_main.step()
                # Accumulated on the device: one host sync per epoch, not one per loss per batch.
                stats.add_(torch.stack([loss_d, loss_c.detach(), loss_g_ce.detach(), loss_g_adv.detach(),
                                        loss_r.detach(), d_real, d_fake, *extra]))
            return dict(zip(names, (stats / len(batches)).tolist()))

        probe = self.probe_fn(Xs, yi_np, onehot, probe_seed)
        stop = None
        if m.stop == "diversity":
            def stop(history):
                return self.probe_state["since"] >= m.patience
        try:
            n_epochs = m._epoch_budget(len(Xs), m.epochs)
            with open_monitor(m.log_dir, m.progress, n_epochs, type(m).__name__) as monitor:
                m.history_ = run_epochs(n_epochs, epoch, monitor, m.early_stop, m.min_epochs, probe=probe, stop=stop)
        finally:
            for part in (net.encoder, net.decoder, net.classifier):
                if part is not None:
                    part.rng = None
        m.n_epochs_ = len(m.history_)
        if m.stop == "diversity" and m.early_stop and self.probe_state["best"] is not None:
            net.load_state_dict(self.probe_state["best"])
            m.best_epoch_ = self.probe_state["epoch"]
