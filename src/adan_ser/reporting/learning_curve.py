"""Learning curve: how much each augmentation method gains over real data alone, per training fraction.

Augmentation is meant for small data, and a corpus's whole training folds may already be enough;
runs with several ``cv.train_fraction`` values show where it helps. The points come from the
significance table (:func:`adan_ser.reporting.significance.significance_table`), which pairs every
combination with the real-data reference of its own classifier and training fraction: the gain is
the UAR difference in percentage points (mean over test speakers of the per-speaker difference, seeds
averaged per speaker) and its interval the two-stage bootstrap (speakers, then seeds). Only the
classifiers' plain heads (``softmax``, ``-``) are drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adan_ser.contracts.names import PLAIN_HEADS, REFERENCE_METHOD
from adan_ser.contracts.results import FRACTION
from adan_ser.reporting.figures import empty_png, pyplot, save_png

CURVE_COLUMNS = ["fraction", "method", "train_data", "classifier", "gain", "ci_low", "ci_high"]


def learning_curve(table: pd.DataFrame) -> pd.DataFrame:
    """One row per training fraction × method × train data × classifier (plain head): ``gain``,
    ``ci_low``, ``ci_high``, the UAR of the combination minus that of ``none`` / ``real`` at the
    same fraction, in percentage points. A table without ``train_fraction`` is fraction 1.

    Rows are sorted by method, train data, classifier, then fraction (each series in x order).
    """
    t = table[(table["metric"] == "uar") & (table["ref_method"] == REFERENCE_METHOD) & (table["ref_train_data"] == "real")
              & (table["method"] != REFERENCE_METHOD) & table["head"].isin(PLAIN_HEADS)]
    curve = pd.DataFrame({
        "fraction": (t[FRACTION] if FRACTION in t else pd.Series(1.0, index=t.index)).astype(float),
        "method": t["method"], "train_data": t["train_data"], "classifier": t["classifier"],
        "gain": t["diff"].astype(float), "ci_low": t["ci_low"].astype(float), "ci_high": t["ci_high"].astype(float),
    }, columns=CURVE_COLUMNS)
    return curve.sort_values(["method", "train_data", "classifier", "fraction"], kind="stable").reset_index(drop=True)


def learning_curve_plot(curve: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write a PNG with one panel per classifier × train data: UAR gain over real data (points)
    against the training fraction on a log axis, one line per method with its two-stage bootstrap
    interval as error bars, the legend outside the data (right of the panels)."""
    plt = pyplot()

    panels = list(dict.fromkeys(zip(curve["classifier"], curve["train_data"])))
    if not panels:
        # a declared DVC output: say why it is empty rather than leave it missing
        empty_png(path, "no learning curve: no augmentation method was evaluated")
        return
    fractions = np.sort(curve["fraction"].unique())
    methods = list(dict.fromkeys(curve["method"]))
    colours = {m: pyplot().get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 2.2, 4.2), sharey=True, squeeze=False)
    for ax, (clf, use) in zip(axes[0], panels):
        part = curve[(curve["classifier"] == clf) & (curve["train_data"] == use)]
        for method, series in part.groupby("method", sort=False):
            # methods side by side around each fraction (a fixed factor on the log axis), so that
            # their intervals do not hide each other
            dodge = np.exp(0.12 * (methods.index(method) - (len(methods) - 1) / 2) / max(len(methods), 1))
            x = series["fraction"].to_numpy(dtype=float) * dodge
            g = series["gain"].to_numpy(dtype=float)
            err = np.vstack([g - series["ci_low"].to_numpy(dtype=float), series["ci_high"].to_numpy(dtype=float) - g])
            ax.errorbar(x, g, yerr=np.nan_to_num(err), marker="o", ms=4, capsize=2, lw=1.2, elinewidth=0.9,
                        color=colours[method], label=method)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(fractions, [f"{f:g}" for f in fractions])
        ax.minorticks_off()
        if len(fractions) == 1:
            ax.set_xlim(fractions[0] / 1.5, fractions[0] * 1.5)
        ax.set_xlabel("share of each training fold (log scale)")
        ax.set_title(f"{clf}, {use}")
    axes[0][0].set_ylabel(f"UAR gain over real data, points ({confidence:.0%} CI)")
    handles = {m: None for m in methods}
    for ax in axes[0]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            handles[l] = handles[l] or h
    right = 1.0 - 2.0 / fig.get_figwidth()  # 2 inches on the right hold the legend, off the data
    fig.legend([h for h in handles.values() if h is not None], [m for m, h in handles.items() if h is not None],
               loc="center left", bbox_to_anchor=(right + 0.01, 0.5), fontsize=9, title="method")
    fig.tight_layout(rect=(0, 0, right, 1))
    save_png(fig, path)
