"""Forest plots of the significance table: the primary comparisons large, each labelled with its
verdict (``forest.png``); the exploratory rows in a separate picture, grouped by classifier, training
fraction and reference (``forest_exploratory.png``); and the pooled forest plot of ``adan pool``
(one row per corpus and a pooled row per comparison). Differences in percentage points: the mean
over units of the per-unit difference, with its two-stage bootstrap interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adan_ser.contracts.names import PLAIN_HEADS
from adan_ser.contracts.results import FRACTION
from adan_ser.reporting.figures import empty_png, pyplot, save_png

#: Colour of each verdict (significance.py: better / worse / equivalent / inconclusive).
VERDICT_COLOURS = {"better": "tab:green", "worse": "tab:red", "equivalent": "tab:blue", "inconclusive": "0.45"}


def data_label(method: str, train_data: str, head: str) -> str:
    """``smote real+synthetic`` (``... arcface`` with a margin head; a plain head is not shown)."""
    return " ".join([method, train_data] + ([head] if head not in PLAIN_HEADS else []))


def comparison_label(row) -> str:
    """``dnn smote real+synthetic vs none real`` (heads shown only when not the plain one; the
    training fraction, ``, fraction 0.25``, where the table has that column)."""
    label = (f"{row['classifier']} {data_label(row['method'], row['train_data'], row['head'])} vs "
             f"{data_label(row['ref_method'], row['ref_train_data'], row['ref_head'])}")
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
    """Write a PNG of the exploratory rows of one metric (UAR where the table has it): a grid with one
    row of panels per classifier × reference and one column per training fraction, each panel's rows
    labelled by method and train data (and head), the same labels across a row of panels."""
    plt = pyplot()

    rows = table[table["family"] != "primary"] if "family" in table else table
    metric = "uar" if (rows["metric"] == "uar").any() else "wa"
    rows = rows[rows["metric"] == metric].copy()
    if rows.empty:
        empty_png(path, "no exploratory comparisons")
        return

    rows["label"] = [data_label(r["method"], r["train_data"], r["head"]) for _, r in rows.iterrows()]
    by_row = ["classifier", "ref_method", "ref_train_data", "ref_head"]
    fractions = sorted(rows[FRACTION].unique()) if FRACTION in rows else [None]
    row_keys = list(dict.fromkeys(map(tuple, rows[by_row].itertuples(index=False))))
    labels = {k: list(dict.fromkeys(rows.loc[(rows[by_row] == pd.Series(k, index=by_row)).all(axis=1), "label"]))
              for k in row_keys}
    sizes = [len(labels[k]) for k in row_keys]
    fig, axes = plt.subplots(len(row_keys), len(fractions), squeeze=False, sharex=True,
                             figsize=(5.0 * len(fractions) + 2.6, 0.3 * sum(sizes) + 0.9 * len(row_keys) + 1.3),
                             gridspec_kw={"height_ratios": [n + 1.5 for n in sizes]})
    for r, key in enumerate(row_keys):
        in_row = rows[(rows[by_row] == pd.Series(key, index=by_row)).all(axis=1)]
        names = labels[key]
        for c, fraction in enumerate(fractions):
            ax = axes[r, c]
            part = in_row if fraction is None else in_row[in_row[FRACTION] == fraction]
            # every label of the row of panels, blank where this fraction lacks it, so rows line up
            part = part.set_index("label").reindex(names).reset_index()
            part["verdict"] = part["verdict"].fillna("inconclusive")
            _draw_rows(ax, part, names if c == 0 else [""] * len(names), fontsize=9, text=False)
            ref = data_label(key[1], key[2], key[3])
            title = f"{key[0]} vs {ref}" + ("" if fraction is None else f", fraction {float(fraction):g}")
            ax.set_title(title, fontsize=10, loc="left")
    unit = rows["unit"].iloc[0]
    for ax in axes[-1]:
        ax.set_xlabel(f"{metric.upper()} difference, points (mean over {unit}s; {confidence:.0%} CI)", fontsize=9)
    fig.suptitle(f"Exploratory comparisons, {metric.upper()}: verdicts within the exploratory family, "
                 "never findings", fontsize=10, x=0.01, ha="left")
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", fontsize=8, ncol=4, frameon=False, bbox_to_anchor=(0.5, 0.0))
    bottom = 0.45 / fig.get_figheight()  # room for the legend under the x labels
    fig.tight_layout(rect=(0, bottom, 1, 1 - 0.35 / fig.get_figheight()))
    save_png(fig, path)


def pooled_forest_plot(table: pd.DataFrame, path: str | Path, confidence: float = 0.95) -> None:
    """Write the pooled forest plot of :func:`adan_ser.reporting.pool.pool_table`: per primary
    comparison, one row per corpus and a pooled row (a diamond), coloured by verdict. Without primary
    rows, the pooled rows in :func:`exploratory_plot`'s grid (one metric, UAR where present)."""
    plt = pyplot()

    if table.empty:
        empty_png(path, "no comparison common to the pooled runs")
        return
    shown = table[table["family"] == "primary"]
    if shown.empty:
        # a panel per corpus row of every comparison in both metrics grows a pool of two 44-row reports
        # to a picture 24,000 pixels tall; the per-corpus figures stay in pooled.csv and pooled.md
        exploratory_plot(table[table["corpus"] == "pooled"], path, confidence=confidence)
        return
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
