"""The training loop every latent augmenter runs: epochs, early stop, monitor, optimiser, GAN losses.

Shapes: latents ``h`` (real, from E) and ``g`` (generated) are (batch, latent_dim) tensors; a
discriminator maps (batch, in_dim) to (batch, 1) logits.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional, Sequence

import torch
import torch.nn.functional as F

from adan_ser.core.live import open_live
from adan_ser.core.optim import adam

__all__ = ["EARLY_STOP_TOL", "EARLY_STOP_PATIENCE", "converged", "model_adam", "Monitor", "open_monitor",
           "run_epochs", "gan_d_loss", "gan_g_adv", "d_steps"]

#: Early stop: |mean D output − 0.5| ≤ tol, for real and generated latents, this many epochs running.
EARLY_STOP_TOL = 0.01
EARLY_STOP_PATIENCE = 3


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


def model_adam(model, params, lr: Optional[float] = None) -> torch.optim.Adam:
    """Adam over ``params`` (tensors or param groups) with the latent model's ``beta1`` and ``eps``
    (second-moment beta 0.999) at ``lr`` (default ``model.lr``), on the fused kernel
    (:func:`adan_ser.core.optim.adam`)."""
    return adam(params, model.lr if lr is None else lr, betas=(model.beta1, 0.999), eps=model.eps)


class Monitor:
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


@contextlib.contextmanager
def open_monitor(log_dir, progress: bool, total: int, desc: str) -> Iterator[Monitor]:
    """A :class:`Monitor` logging to dvclive under ``log_dir`` (None: no log) with a bar of ``total``
    epochs named ``desc`` when ``progress``; both are closed on exit."""
    live, bar = open_live(log_dir, report=None), None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="epoch")
    try:
        yield Monitor(live, bar)
    finally:
        if bar is not None:
            bar.close()
        if live is not None:
            live.end()


def run_epochs(n_epochs: int, epoch_fn: Callable[[], dict], monitor: Monitor, early_stop: bool, min_epochs: int = 0,
               phase: Optional[str] = None, probe=None, stop=None) -> list[dict]:
    """Run up to ``n_epochs`` of ``epoch_fn`` (→ dict of epoch means); returns the history.

    ``probe(epoch)`` → dict of extra metrics (or None) logged with that epoch but kept out of the
    history; ``stop(history)`` → bool replaces the D-balance rule :func:`converged` (after
    ``min_epochs``).
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
        if early_stop and (converged(history, min_epochs) if stop is None else stop(history)):
            break
    return history


def gan_d_loss(discriminator, h: torch.Tensor, g: torch.Tensor):
    """D's loss on detached latents ``h`` (real, from E) and ``g`` (from G), both (b, latent_dim).

    Returns (loss_d, mean D(h), mean D(g)); loss_d = ½[−log D(h) − log(1 − D(g))] via softplus
    of the logit (−log σ(l) = softplus(−l), −log(1 − σ(l)) = softplus(l)), stable for any logit.
    """
    logits = discriminator(torch.cat([h, g])).squeeze(1)
    real, fake = logits[: len(h)], logits[len(h):]
    loss = 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())
    with torch.no_grad():
        return loss, torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()


def gan_g_adv(discriminator, g: torch.Tensor, g_loss: str) -> torch.Tensor:
    """G's adversarial term through a frozen D: −log D(g) (``"nonsaturating"``) or log(1 − D(g))."""
    logit = discriminator(g, frozen=True).squeeze(1)
    if g_loss == "nonsaturating":
        return F.softplus(-logit).mean()
    return -F.softplus(logit).mean()


def d_steps(d_loss, h: torch.Tensor, g: torch.Tensor, opt_d: torch.optim.Optimizer, n_steps: int):
    """``n_steps`` D updates on one batch of ``d_loss(h, g)`` → (loss, D(h), D(g)); returns the first
    step's values, taken before its update."""
    first = None
    for _ in range(n_steps):
        loss_d, d_real, d_fake = d_loss(h, g)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if first is None:
            first = (loss_d.detach(), d_real, d_fake)
    return first
