"""ADAN: the Adversarial Data Augmentation Network of Yi & Mak, jointly trained (the paper's eqs. 1–6).

ADAN learns a latent space (encoder E, decoder R) shaped by an auxiliary emotion classifier C, and
a conditional generator G whose latents a discriminator D cannot tell from E's. Synthetic feature
vectors are ``R(G(z, y))``, ``z ~ N(0, I)``. Shapes and units: see :mod:`adan_ser.augment.generators.latent`.

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
``random_state``, drawn from only when a remedy is on, so the three streams above are unchanged.

Diagnostics: every ``diagnostics_every`` epochs (0: never) the latent spread ratio and
Fréchet distance of G(z, y) (one fixed z per training row, from a fifth stream) against E(x)
of the training rows are computed in eval mode, stored in ``diagnostics_`` (dicts: epoch,
latent_spread_ratio, latent_frechet) and logged to dvclive with that epoch; ``history_`` is
unchanged by them.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Optional, Sequence

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from adan_ser.augment.generators.adan_training import ADANTrainer
from adan_ser.augment.generators.latent import LatentAugmenter
from adan_ser.core.constraints import LayerSizes
from adan_ser.augment.generators.latent_inputs import extra_seeds
from adan_ser.core.errors import InputError

__all__ = ["ADAN"]

ADVERSARIAL = ("gan", "wasserstein")
DIVERSITY = ("mode_seeking", "moments")
STOPS = ("d_balance", "diversity")
_PROB = Interval(Real, 0, 1, closed="left")
_NONNEG = Interval(Real, 0, None, closed="left")


class ADAN(LatentAugmenter):
    """Adversarial Data Augmentation Network (Yi & Mak), jointly trained.

    Losses, schedule, early stop, the remedies against mode collapse and the diagnostics are
    described in :mod:`adan_ser.augment.generators.adan`; every remedy's default keeps the plain ADAN.

    Parameters
    ----------
    latent_dim : int, default=100
        Size of the latent codes (tanh, in (-1, 1)).
    enc_hidden, gen_hidden, disc_hidden, clf_hidden : sequence of int
        Hidden layer sizes of E (R mirrors it), G, D and C; defaults (800, 800), then (100, 100).
    noise_dim : int, default=100
        Size of G's noise z.
    activation : {"tanh", "leaky_bn"}, default="tanh"
        Hidden activation; "leaky_bn" is LeakyReLU 0.2 then batch norm (the authors' code).
    scaling : {"znorm", "maxabs"}, default="znorm"
        Feature scaling (linear decoder) or max-abs scaling (tanh decoder).
    d_steps : int, default=1
        D updates per batch.
    g_loss : {"nonsaturating", "minimax"}, default="nonsaturating"
        G's adversarial term (paper eq. 6 or 5).
    class_weight : "balanced", dict or None, default=None
        Weights of the CE terms per class (see :func:`~adan_ser.core.class_weights.class_weights`).
    lr, lr_d, lr_g : float
        Adam learning rates of E, R and C (default 1e-4), of D and of G (None: ``lr``).
    beta1, eps : float
        Adam's β₁ (default 0.5; β₂ is 0.999) and ε (default 1e-5).
    batch_size : int, default=128
        Rows per batch (near-equal batches cover every row).
    epochs, min_epochs : int
        Most epochs (default 1500); the early stop waits past ``min_epochs`` (default 200).
    early_stop : bool, default=True
        Stop by the rule ``stop`` names.
    max_updates : int or None, default=None
        Cap on the optimiser steps (batches) of the whole training: the epochs are cut to
        ceil(max_updates / batches per epoch). None: ``epochs`` alone. For large
        corpora (docs/scaling.md); at EmoDB size (4 batches per epoch) 600 = 150 epochs.
    adversarial : {"gan", "wasserstein"}, default="gan"
        A GAN discriminator, or a critic with gradient penalty (WADAN).
    gp_weight, gp_power : float
        The critic's gradient penalty ``gp_weight · mean ‖∇D‖^gp_power`` (defaults 10, 10).
    c_label_smoothing, c_dropout, c_weight_decay : float
        Calmer C: label smoothing in L_C, dropout of C's hidden units, Adam L2 (defaults 0).
    g_class_weight : float, default=1.0
        Weight of G's CE term.
    g_class_warmup : int or None, default=None
        Epochs G's CE term is kept for (None: throughout).
    diversity : {"mode_seeking", "moments"} or None, default=None
        A diversity term in G's loss, weighted by ``diversity_weight`` (default 1).
    diversity_weight : float, default=1.0
        See ``diversity``.
    instance_noise, d_label_smoothing : float
        Std of Gaussian noise on D's inputs; one-sided label smoothing of real codes (GAN only).
    stop : {"d_balance", "diversity"}, default="d_balance"
        Early-stop rule: D's outputs balanced at 0.5, or the latent spread ratio no closer to 1
        for ``patience`` (default 5) checks.
    patience : int, default=5
        See ``stop``.
    diagnostics_every : int, default=10
        Epochs between latent diagnostics (0: none).
    ae_noise, ae_dropout, ae_weight_decay : float
        Regularised autoencoder: input noise std, dropout of E and R, Adam L2 (defaults 0).
    device : str, default="auto"
        Torch device ("auto": CUDA when available).
    random_state : int or None, default=0
        Seed of every stream of the training (weights, batches, noises); None draws fresh entropy.
    log_dir : str, path or None, default=None
        Folder of dvclive training curves; None logs nothing.
    progress : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    net_ : ADANNetworks
        The trained E, R, C, G and D.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : list of dict
        One dict per epoch (epoch, loss_d, loss_c, loss_g_ce, loss_g_adv, loss_r, d_real, d_fake:
        batch means; gp, loss_div with those remedies).
    n_epochs_ : int
        Epochs trained.
    class_weight_ : ndarray of shape (n_classes,) or None
        CE weights; None when unweighted.
    diagnostics_ : list of dict
        Per-check latent_spread_ratio and latent_frechet.
    best_epoch_ : int or None
        The epoch whose networks ``stop="diversity"`` restored.
    keep_features_, constant_values_, scaler_, n_features_in_, feature_names_in_
        As :class:`~adan_ser.augment.generators.latent.LatentAugmenter`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 6)), np.repeat(["angry", "sad"], 20)
    >>> small = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,),
    ...              clf_hidden=(8,), device="cpu")
    >>> model = ADAN(epochs=2, early_stop=False, **small).fit(X, y)
    >>> X_syn, y_syn = model.sample(counts={"angry": 3, "sad": 2}, seed=0)
    >>> X_syn.shape, y_syn.tolist(), model.transform(X).shape, model.n_epochs_
    ((5, 6), ['angry', 'angry', 'angry', 'sad', 'sad'], (40, 4), 2)
    """

    _parameter_constraints: dict = {
        **LatentAugmenter._parameter_constraints,
        "clf_hidden": [LayerSizes()],
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
        max_updates: Optional[int] = None,
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
        random_state: Optional[int] = 0,
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
        self.max_updates = max_updates
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
        self.random_state = random_state
        self.log_dir = log_dir
        self.progress = progress

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_combination()

    def _check_combination(self) -> None:
        """Settings valid one by one but not together → InputError naming them."""
        name = type(self).__name__
        if self.early_stop and self.stop == "d_balance" and self.adversarial == "wasserstein":
            raise InputError(f"{name}: stop 'd_balance' needs adversarial 'gan' (a critic's outputs do not "
                             f"balance at 0.5); use stop 'diversity' or early_stop false")
        if self.stop == "diversity" and self.diagnostics_every == 0:
            raise InputError(f"{name}: stop 'diversity' needs diagnostics_every >= 1")
        if self.d_label_smoothing > 0 and self.adversarial != "gan":
            raise InputError(f"{name}: d_label_smoothing needs adversarial 'gan'")

    # ---- hooks of the training (see adan_training.ADANTrainer) ---------------------------

    def _trains_gan(self) -> bool:
        return True

    def _condition(self, onehot: torch.Tensor) -> torch.Tensor:
        """G's condition of each training row (n, n_classes + extra): the one-hot class here."""
        return onehot

    def _before_epoch(self, Xs: torch.Tensor, yi_np: np.ndarray) -> None:
        """Called at the start of every epoch; draws nothing (a speaker-style model updates its styles)."""

    def _train(self, Xs: torch.Tensor, yi: torch.Tensor, yi_np: np.ndarray) -> None:
        aux_seed, probe_seed = extra_seeds(self.random_state)
        ADANTrainer(self, aux_seed).train(Xs, yi, yi_np, probe_seed)
