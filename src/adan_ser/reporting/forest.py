"""Forest plots of the significance table: the primary comparisons large, each labelled with its
verdict (``forest.png``); the exploratory rows in a separate picture, grouped by classifier, training
fraction and reference (``forest_exploratory.png``); and the pooled forest plot of ``adan pool``
(one row per corpus and a pooled row per comparison). Differences in percentage points: the mean
over units of the per-unit difference, with its two-stage bootstrap interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.reporting.figures import empty_png, pyplot, save_png

#: Colour of each verdict (significance.py: better / worse / equivalent / inconclusive).
VERDICT_COLOURS = {"better": "tab:green", "worse": "tab:red", "equivalent": "tab:blue", "inconclusive": "0.45"}


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


def _interval_text(row) -> str:
    """``+2.55 [+1.46, +3.79], p Holm 0.017``; the interval left out where it could not be drawn."""
    ci = f" [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]" if row["ci_low"] == row["ci_low"] else ""
    p = f", p Holm {row['p_holm']:.3g}" if row["p_holm"] == row["p_holm"] else ""
    return f"{row['diff']:+.2f}{ci}{p}"


def _draw_rows(ax, rows: pd.DataFrame, labels: list[str], *, fontsize: float, text: bool) -> None:
    """Dots and interval bars of ``rows`` top to bottom, coloured by verdict, labelled ``labels``."""
    y = np.arange(len(rows))[::-1].astype(float)
    d = rows["diff"].to_numpy(dtype=float)
    lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    colours = [VERDICT_COLOURS.get(v, "0.45") for v in rows["verdict"]]
    for yi, di, l, h, c in zip(y, d, lo, hi, colours):
        if l == l:
            ax.plot([l, h], [yi, yi], color=c, lw=2.0, solid_capstyle="butt")
        ax.plot([di], [yi], "o", color=c, ms=fontsize * 0.7, zorder=3)
    margin = rows["margin"].iloc[0] if "margin" in rows else float("nan")
    if margin == margin:
        ax.axvspan(-margin, margin, color="tab:blue", alpha=0.08, lw=0)  # the equivalence region
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_yticks(y, labels, fontsize=fontsize)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if text:  # the figures and the verdict beside each row, right of the data
        for yi, (_, r) in zip(y, rows.iterrows()):
            ax.annotate(f"{_interval_text(r)}  {r['verdict'].upper()}", (1.02, yi), xycoords=("axes fraction", "data"),
                        va="center", fontsize=fontsize * 0.85, color=VERDICT_COLOURS.get(r["verdict"], "0.45"))


def forest_plot(table: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write a PNG of the primary comparisons (``family`` = primary): one large row per comparison ×
    metric, its difference and interval coloured by verdict, the figures and the verdict beside it;
    the equivalence region shaded. Without primary rows, a picture that says so."""
    plt = pyplot()

    if table.empty:
        # the plot is a declared DVC output: say why it is empty rather than leave it missing
        empty_png(path, "no comparisons: only reference rows were evaluated")
        return
    primary = table[table["family"] == "primary"] if "family" in table else table.iloc[:0]
    if primary.empty:
        empty_png(path, "no primary comparisons declared (eval.primary): every row is exploratory,\n"
                        "see forest_exploratory.png; no finding is claimed")
        return
    unit = primary["unit"].iloc[0]
    labels = [_two_lines(r) for _, r in primary.iterrows()]
    height = 0.9 * len(primary) + 1.6
    fig, ax = plt.subplots(figsize=(14, height))
    _draw_rows(ax, primary, labels, fontsize=12, text=True)
    ax.set_xlabel(f"difference, points: mean over {unit}s of the per-{unit} difference\n"
                  f"({confidence:.0%} CI: {unit}s, then seeds resampled; shaded: equivalence margin)", fontsize=11)
    ax.set_title(f"Primary comparisons ({len(primary)}; Holm within this family)", fontsize=13)
    # fixed margins: labels on the left, the figures and verdicts on the right, the data between
    fig.subplots_adjust(left=0.27, right=0.66, top=1 - 0.55 / height, bottom=0.95 / height)
    save_png(fig, path)


