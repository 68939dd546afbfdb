"""Two runs of one corpus compared with the speaker as the unit (``adan compare``).

A run's predictions name their combination (method, train data, classifier, head, training fraction)
but not the settings two runs of the same corpus may differ in: speaker normalisation
(``classify.normalise``), the scaler's rows, a classifier's hyperparameters. Here each combination
present in both runs is compared with itself across the runs: the same seeds and test utterances
are required (so the same folds), and every difference, interval and test is that of
:mod:`adan_ser.reporting.significance` with the test speaker as the unit.

Rows are named ``<method>@<label>``: run A's combination against run B's, e.g. ``none@speaker`` vs
``none@none`` for speaker-normalised real data against the plain run. ``eval.primary`` entries
name them so (``{method: none@speaker, reference: none@none, classifier: svm, train_data: real}``);
every other row is exploratory. The per-speaker differences have the layout of the report's
``speaker_differences.csv``, so ``adan pool`` pools two corpora's comparisons like two reports.
"""

from __future__ import annotations

from glob import glob, has_magic
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from adan_ser.contracts.results import FRACTION, fill_fraction, key_columns
from adan_ser.core.errors import AdanError
from adan_ser.core.io import atomic_dir, write_csv, write_text

#: What joins a method and its run's label in the compared rows.
SEPARATOR = "@"


def expand_paths(patterns: Sequence[str], option: str) -> list[str]:
    """Each pattern's matches, sorted (a plain path stands for itself); a pattern that matches
    nothing → AdanError naming ``option`` and the pattern."""
    out = []
    for pattern in patterns:
        found = sorted(glob(pattern)) if has_magic(pattern) else [pattern] if Path(pattern).exists() else []
        if not found:
            raise AdanError(f"{option} {pattern}: no such predictions file or folder")
        out += found
    return out


def _labelled(predictions: pd.DataFrame, label: str, name: str) -> pd.DataFrame:
    """``predictions`` with each method renamed ``<method>@<label>``; a (combination, seed, utterance)
    given twice (e.g. one part's rows passed twice) → AdanError naming it."""
    cols = key_columns(predictions)
    twice = predictions.duplicated(cols + ["seed", "file"])
    if twice.any():
        row = predictions[twice].iloc[0]
        raise AdanError(f"run {name}: {'/'.join(str(row[c]) for c in cols)} seed {row['seed']} predicts "
                        f"{row['file']} twice: give each combination's predictions once")
    return predictions.assign(method=predictions["method"].astype(str) + SEPARATOR + label)


def compare_predictions(a: pd.DataFrame, b: pd.DataFrame, classes: Sequence[str], *, label_a: str = "a",
                        label_b: str = "b", alpha: float = 0.05, confidence: float = 0.95,
                        n_resamples: int = 9999, seed: int = 0, primary: Sequence[Mapping] = (),
                        equivalence_margin: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(significance table, per-unit differences) of every combination of run ``a`` against the same
    combination of run ``b`` (prediction tables of one corpus and feature set, same seeds and test
    utterances per combination). Labels must differ and not contain ``@``; no common combination
    → AdanError."""
    from adan_ser.reporting.significance import paired_counts, significance_table, unit_differences

    for label, option in ((label_a, "--label-a"), (label_b, "--label-b")):
        if not label or SEPARATOR in label:
            raise AdanError(f"{option} {label!r}: give a non-empty label without {SEPARATOR!r}")
    if label_a == label_b:
        raise AdanError(f"--label-a and --label-b are both {label_a!r}: the two runs need different labels")
    a, b = fill_fraction(a), fill_fraction(b)
    if (FRACTION in a) != (FRACTION in b):  # a table without the column trained on whole folds
        a, b = (t if FRACTION in t else t.assign(**{FRACTION: 1.0}) for t in (a, b))
    cols = key_columns(a)
    keys_a, keys_b = (pd.MultiIndex.from_frame(t[cols]) for t in (a, b))
    unique_a = keys_a.unique()
    common = unique_a[unique_a.isin(keys_b)]  # in run A's order
    if common.empty:
        raise AdanError("the two runs have no combination in common (corpus, feature set, method, train data, "
                        "classifier, head, fraction)")
    method = cols.index("method")

    def named(key, label):
        return key[:method] + (f"{key[method]}{SEPARATOR}{label}",) + key[method + 1:]

    both = pd.concat([_labelled(t[keys.isin(common)], label, name)
                      for t, keys, label, name in ((a, keys_a, label_a, "A"), (b, keys_b, label_b, "B"))],
                     ignore_index=True)
    pairs = [(named(k, label_a), named(k, label_b)) for k in common]
    options = dict(primary=primary, pairs=pairs, paired=paired_counts(both, classes, primary=primary, pairs=pairs))
    table = significance_table(both, classes, alpha=alpha, confidence=confidence, n_resamples=n_resamples,
                               seed=seed, equivalence_margin=equivalence_margin, **options)
    return table, unit_differences(both, classes, **options)


def compare_from_files(a_paths: Sequence[str], b_paths: Sequence[str], manifest_path: str | Path,
                       out_dir: str | Path, *, label_a: str = "a", label_b: str = "b", alpha: float = 0.05,
                       confidence: float = 0.95, **options) -> pd.DataFrame:
    """Read both runs' predictions (folders or parquet files, globs allowed), compare them
    (:func:`compare_predictions`, ``options`` passed on) and write ``out_dir`` as a whole:
    significance.csv, speaker_differences.csv, compare.md, forest.png (the primary rows) and
    forest_exploratory.png. Returns the significance table."""
    from adan_ser.contracts.manifest import load_manifest
    from adan_ser.contracts.predictions import load_all
    from adan_ser.reporting.forest import exploratory_plot, forest_plot
    from adan_ser.reporting.report import significance_markdown

    runs = [load_all(expand_paths(paths, option)) for paths, option in ((a_paths, "-a"), (b_paths, "-b"))]
    classes = sorted(load_manifest(manifest_path)["emotion"].unique())
    table, differences = compare_predictions(*runs, classes, label_a=label_a, label_b=label_b, alpha=alpha,
                                             confidence=confidence, **options)
    head = (f"Run A ({label_a}): {', '.join(a_paths)}\n\n"
            f"Run B ({label_b}): {', '.join(b_paths)}\n")
    with atomic_dir(out_dir) as tmp:
        write_csv(table, tmp / "significance.csv")
        write_csv(differences, tmp / "speaker_differences.csv")
        write_text(head + significance_markdown(table, alpha, confidence), tmp / "compare.md")
        forest_plot(table, tmp / "forest.png", confidence=confidence)
        exploratory_plot(table, tmp / "forest_exploratory.png", confidence=confidence)
    return table
