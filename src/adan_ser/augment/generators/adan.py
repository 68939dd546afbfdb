"""ADAN: the Adversarial Data Augmentation Network of Yi & Mak, jointly trained (the paper's eqs. 1–6).

ADAN learns a latent space (encoder E, decoder R) shaped by an auxiliary emotion classifier C, and
a conditional generator G whose latents a discriminator D cannot tell from E's. Synthetic feature
vectors are ``R(G(z, y))``, ``z ~ N(0, I)``. Shapes and units: see :mod:`adan_ser.augment.generators.latent`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.generators.latent import _CHUNK, LatentAugmenter, _adam, _LayerSizes
from adan_ser.core.class_weights import class_weights
from adan_ser.core.errors import AdanError

__all__ = ["ADAN"]

#: Order of the per-batch statistics accumulated during an ADAN epoch.
_ADAN_STATS = ("loss_d", "loss_c", "loss_g_ce", "loss_g_adv", "loss_r", "d_real", "d_fake")

ADVERSARIAL = ("gan", "wasserstein")
DIVERSITY = ("mode_seeking", "moments")
STOPS = ("d_balance", "diversity")
_PROB = Interval(Real, 0, 1, closed="left")
_NONNEG = Interval(Real, 0, None, closed="left")


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
    and restored in the output), ``scaler_`` (see :class:`~adan_ser.augment.generators.latent.LatentAugmenter`).

    Remedies against mode collapse (every default keeps the plain ADAN above, bit for bit):

    * ``adversarial="wasserstein"`` (WADAN, the authors' code): D is a critic with no sigmoid;
      L_D = mean D(E(x)) − mean D(G(z, y)) + ``gp_weight`` · mean ‖∇D(x̂)‖^``gp_power`` at
      x̂ = E(x) + ε(G(z, y) − E(x)), ε ~ U(0, 1) per row (their code: weight 10, (‖∇‖²)⁵, i.e. power
      10); G's adversarial term is mean D(G(z, y)) (the critic scores real codes low). ``d_real``
      and ``d_fake`` then hold the critic means and ``gp`` the penalty; the D-balance stop does not
      apply (use ``stop="diversity"`` or ``early_stop=False``).
    * calmer C: ``c_label_smoothing`` (in L_C only), ``c_dropout`` (C's hidden units, not in G's
      frozen pass through C), ``c_weight_decay`` (Adam L2 on C); ``g_class_weight`` multiplies G's
      CE term; ``g_class_warmup`` = N keeps G's CE term for the first N epochs and drops it after
      (G learns the class layout first, then only D shapes it); None keeps it throughout.
    * ``diversity``: a term added to G's loss with ``diversity_weight``. ``"mode_seeking"``:
      −mean_rows ‖G(z₁, y) − G(z₂, y)‖ / ‖z₁ − z₂‖ (a second z per row; the ratio is maximised);
      ``"moments"``: per class on the batch, mean squared difference of the mean and of the std of
      G(z, y) against E(x) (detached), averaged over classes with ≥ 2 rows.
    * balanced D: ``lr_d``; ``instance_noise`` (std of Gaussian noise added to every D input, in D's
      and G's losses); ``d_label_smoothing`` (one-sided: real target 1 − s; GAN only).
    * ``stop="diversity"``: with ``early_stop``, stop when the latent spread ratio (see
      :mod:`~adan_ser.augment.measures.diagnostics`), checked every ``diagnostics_every`` epochs, has not
      come closer to 1 (in |log ratio|) for ``patience`` checks after ``min_epochs``; the networks
      of the best check are restored (``best_epoch_``).
    * regularised autoencoder: ``ae_noise`` (std of Gaussian noise added to E's input, scaled
      units; R still reconstructs the clean input), ``ae_dropout`` (hidden units of E and R),
      ``ae_weight_decay`` (Adam L2 on E and R).

    Extra randomness (dropout masks, noises, ε, the second z) comes from a fourth stream of
    ``seed``, drawn from only when a remedy is on, so the three streams above are unchanged.

    Diagnostics: every ``diagnostics_every`` epochs (0: never) the latent spread ratio and
    Fréchet distance of G(z, y) (one fixed z per training row, from a fifth stream) against E(x)
    of the training rows are computed in eval mode, stored in ``diagnostics_`` (dicts: epoch,
    latent_spread_ratio, latent_frechet) and logged to dvclive with that epoch; ``history_`` is
    unchanged by them.
    """

    _parameter_constraints: dict = {
        **LatentAugmenter._parameter_constraints,
        "clf_hidden": [_LayerSizes()],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "lr_d": [Interval(Real, 0, None, closed="neither"), None],
        "lr_g": [Interval(Real, 0, None, closed="neither"), None],
        "adversarial": [StrOptions(set(ADVERSARIAL))],
        "gp_weight": [_NONNEG],
        "gp_power": [Interval(Real, 0, None, closed="neither")],
        "c_label_smoothing": [_PROB],
        "c_dropout": [_PROB],
        "c_weight_decay": [_NONNEG],
        "g_class_weight": [_NONNEG],
        "g_class_warmup": [Interval(Integral, 0, None, closed="left"), None],
        "diversity": [StrOptions(set(DIVERSITY)), None],
        "diversity_weight": [_NONNEG],
        "instance_noise": [_NONNEG],
        "d_label_smoothing": [_PROB],
        "stop": [StrOptions(set(STOPS))],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "diagnostics_every": [Interval(Integral, 0, None, closed="left")],
        "ae_noise": [_NONNEG],
        "ae_dropout": [_PROB],
        "ae_weight_decay": [_NONNEG],
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
        adversarial: str = "gan",
        gp_weight: float = 10.0,
        gp_power: float = 10.0,
        c_label_smoothing: float = 0.0,
        c_dropout: float = 0.0,
        c_weight_decay: float = 0.0,
        g_class_weight: float = 1.0,
        g_class_warmup: Optional[int] = None,
        diversity: Optional[str] = None,
        diversity_weight: float = 1.0,
        instance_noise: float = 0.0,
        d_label_smoothing: float = 0.0,
        stop: str = "d_balance",
        patience: int = 5,
        diagnostics_every: int = 10,
        ae_noise: float = 0.0,
        ae_dropout: float = 0.0,
        ae_weight_decay: float = 0.0,
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
        self.adversarial = adversarial
        self.gp_weight = gp_weight
        self.gp_power = gp_power
        self.c_label_smoothing = c_label_smoothing
        self.c_dropout = c_dropout
        self.c_weight_decay = c_weight_decay
        self.g_class_weight = g_class_weight
        self.g_class_warmup = g_class_warmup
        self.diversity = diversity
        self.diversity_weight = diversity_weight
        self.instance_noise = instance_noise
        self.d_label_smoothing = d_label_smoothing
        self.stop = stop
        self.patience = patience
        self.diagnostics_every = diagnostics_every
        self.ae_noise = ae_noise
        self.ae_dropout = ae_dropout
        self.ae_weight_decay = ae_weight_decay
        self.device = device
        self.seed = seed
        self.log_dir = log_dir
        self.progress = progress

    def _check_combination(self) -> None:
        name = type(self).__name__
        if self.early_stop and self.stop == "d_balance" and self.adversarial == "wasserstein":
            raise AdanError(f"{name}: stop 'd_balance' needs adversarial 'gan' (a critic's outputs do not "
                            f"balance at 0.5); use stop 'diversity' or early_stop false")
        if self.stop == "diversity" and self.diagnostics_every == 0:
            raise AdanError(f"{name}: stop 'diversity' needs diagnostics_every >= 1")
        if self.d_label_smoothing > 0 and self.adversarial != "gan":
            raise AdanError(f"{name}: d_label_smoothing needs adversarial 'gan'")

    # ---- losses ----------------------------------------------------------------------------

    def _ce(self, logits: torch.Tensor, yb: torch.Tensor, wb: Optional[torch.Tensor],
            smoothing: float = 0.0) -> torch.Tensor:
        kw = {"label_smoothing": smoothing} if smoothing > 0 else {}
        if wb is None:
            return F.cross_entropy(logits, yb, **kw)
        return (F.cross_entropy(logits, yb, reduction="none", **kw) * wb).mean()

    def _losses(self, xb, yb, wb, h, g):
        """The main step's losses for one batch: (L_R, L_C, G's adversarial term, G's CE term).

        ``xb`` (b, n_kept) scaled input, ``yb`` (b,) class indices, ``wb`` (b,) CE weights or None,
        ``h = E(xb)`` and ``g = G(z, y)`` (b, latent_dim) with their graphs. Only E, R, C receive
        gradients from the first two, only G from the last two.
        """
        net = self.net_
        loss_r = F.mse_loss(net.decoder(h), xb)
        loss_c = self._ce(net.classifier(h), yb, wb, self.c_label_smoothing)
        loss_g_adv = self._g_adv(g)
        loss_g_ce = self._ce(net.classifier(g, frozen=True), yb, wb)
        return loss_r, loss_c, loss_g_adv, loss_g_ce

    def _instance_noise(self, t: torch.Tensor) -> torch.Tensor:
        if self.instance_noise == 0:
            return t
        return t + self.instance_noise * torch.randn(t.shape, generator=self._aux_gen, device=t.device)

    def _d_loss(self, h: torch.Tensor, g: torch.Tensor):
        if self.adversarial == "gan" and self.instance_noise == 0 and self.d_label_smoothing == 0:
            return super()._d_loss(h, g)
        h, g = self._instance_noise(h), self._instance_noise(g)
        disc = self.net_.discriminator
        if self.adversarial == "gan":
            logits = disc(torch.cat([h, g])).squeeze(1)
            real, fake = logits[: len(h)], logits[len(h):]
            s = self.d_label_smoothing
            # BCE against target 1 − s for real codes: (1 − s)·softplus(−l) + s·softplus(l).
            loss_real = F.softplus(-real).mean() if s == 0 else (1 - s) * F.softplus(-real).mean() + s * F.softplus(real).mean()
            loss = 0.5 * (loss_real + F.softplus(fake).mean())
            with torch.no_grad():
                return loss, torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()
        out = disc(torch.cat([h, g])).squeeze(1)
        real, fake = out[: len(h)], out[len(h):]
        weight = torch.rand(len(h), 1, generator=self._aux_gen, device=h.device)
        x_hat = (h + weight * (g - h)).requires_grad_(True)
        grad, = torch.autograd.grad(disc(x_hat).sum(), x_hat, create_graph=True)
        penalty = grad.pow(2).sum(dim=1).pow(self.gp_power / 2).mean()
        loss = real.mean() - fake.mean() + self.gp_weight * penalty
        self._gp_sum = self._gp_sum + penalty.detach()
        return loss, real.mean().detach(), fake.mean().detach()

    def _g_adv(self, g: torch.Tensor) -> torch.Tensor:
        if self.adversarial == "gan":
            return super()._g_adv(self._instance_noise(g))
        return self.net_.discriminator(self._instance_noise(g), frozen=True).mean()

    def _diversity(self, g: torch.Tensor, z: torch.Tensor, onehot_b: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The diversity term (to minimise) for G's batch ``g`` = G(``z``, y), ``onehot_b`` (b, k), ``h`` = E(x)."""
        if self.diversity == "mode_seeking":
            z2 = self._noise_aux(z.shape)
            g2 = self.net_.generator(torch.cat([z2, onehot_b], dim=1))
            ratio = (g - g2).norm(dim=1) / ((z - z2).norm(dim=1) + 1e-8)
            return -ratio.mean()
        counts = onehot_b.sum(dim=0)
        present = counts >= 2
        denom = counts.clamp(min=1.0)[:, None]
        h = h.detach()

        def moments(t):
            mean = onehot_b.T @ t / denom
            var = (onehot_b.T @ (t * t) / denom - mean * mean).clamp(min=0.0)
            return mean, torch.sqrt(var + 1e-8)

        (mg, sg), (mh, sh) = moments(g), moments(h)
        per_class = ((mg - mh) ** 2).mean(dim=1) + ((sg - sh) ** 2).mean(dim=1)
        return per_class[present].mean() if bool(present.any()) else g.sum() * 0.0

    def _noise_aux(self, shape) -> torch.Tensor:
        return torch.randn(tuple(shape), generator=self._aux_gen, device=self.device_)

    # ---- training --------------------------------------------------------------------------

    def _optimizers(self):
        net = self.net_
        lr_d = self.lr if self.lr_d is None else self.lr_d
        lr_g = self.lr if self.lr_g is None else self.lr_g
        opt_d = _adam(net.discriminator.parameters(), lr_d, self.beta1, self.eps, self.device_)
        # Param groups keep one fused Adam (one kernel per step) while G may learn at its own rate.
        if self.ae_weight_decay == 0 and self.c_weight_decay == 0:
            main = [{"params": [p for part in (net.encoder, net.decoder, net.classifier) for p in part.parameters()]}]
        else:
            main = [
                {"params": [p for part in (net.encoder, net.decoder) for p in part.parameters()],
                 "weight_decay": self.ae_weight_decay},
                {"params": list(net.classifier.parameters()), "weight_decay": self.c_weight_decay},
            ]
        main.append({"params": list(net.generator.parameters()), "lr": lr_g})
        opt_main = _adam(main, self.lr, self.beta1, self.eps, self.device_)
        return opt_d, opt_main

    def _g_class_factor(self, epoch: int) -> float:
        if self.g_class_warmup is not None and epoch > self.g_class_warmup:
            return 0.0
        return float(self.g_class_weight)

    def _probe_fn(self, Xs: torch.Tensor, yi_np: np.ndarray, onehot: torch.Tensor, probe_seed: int):
        """The per-epoch diagnostics callback of :meth:`_loop` (None when ``diagnostics_every`` is 0)."""
        if self.diagnostics_every == 0:
            return None
        from adan_ser.augment.measures.diagnostics import latent_measures

        net = self.net_
        gen = torch.Generator().manual_seed(probe_seed)
        probe_z = torch.randn(len(yi_np), self.noise_dim, generator=gen).to(self.device_)
        state = {"score": -math.inf, "since": 0, "best": None}

        def probe(epoch):
            if epoch % self.diagnostics_every:
                return None
            # G's condition is read at each check: a speaker-style model updates it in place every epoch
            probe_in = torch.cat([probe_z, onehot], 1)
            net.eval()
            try:
                with torch.no_grad():
                    H = torch.cat([net.encoder(Xs[s:s + _CHUNK]) for s in range(0, len(Xs), _CHUNK)])
                    G = torch.cat([net.generator(probe_in[s:s + _CHUNK]) for s in range(0, len(Xs), _CHUNK)])
            finally:
                net.train()
            H, G = H.cpu().numpy().astype(np.float64), G.cpu().numpy().astype(np.float64)
            measures = latent_measures(H, yi_np, G, yi_np)
            self.diagnostics_.append({"epoch": epoch, **measures})
            if self.stop == "diversity" and epoch > self.min_epochs:
                ratio = measures["latent_spread_ratio"]
                score = -abs(math.log(ratio)) if ratio > 0 else -math.inf
                if score > state["score"]:
                    state.update(score=score, since=0, epoch=epoch,
                                 best={k: v.detach().clone() for k, v in net.state_dict().items()})
                else:
                    state["since"] += 1
            return measures

        self._probe_state = state
        return probe

    def _trains_gan(self) -> bool:
        return True

    def _condition(self, onehot: torch.Tensor) -> torch.Tensor:
        """G's condition of each training row (n, n_classes + extra): the one-hot class here."""
        return onehot

    def _before_epoch(self, Xs: torch.Tensor, yi_np: np.ndarray) -> None:
        """Called at the start of every epoch; draws nothing (a speaker-style model updates its styles)."""

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        self._check_combination()
        net = self.net_
        n = Xs.shape[0]
        self.class_weight_ = class_weights(self.class_weight, yi_np, self.classes_, type(self).__name__)
        weighted = self.class_weight_ is not None
        w_rows = torch.from_numpy(self.class_weight_.astype(np.float32)).to(self.device_)[yi] if weighted else None
        onehot = self._condition(torch.eye(len(self.classes_), device=self.device_)[yi])
        opt_d, opt_main = self._optimizers()
        aux_seed, probe_seed = self._extra_seeds()
        self._aux_gen = torch.Generator(device=self.device_).manual_seed(aux_seed)
        for part in (net.encoder, net.decoder, net.classifier):
            if part is not None:
                part.rng = self._aux_gen
        gan = self._trains_gan()
        wasserstein = gan and self.adversarial == "wasserstein"
        names = _ADAN_STATS if gan else ("loss_c", "loss_r")
        names = names + (("gp",) if wasserstein else ()) + (("loss_div",) if gan and self.diversity else ())
        stats = torch.zeros(len(names), device=self.device_)
        self.diagnostics_ = []
        self.best_epoch_ = None
        count = {"epoch": 0}

        def epoch():
            count["epoch"] += 1
            self._before_epoch(Xs, yi_np)
            g_factor = self._g_class_factor(count["epoch"])
            stats.zero_()
            batches = self._batches(n)
            for idx in batches:
                xb, yb = Xs[idx], yi[idx]
                wb = w_rows[idx] if weighted else None
                x_in = xb if self.ae_noise == 0 else xb + self.ae_noise * self._noise_aux(xb.shape)
                h = net.encoder(x_in)
                if not gan:
                    loss_r = F.mse_loss(net.decoder(h), xb)
                    loss_c = self._ce(net.classifier(h), yb, wb, self.c_label_smoothing)
                    opt_main.zero_grad(set_to_none=True)
                    (loss_r + loss_c).backward()
                    opt_main.step()
                    stats.add_(torch.stack([loss_c.detach(), loss_r.detach()]))
                    continue
                z = self._noise(len(idx))
                g = net.generator(torch.cat([z, onehot[idx]], dim=1))
                self._gp_sum = torch.zeros((), device=self.device_)
                loss_d, d_real, d_fake = self._d_steps(h.detach(), g.detach(), opt_d)
                loss_r, loss_c, loss_g_adv, loss_g_ce = self._losses(xb, yb, wb, h, g)
                total = loss_r + loss_c + loss_g_adv
                if g_factor == 1.0:
                    total = total + loss_g_ce
                elif g_factor != 0.0:
                    total = total + g_factor * loss_g_ce
                extra = []
                if wasserstein:
                    extra.append(self._gp_sum / self.d_steps)
                if self.diversity:
                    div = self._diversity(g, z, onehot[idx], h)
                    total = total + self.diversity_weight * div
                    extra.append(div.detach())
                opt_main.zero_grad(set_to_none=True)
                total.backward()
                opt_main.step()
                # Accumulated on the device: one host sync per epoch, not one per loss per batch.
                stats.add_(torch.stack([loss_d, loss_c.detach(), loss_g_ce.detach(), loss_g_adv.detach(),
                                        loss_r.detach(), d_real, d_fake, *extra]))
            return dict(zip(names, (stats / len(batches)).tolist()))

        probe = self._probe_fn(Xs, yi_np, onehot, probe_seed)
        stop = None
        if self.stop == "diversity":
            def stop(history):
                return self._probe_state["since"] >= self.patience
        try:
            with self._monitor(self.epochs) as monitor:
                self.history_ = self._loop(self.epochs, epoch, monitor, self.early_stop, probe=probe, stop=stop)
        finally:
            for part in (net.encoder, net.decoder, net.classifier):
                if part is not None:
                    part.rng = None
            del self._aux_gen
        self.n_epochs_ = len(self.history_)
        if self.stop == "diversity" and self.early_stop and self._probe_state["best"] is not None:
            net.load_state_dict(self._probe_state["best"])
            self.best_epoch_ = self._probe_state["epoch"]
        self.__dict__.pop("_probe_state", None)
        self.__dict__.pop("_gp_sum", None)
