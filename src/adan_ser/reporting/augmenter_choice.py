"""Choose an augmenter (method or configuration) without looking at the test speakers.

Each fold's augmenter of a run seed is fitted without the training speakers the DNN of that seed
holds out for early stopping (``classify.dnn.val_groups``). Those speakers are unseen by the
augmenter and are not test speakers, so the augment stage measures every synthetic set on their real
rows (quality.csv, :mod:`adan_ser.augment.measures.diagnostics`): the UAR (percent) of a linear SVM trained on
the synthetic set alone (``val_synth_svm_uar``), on the augmenter's real training rows alone
(``val_real_svm_uar``) and on both (``val_mixed_svm_uar``).

:func:`augmenter_table` averages them per method (and training fraction) over seeds × folds, with
``spread_ratio`` (synthetic over real per-class spread, training rows), and puts two bars on a set
before it may be chosen: it is varied (``spread_ratio`` ≥ :data:`SPREAD_BAR`, no mode collapse) and
it carries the classes on its own (``synth_real_ratio`` = mean ``val_synth_svm_uar`` / mean
``val_real_svm_uar`` ≥ :data:`RATIO_BAR`). Among the methods that meet both, the one with the
highest mean ``val_mixed_svm_uar`` is chosen; when none meets them, the best of all is chosen and
marked as such (``meets_bars`` false on its row). Test results play no part; compare the chosen
method's test figures in results.csv afterwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adan_ser.contracts.results import FRACTION
from adan_ser.contracts.synthetic import VALIDATION_COLUMNS as VALIDATION
#: A synthetic set must be at least this varied (spread ratio) to be chosen.
SPREAD_BAR = 0.8
#: ... and an SVM trained on it alone must reach this share of the real-data SVM's validation UAR.
RATIO_BAR = 0.85

STATS = ["n_fits", "n_val_speakers", *VALIDATION, "synth_real_ratio", "spread_ratio", "meets_bars", "chosen"]
#: Columns without ``train_fraction``; with several fractions it comes first.
CHOICE_COLUMNS = ["method", *STATS]


def augmenter_table(quality: pd.DataFrame | None, spread_bar: float = SPREAD_BAR,
                    ratio_bar: float = RATIO_BAR) -> pd.DataFrame:
    """One row per method (per ``train_fraction`` × method when quality holds several fractions).

    ``quality``: quality.csv rows of one or more methods (one row per seed × fold, as the augment
    stage writes them; ``train_fraction`` missing or NaN counts as 1). Columns:
    ``n_fits`` (seed × fold rows with a finite ``val_mixed_svm_uar``), ``n_val_speakers`` (how many
    distinct speakers those rows were measured on, from their ``val_speakers``; NaN for a
    quality.csv without that column), the mean over those rows of
    each :data:`VALIDATION` column (UAR, percent) and of ``spread_ratio``, ``synth_real_ratio`` (mean
    ``val_synth_svm_uar`` over mean ``val_real_svm_uar``), ``meets_bars`` (``spread_ratio`` ≥
    ``spread_bar`` and ``synth_real_ratio`` ≥ ``ratio_bar``; false where either is NaN) and
    ``chosen`` (per fraction, the method with the highest mean ``val_mixed_svm_uar`` among those
    meeting the bars, else among all; ties go to the method listed first). Rows without any
    validation value (``none``, a run with ``val_groups`` 0) are left out; an empty frame with
    :data:`CHOICE_COLUMNS` when nothing is left or ``quality`` lacks the columns (an older run).
    """
    empty = pd.DataFrame(columns=CHOICE_COLUMNS)
    if quality is None or not len(quality) or not {"method", *VALIDATION} <= set(quality.columns):
        return empty
    q = quality.copy()
    q[FRACTION] = q[FRACTION].fillna(1.0).astype(float) if FRACTION in q else 1.0
    q = q[q["val_mixed_svm_uar"].notna()]
    if q.empty:
        return empty
    if "spread_ratio" not in q:
        q["spread_ratio"] = np.nan
    rows = []
    for (fraction, method), part in q.groupby([FRACTION, "method"], sort=True):
        synth, real = part["val_synth_svm_uar"].mean(), part["val_real_svm_uar"].mean()
        ratio = float(synth / real) if real > 0 else np.nan
        spread = float(part["spread_ratio"].mean())
        held = ({s for v in part["val_speakers"].fillna("") for s in str(v).split()}
                if "val_speakers" in part else None)
        rows.append({FRACTION: fraction, "method": method, "n_fits": int(len(part)),
                     "n_val_speakers": np.nan if held is None else len(held),
                     "val_synth_svm_uar": round(float(synth), 2), "val_real_svm_uar": round(float(real), 2),
                     "val_mixed_svm_uar": round(float(part["val_mixed_svm_uar"].mean()), 2),
                     "synth_real_ratio": round(ratio, 4), "spread_ratio": round(spread, 4),
                     "meets_bars": bool(spread >= spread_bar and ratio >= ratio_bar), "chosen": False})
    table = pd.DataFrame(rows)
    for _, part in table.groupby(FRACTION, sort=False):
        pool = part[part["meets_bars"]] if part["meets_bars"].any() else part
        table.loc[pool["val_mixed_svm_uar"].idxmax(), "chosen"] = True
    if table[FRACTION].nunique() > 1:
        return table[[FRACTION, *CHOICE_COLUMNS]]
    return table[CHOICE_COLUMNS]


def choice_lines(table: pd.DataFrame, spread_bar: float = SPREAD_BAR, ratio_bar: float = RATIO_BAR) -> str:
    """Markdown: one line per fraction naming :func:`augmenter_table`'s chosen method; "" when empty."""
    lines = []
    for _, row in table[table["chosen"].astype(bool)].iterrows():
        where = f"train_fraction {row[FRACTION]:g}: " if FRACTION in table else ""
        why = ("meets both bars" if row["meets_bars"] else
               f"**no method meets the bars** (spread_ratio ≥ {spread_bar:g}, synth/real ≥ {ratio_bar:g}): "
               f"best of all")
        lines.append(f"- {where}chosen augmenter **{row['method']}**: highest mean val_mixed_svm_uar "
                     f"({row['val_mixed_svm_uar']:.2f} %), {why}")
    return "\n".join(lines) + "\n" if lines else ""
