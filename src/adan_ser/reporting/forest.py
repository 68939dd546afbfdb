"""Forest plot of the significance table: one line per comparison, difference with its interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.reporting.figures import empty_png, pyplot, save_png


def comparison_label(row) -> str:
    """``dnn smote real+synthetic vs none real`` (heads shown only when not the plain one; the
    training fraction, ``, fraction 0.25``, where the table has that column)."""
    def part(method, train_data, head):
        return " ".join([method, train_data] + ([head] if head not in ("softmax", "-") else []))

    label = (f"{row['classifier']} {part(row['method'], row['train_data'], row['head'])} vs "
             f"{part(row['ref_method'], row['ref_train_data'], row['ref_head'])}")
    fraction = row.get(FRACTION) if hasattr(row, "get") else None
    if fraction is not None and fraction == fraction:  # a learning-curve run: both at this fraction
        label += f", fraction {float(fraction):g}"
    return label


def forest_plot(table: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write a PNG with one panel per metric (WA, UAR): difference in percentage points (dot) and its
    bootstrap interval (bar) per comparison; filled dots are significant after Holm's correction."""
    plt = pyplot()

    if table.empty:
        # the plot is a declared DVC output: say why it is empty rather than leave it missing
        empty_png(path, "no comparisons: only reference rows were evaluated")
        return
    metrics = [m for m in ("wa", "uar") if (table["metric"] == m).any()]
    labels = list(dict.fromkeys(comparison_label(r) for _, r in table.iterrows()))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics) + 3, 0.35 * max(len(labels), 2) + 1.5),
                             sharey=True, squeeze=False)
    ypos = {label: i for i, label in enumerate(reversed(labels))}
    for ax, metric in zip(axes[0], metrics):
        part = table[table["metric"] == metric]
        y = np.array([ypos[comparison_label(r)] for _, r in part.iterrows()], dtype=float)
        d = part["diff"].to_numpy(dtype=float)
        err = np.vstack([d - part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float) - d])
        sig = part["significant"].to_numpy(dtype=bool)
        ax.errorbar(d, y, xerr=err, fmt="none", ecolor="0.4", capsize=3)
        ax.scatter(d[~sig], y[~sig], facecolors="white", edgecolors="k", zorder=3, label="not significant")
        ax.scatter(d[sig], y[sig], color=np.where(d[sig] > 0, "tab:green", "tab:red"), zorder=3,
                   label="significant (Holm)")
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_xlabel(f"{metric.upper()} difference, points ({confidence:.0%} CI, speakers resampled)")
        ax.set_title(metric.upper())
    axes[0][0].set_yticks(list(ypos.values()), list(ypos.keys()), fontsize=7)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    save_png(fig, path)
