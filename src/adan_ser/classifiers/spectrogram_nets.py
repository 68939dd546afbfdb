"""Spectrogram networks: (B, T, F) normalised log spectrogram segments → (B, n_emb) embeddings.

Every network returns ``(emb, gender_logits)``: ``emb`` (B, ``out_dim``) goes to the emotion head
(plain linear or a margin head, built by the estimator), ``gender_logits`` (B, 2) or None. T and F
may be any size ≥ the total pooling factor; the embedding size does not depend on them.

Conv blocks are 3×3 conv, 2×2 pool, BN, ReLU (see :func:`conv_block`); ``dropout`` acts inside
the conv blocks of ``cnn-blstm-att`` (as in Zhou & Liu) and on the embedding of the others.

- ``crnn`` (Satt et al. 2017 style): conv blocks (max-pooling) over
  time-frequency, then a unidirectional LSTM over time on (channels × pooled bins) per frame;
  the embedding is the mean of the LSTM outputs over time.
- ``cnn-tf-gap`` (Li et al. 2018): parallel time-wise (``tf_kernels[0]``, default 10×2 in
  T×F) and frequency-wise (default 2×8) first convolutions, concatenated on channels, then conv
  blocks, then global average pooling over time and frequency.
- ``cnn-blstm-att`` (Zhou & Liu): conv blocks (3×3 conv, 2×2 average pooling, BN, ReLU,
  dropout), a BLSTM (``rnn_hidden`` per direction), attention pooling over time; ``stats=True``
  (``cnn-blstm-att-stats``) pools with weighted mean ‖ weighted standard deviation.
- ``domain-aware`` (Fan et al.): a gender pathway and an emotion pathway of conv blocks; the
  gender map's frequency profile (mean over channels and time, (B, F')) goes through
  FC → ReLU → FC → sigmoid to (B, F') weights that rescale the emotion map's frequency axis;
  emotion embedding = GAP of the re-weighted map, gender logits from GAP of the gender map.

``gender_aux=True`` adds a linear gender classifier on the embedding (Wen et al.'s auxiliary task).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from adan_ser.classifiers.pooling import AttentionPooling, AttentiveStatsPooling
from adan_ser.core.errors import AdanError

ARCHS = ("crnn", "cnn-tf-gap", "cnn-blstm-att", "cnn-blstm-att-stats", "domain-aware")


def conv_block(c_in: int, c_out: int, pool: str = "max", dropout: float = 0.0) -> nn.Sequential:
    """(B, c_in, T, F) → (B, c_out, T // 2, F // 2): 3×3 conv, 2×2 pool, BN, ReLU, dropout.

    Pooling comes straight after the convolution so BN, ReLU and dropout run on a quarter of the
    cells: on CPU these memory-bound steps, not the convolutions, dominate the training time.
    """
    pooling = nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), pooling, nn.BatchNorm2d(c_out), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def conv_stack(c_in: int, channels: Sequence[int], pool: str, dropout: float) -> nn.Sequential:
    blocks, c = [], c_in
    for width in channels:
        blocks.append(conv_block(c, int(width), pool, dropout))
        c = int(width)
    return nn.Sequential(*blocks)


def make_input_pool(size) -> nn.Module:
    """Average pooling of the input over (time, frequency) before the first conv; (1, 1) = none.

    The cheap-on-CPU defaults use (2, 4) on the 400-bin linear spectrogram: 20 ms × 40 Hz cells.
    """
    t, f = (int(v) for v in size)
    if t < 1 or f < 1:
        raise AdanError(f"input_pool must be two sizes ≥ 1, got {size!r}")
    return nn.Identity() if (t, f) == (1, 1) else nn.AvgPool2d((t, f))


def _pooled_bins(n_bins: int, n_blocks: int) -> int:
    f = n_bins
    for _ in range(n_blocks):
        f //= 2
    if f < 1:
        raise AdanError(f"{n_bins} frequency bins are too few for {n_blocks} 2×2 pooling blocks")
    return f


def _to_sequence(fmap: torch.Tensor) -> torch.Tensor:
    """(B, C, T, F) → (B, T, C·F): one feature vector per pooled frame."""
    b, c, t, f = fmap.shape
    return fmap.permute(0, 2, 1, 3).reshape(b, t, c * f)


class SpectroNet(nn.Module):
    """Base: ``features(x)`` → (B, out_dim); optional gender auxiliary head on the embedding."""

    out_dim: int

    def __init__(self, gender_aux: bool, input_pool=(1, 1)):
        super().__init__()
        self.gender_aux = gender_aux
        self.input_pool = make_input_pool(input_pool)

    def _finish(self) -> None:
        self.gender_head = nn.Linear(self.out_dim, 2) if self.gender_aux else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """x: (B, T, F) → (emb (B, out_dim), gender logits (B, 2) or None)."""
        emb = self.features(self.input_pool(x.unsqueeze(1)))
        return emb, (self.gender_head(emb) if self.gender_head is not None else None)


class CRNN(SpectroNet):
    def __init__(self, n_bins, channels=(8, 16, 16), rnn_hidden=64, dropout=0.0, gender_aux=False, input_pool=(1, 1), **_):
        super().__init__(gender_aux, input_pool)
        n_bins //= int(input_pool[1])
        self.conv = conv_stack(1, channels, "max", 0.0)
        f = _pooled_bins(n_bins, len(channels))
        self.rnn = nn.LSTM(int(channels[-1]) * f, int(rnn_hidden), batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out_dim = int(rnn_hidden)
        self._finish()

    def features(self, x):
        out, _ = self.rnn(_to_sequence(self.conv(x)))
        return self.drop(out.mean(dim=1))


class CNNTFGAP(SpectroNet):
    def __init__(self, n_bins, channels=(8, 16, 16), tf_kernels=((10, 2), (2, 8)), dropout=0.0,
                 gender_aux=False, input_pool=(1, 1), **_):
        super().__init__(gender_aux, input_pool)
        n_bins //= int(input_pool[1])
        c0 = int(channels[0])
        kt, kf = (tuple(int(k) for k in ks) for ks in tf_kernels)
        self.time_conv = nn.Conv2d(1, c0, kt, padding="same")
        self.freq_conv = nn.Conv2d(1, c0, kf, padding="same")
        self.first = nn.Sequential(nn.MaxPool2d(2), nn.BatchNorm2d(2 * c0), nn.ReLU())
        _pooled_bins(n_bins, len(channels))
        self.conv = conv_stack(2 * c0, channels[1:], "max", 0.0)
        self.drop = nn.Dropout(dropout)
        self.out_dim = int(channels[-1]) if len(channels) > 1 else 2 * c0
        self._finish()

    def features(self, x):
        fmap = self.first(torch.cat([self.time_conv(x), self.freq_conv(x)], dim=1))
        return self.drop(self.conv(fmap).mean(dim=(2, 3)))


class CNNBLSTMAtt(SpectroNet):
    def __init__(self, n_bins, channels=(8, 16, 16), rnn_hidden=64, dropout=0.25, stats=False,
                 att_hidden=64, gender_aux=False, input_pool=(1, 1), **_):
        super().__init__(gender_aux, input_pool)
        n_bins //= int(input_pool[1])
        self.conv = conv_stack(1, channels, "avg", dropout)
        f = _pooled_bins(n_bins, len(channels))
        self.rnn = nn.LSTM(int(channels[-1]) * f, int(rnn_hidden), batch_first=True, bidirectional=True)
        pool_cls = AttentiveStatsPooling if stats else AttentionPooling
        self.pool = pool_cls(2 * int(rnn_hidden), int(att_hidden))
        self.out_dim = self.pool.out_dim
        self._finish()

    def features(self, x):
        out, _ = self.rnn(_to_sequence(self.conv(x)))
        return self.pool(out)[0]


class DomainAware(SpectroNet):
    """Gender pathway re-weights the emotion pathway's frequency axis; always has gender logits."""

    def __init__(self, n_bins, channels=(8, 16, 16), dropout=0.0, reduction=4, input_pool=(1, 1), **_):
        super().__init__(False, input_pool)
        n_bins //= int(input_pool[1])
        self.gender_conv = conv_stack(1, channels, "max", 0.0)
        self.emotion_conv = conv_stack(1, channels, "max", 0.0)
        self.drop = nn.Dropout(dropout)
        f = _pooled_bins(n_bins, len(channels))
        hidden = max(1, f // int(reduction))
        self.freq_attention = nn.Sequential(nn.Linear(f, hidden), nn.ReLU(), nn.Linear(hidden, f), nn.Sigmoid())
        self.out_dim = int(channels[-1])
        self.gender_head = nn.Linear(int(channels[-1]), 2)

    def frequency_weights(self, gender_map: torch.Tensor) -> torch.Tensor:
        """(B, C, T', F') gender map → (B, F') weights in (0, 1)."""
        return self.freq_attention(gender_map.mean(dim=(1, 2)))

    def forward(self, x):
        x = self.input_pool(x.unsqueeze(1))
        g = self.gender_conv(x)
        e = self.emotion_conv(x)
        if e.shape[-1] != g.shape[-1]:
            raise AdanError("domain-aware: gender and emotion maps differ in frequency size")
        e = e * self.frequency_weights(g)[:, None, None, :]
        return self.drop(e.mean(dim=(2, 3))), self.gender_head(g.mean(dim=(2, 3)))


def build_net(arch: str, n_bins: int, **params) -> SpectroNet:
    """Network for an architecture name in :data:`ARCHS`; params as in the classes above."""
    if arch == "crnn":
        return CRNN(n_bins, **params)
    if arch == "cnn-tf-gap":
        return CNNTFGAP(n_bins, **params)
    if arch in ("cnn-blstm-att", "cnn-blstm-att-stats"):
        return CNNBLSTMAtt(n_bins, stats=arch.endswith("-stats"), **params)
    if arch == "domain-aware":
        return DomainAware(n_bins, **params)
    raise AdanError(f"unknown spectrogram model {arch!r}; known: {', '.join(ARCHS)}")
