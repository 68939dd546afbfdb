"""ADAN's networks: the fully connected building block and the five parts E, R, C, G, D.

Shapes: inputs (batch, in_dim) float32 tensors; latents (batch, latent_dim) in (-1, 1) (tanh).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "ADANNetworks"]


class MLP(nn.Module):
    """Fully connected net: ``in_dim`` → hidden layers → ``out_dim``.

    Hidden activation ``tanh`` or ``leaky_bn`` (LeakyReLU 0.2, then batch norm when
    ``batch_norm``, the order of the authors' code). ``out`` is ``"tanh"`` or ``None`` (linear).
    Weights are Xavier-uniform from ``generator``, biases zero.

    ``dropout`` (probability, 0 = none) drops hidden units in training mode, outside ``frozen``
    passes. Its masks come from ``self.rng`` (a ``torch.Generator`` on the net's device that the
    trainer sets), never from torch's global generator, so a seeded fit stays reproducible.
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
        dropout: float = 0.0,
    ):
        super().__init__()
        dims = [int(in_dim), *map(int, hidden), int(out_dim)]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(d) for d in dims[1:-1]) if batch_norm else None
        self.activation = activation
        self.out = out
        self.dropout = float(dropout)
        self.rng: Optional[torch.Generator] = None
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
                if self.dropout > 0 and self.training and not frozen:
                    keep = torch.rand(x.shape, generator=self.rng, device=x.device) >= self.dropout
                    x = x * keep / (1.0 - self.dropout)
        return torch.tanh(x) if self.out == "tanh" else x


class ADANNetworks(nn.Module):
    """The five ADAN parts (``classifier`` is ``None`` in the separately-trained ablation).

    * ``encoder``  E: (n, n_features) → (n, latent_dim), tanh output
    * ``decoder``  R: (n, latent_dim) → (n, n_features), linear (z-norm) or tanh (max-abs) output
    * ``classifier`` C: (n, latent_dim) → (n, n_classes) logits
    * ``generator`` G: (n, noise_dim + n_classes) → (n, latent_dim), tanh output
    * ``discriminator`` D: (n, latent_dim) → (n, 1) logit of "came from E"

    ``n_features`` counts the kept (non-constant) features. ``ae_dropout`` / ``c_dropout``: dropout
    probability in E and R / in C (see :class:`MLP`); dropout draws nothing from ``generator``.
    ``cond_dim``: extra inputs of G after the one-hot class (a speaker style; 0 = plain G(z, y)).
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
        ae_dropout: float = 0.0,
        c_dropout: float = 0.0,
        cond_dim: int = 0,
    ):
        super().__init__()
        bn = activation == "leaky_bn"
        # Construction order fixes the draw order from ``generator``, hence the initial weights.
        self.encoder = MLP(n_features, enc_hidden, latent_dim, activation, bn, "tanh", generator, ae_dropout)
        self.decoder = MLP(
            latent_dim, tuple(reversed(tuple(enc_hidden))), n_features, activation, bn,
            None if linear_decoder else "tanh", generator, ae_dropout,
        )
        self.classifier = (
            MLP(latent_dim, clf_hidden, n_classes, activation, False, None, generator, c_dropout)
            if clf_hidden is not None
            else None
        )
        self.generator = MLP(noise_dim + n_classes + cond_dim, gen_hidden, latent_dim, activation, False, "tanh",
                             generator)
        self.discriminator = MLP(latent_dim, disc_hidden, 1, activation, False, None, generator)
