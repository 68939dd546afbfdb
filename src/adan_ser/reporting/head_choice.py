"""Choose each classifier's margin head without looking at the test folds.

When several heads ran for one classifier on the same data, "its best margin head" must not be the
one with the best test UAR: that picks the luckiest of many draws and reports it as if it had been
chosen in advance. Here the choice uses what every fold model saw before the test fold: the UAR on
its inner validation speaker at the kept epoch (``val_uar`` in the predictions, percent), averaged
over seeds × folds (``n_val_speakers``: how many distinct speakers those fits validated on). The head with the highest mean validation UAR among the non-plain heads is the
chosen one; its test WA / UAR and its paired comparison with the plain head (from the
significance table) are reported beside the plain head's, together with the test-best head for
transparency.
"""

from __future__ import annotations

import pandas as pd

from adan_ser.contracts.names import PLAIN_HEADS
from adan_ser.contracts.results import KEY, key_columns

GROUP = KEY[:-1]
CHOICE_STATS = [
    "plain_head", "plain_val_uar", "plain_wa", "plain_uar",
    "head", "val_uar", "wa", "uar", "diff_uar", "p_holm_uar", "n_heads", "test_best_head", "n_val_speakers",
]
#: Columns without ``train_fraction``; with it (a learning-curve run) it follows GROUP.
CHOICE_COLUMNS = GROUP + CHOICE_STATS


def validation_uar(predictions: pd.DataFrame) -> pd.DataFrame:
    """KEY + ``val_uar``: mean over a combination's fits (seed × fold) of their validation UAR (%),
    and ``n_val_speakers``: how many distinct speakers those fits validated on (from the
    ``val_speakers`` column, space-separated per fit; NaN for predictions without it).

    ``predictions``: utterance rows carrying ``val_uar`` (one value per fit, repeated on its
    rows); rows without it (NaN, e.g. the SVM) are left out.
    """
    key = key_columns(predictions)
    if "val_uar" not in predictions:
        return pd.DataFrame(columns=key + ["val_uar", "n_val_speakers"])
    fits = predictions.dropna(subset=["val_uar"]).drop_duplicates(key + ["seed", "fold"])
    out = fits.groupby(key, sort=False)["val_uar"].mean().reset_index()
    if "val_speakers" not in fits:
        return out.assign(n_val_speakers=float("nan"))
    distinct = fits.groupby(key, sort=False)["val_speakers"].agg(
        lambda v: len({s for held in v.fillna("") for s in str(held).split()}))
    return out.merge(distinct.rename("n_val_speakers").reset_index(), on=key, how="left")


def chosen_heads(predictions: pd.DataFrame, results: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """One row per classifier × data with a plain head and ≥ 1 margin head that carry ``val_uar``.

    ``results``: :func:`report.summarize`'s table (WA / UAR in percent); ``table``: the
    significance table (``diff_uar`` and ``p_holm_uar`` come from its UAR row of the chosen head
    against the plain head on the same data; NaN when absent). Ties in validation UAR go to the
    head listed first.
    """
    val = validation_uar(predictions)
    key = key_columns(results)
    group = [c for c in key if c != "head"]
    res = results.merge(val, on=key, how="inner")
    rows = []
    for values, part in res.groupby(group, sort=False):
        plain = part[part["head"].isin(PLAIN_HEADS)]
        margin = part[~part["head"].isin(PLAIN_HEADS)]
        if plain.empty or margin.empty:
            continue
        plain, best = plain.iloc[0], margin.loc[margin["val_uar"].idxmax()]
        hit = table[(table["metric"] == "uar") & (table["ref_head"] == plain["head"])
                    & (table["ref_method"] == best["method"]) & (table["ref_train_data"] == best["train_data"])
                    & (table[key] == best[key].to_numpy()).all(axis=1)] if len(table) else table
        rows.append(dict(
            zip(group, values),
            plain_head=plain["head"], plain_val_uar=round(float(plain["val_uar"]), 2),
            plain_wa=plain["wa"], plain_uar=plain["uar"],
            head=best["head"], val_uar=round(float(best["val_uar"]), 2), wa=best["wa"], uar=best["uar"],
            diff_uar=round(float(hit.iloc[0]["diff"]), 2) if len(hit) else float("nan"),
            p_holm_uar=round(float(hit.iloc[0]["p_holm"]), 4) if len(hit) else float("nan"),
            n_heads=len(margin), test_best_head=margin.loc[margin["uar"].idxmax(), "head"],
            n_val_speakers=best["n_val_speakers"],
        ))
    return pd.DataFrame(rows, columns=group + CHOICE_STATS)
