"""PNG pictures of the report: written atomically, and never missing when they are DVC outputs."""

from __future__ import annotations

from pathlib import Path

from adan_ser.core.io import atomic_path


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display on a CI machine or a worker)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path) -> None:
    """Write ``fig`` to ``path`` (PNG, 100 dpi) through a temporary file, then close it."""
    with atomic_path(Path(path), ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    pyplot().close(fig)


def empty_png(path, reason: str) -> None:
    """A small PNG that says ``reason``: a declared DVC output is written even with nothing to draw."""
    fig, ax = pyplot().subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, reason, ha="center", va="center")
    save_png(fig, path)
