"""t-SNE pictures of real vs synthetic vectors per emotion (the ADAN paper's Fig. 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adan_ser.augment.measures.quality import znorm_like
from adan_ser.core.io import atomic_path


def tsne_plot(real: np.ndarray, y_real: np.ndarray, syn: np.ndarray, y_syn: np.ndarray, path, title: str,
              seed: int = 0, max_points: int = 600) -> None:
    """Write a PNG: real vectors as dots, synthetic as crosses, one colour per emotion.

    ``real`` (n, d) and ``syn`` (m, d) are z-normalised with the real statistics, sub-sampled to at
    most ``max_points`` each, and embedded together in 2-D.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    r = rng.choice(len(real), min(max_points, len(real)), replace=False)
    s = rng.choice(len(syn), min(max_points, len(syn)), replace=False)
    Z = np.vstack(znorm_like(real, real[r], syn[s])[1:])
    emb = TSNE(n_components=2, random_state=seed, init="pca", perplexity=min(30, (len(Z) - 1) // 3)).fit_transform(Z)
    classes = sorted(set(np.asarray(y_real).tolist()) | set(np.asarray(y_syn).tolist()))
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(6, 5))
    for i, c in enumerate(classes):
        rr = np.asarray(y_real)[r] == c
        ss = np.asarray(y_syn)[s] == c
        ax.scatter(*emb[: len(r)][rr].T, s=10, color=colours(i % 10), label=f"{c} real")
        ax.scatter(*emb[len(r):][ss].T, s=14, marker="x", color=colours(i % 10), alpha=0.6, label=f"{c} synthetic")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=6, ncol=2, loc="best")
    fig.tight_layout()
    with atomic_path(Path(path), ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
