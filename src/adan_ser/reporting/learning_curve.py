"""Learning curve: how much each augmentation method gains over real data alone, per training fraction.

Augmentation is meant for small data, and a corpus's whole training folds may already be enough;
runs with several ``cv.train_fraction`` values show where it helps. The points come from the
significance table (:func:`adan_ser.reporting.significance.significance_table`), which pairs every
combination with the real-data reference of its own classifier and training fraction: the gain is
the UAR difference in percentage points (pooled per seed, mean over seeds) and its interval the
speaker bootstrap. Only the classifiers' plain heads (``softmax``, ``-``) are drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.reporting.figures import empty_png, pyplot, save_png
from adan_ser.reporting.significance import PLAIN_HEADS

CURVE_COLUMNS = ["fraction", "method", "train_data", "classifier", "gain", "ci_low", "ci_high"]


def learning_curve(table: pd.DataFrame) -> pd.DataFrame:
    """One row per training fraction × method × train data × classifier (plain head): ``gain``,
    ``ci_low``, ``ci_high``, the UAR of the combination minus that of ``none`` / ``real`` at the
    same fraction, in percentage points. A table without ``train_fraction`` is fraction 1.

    Rows are sorted by method, train data, classifier, then fraction (each series in x order).
    """
    t = table[(table["metric"] == "uar") & (table["ref_method"] == "none") & (table["ref_train_data"] == "real")
              & (table["method"] != "none") & table["head"].isin(PLAIN_HEADS)]
    curve = pd.DataFrame({
        "fraction": (t[FRACTION] if FRACTION in t else pd.Series(1.0, index=t.index)).astype(float),
        "method": t["method"], "train_data": t["train_data"], "classifier": t["classifier"],
        "gain": t["diff"].astype(float), "ci_low": t["ci_low"].astype(float), "ci_high": t["ci_high"].astype(float),
    }, columns=CURVE_COLUMNS)
    return curve.sort_values(["method", "train_data", "classifier", "fraction"], kind="stable").reset_index(drop=True)


def learning_curve_plot(curve: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write a PNG with one panel per classifier: UAR gain over real data (points) against the
    training fraction, one line per method × train data, the bootstrap interval as error bars."""
    plt = pyplot()

    classifiers = list(dict.fromkeys(curve["classifier"]))
    if not classifiers:
        # a declared DVC output: say why it is empty rather than leave it missing
        empty_png(path, "no learning curve: no augmentation method was evaluated")
        return
    fractions = np.sort(curve["fraction"].unique())
    fig, axes = plt.subplots(1, len(classifiers), figsize=(5 * len(classifiers), 4), sharey=True, squeeze=False)
    for ax, clf in zip(axes[0], classifiers):
        part = curve[curve["classifier"] == clf]
        for (method, use), series in part.groupby(["method", "train_data"], sort=False):
            x = series["fraction"].to_numpy(dtype=float)
            g = series["gain"].to_numpy(dtype=float)
            err = np.vstack([g - series["ci_low"].to_numpy(dtype=float), series["ci_high"].to_numpy(dtype=float) - g])
            ax.errorbar(x, g, yerr=np.nan_to_num(err), marker="o", capsize=3, label=f"{method} {use}")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(fractions, [f"{f:g}" for f in fractions])
        ax.set_xlabel("share of each training fold's utterances")
        ax.set_title(clf)
        ax.legend(fontsize=7, loc="best")
    axes[0][0].set_ylabel(f"UAR gain over real data, points ({confidence:.0%} CI)")
    fig.tight_layout()
    save_png(fig, path)