def _two_lines(row) -> str:
    """``svm audio_mix real+synthetic`` / ``vs none real, fraction 1 (UAR)``: a label that stays narrow."""
    label = comparison_label(row)
    first, _, rest = label.partition(" vs ")
    return f"{first}\nvs {rest} ({row['metric'].upper()})"


def exploratory_plot(table: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write a PNG of the exploratory rows of one metric (UAR where the table has it), one panel per
    classifier × training fraction × reference, rows labelled by method and train data (and head)."""
    plt = pyplot()

    rows = table[table["family"] != "primary"] if "family" in table else table
    metric = "uar" if (rows["metric"] == "uar").any() else "wa"
    rows = rows[rows["metric"] == metric]
    if rows.empty:
        empty_png(path, "no exploratory comparisons")
        return
    by = ["classifier"] + ([FRACTION] if FRACTION in rows else []) + ["ref_method", "ref_train_data", "ref_head"]
    groups = list(rows.groupby(by, sort=False))
    sizes = [len(g) for _, g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, 0.32 * sum(sizes) + 1.0 * len(groups) + 1.0),
                             sharex=True, squeeze=False, gridspec_kw={"height_ratios": [s + 1.2 for s in sizes]})
    for ax, (key, g) in zip(axes[:, 0], groups):
        key = dict(zip(by, key))
        labels = [" ".join([r["method"], r["train_data"]] + ([r["head"]] if r["head"] not in ("softmax", "-") else []))
                  for _, r in g.iterrows()]
        _draw_rows(ax, g, labels, fontsize=9, text=False)
        ref = " ".join([key["ref_method"], key["ref_train_data"]]
                       + ([key["ref_head"]] if key["ref_head"] not in ("softmax", "-") else []))
        title = f"{key['classifier']} vs {ref}" + (f", fraction {float(key[FRACTION]):g}" if FRACTION in key else "")
        ax.set_title(title, fontsize=10, loc="left")
    unit = rows["unit"].iloc[0]
    axes[-1, 0].set_xlabel(f"{metric.upper()} difference, points (mean over {unit}s; {confidence:.0%} CI)", fontsize=9)
    fig.suptitle(f"Exploratory comparisons, {metric.upper()}: verdicts within the exploratory family, "
                 "never findings", fontsize=10)
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLOURS.items()]
    fig.legend(handles=handles, loc="upper right", fontsize=8, ncol=4, frameon=False, bbox_to_anchor=(1.0, 0.985))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save_png(fig, path)


def pooled_forest_plot(table: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write the pooled forest plot of :func:`adan_ser.reporting.pool.pool_table`: per comparison
    (primary ones, else all), one row per corpus and a pooled row (a diamond), coloured by verdict."""
    plt = pyplot()

    if table.empty:
        empty_png(path, "no comparison common to the pooled runs")
        return
    shown = table[table["family"] == "primary"]
    shown = shown if len(shown) else table
    comps = list(shown.groupby("comparison", sort=False))
    n_rows = sum(len(g) for _, g in comps)
    fig, axes = plt.subplots(len(comps), 1, figsize=(13, 0.55 * n_rows + 1.1 * len(comps) + 1.0), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [len(g) + 1 for _, g in comps]})
    for ax, (name, g) in zip(axes[:, 0], comps):
        labels = [f"{r['corpus']} ({int(r['n_units'])} {r['unit']}s)" for _, r in g.iterrows()]
        _draw_rows(ax, g, labels, fontsize=11, text=True)
        pooled_y = [i for i, c in zip(range(len(g))[::-1], g["corpus"]) if c == "pooled"]
        for yi, (_, r) in zip(pooled_y, g[g["corpus"] == "pooled"].iterrows()):
            ax.plot([r["diff"]], [yi], "D", color=VERDICT_COLOURS.get(r["verdict"], "0.45"), ms=11, zorder=4)
        ax.set_title(f"{name} ({g['family'].iloc[0]})", fontsize=11, loc="left")
    axes[-1, 0].set_xlabel(f"difference, points: mean over units of the per-unit difference ({confidence:.0%} CI)",
                           fontsize=11)
    fig.tight_layout()  # counts the figures and verdicts written right of each panel
    save_png(fig, path)
