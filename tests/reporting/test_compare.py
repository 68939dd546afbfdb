"""adan compare: one combination across two runs of a corpus, the speaker as the unit."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from adan_ser.cli import main
from adan_ser.core.errors import AdanError
from adan_ser.reporting.compare import compare_from_files, compare_predictions
from adan_ser.reporting.pool import pool_table
from adan_ser.reporting.significance import significance_table
from tests.reporting.test_speaker_level import CLASSES, _predictions


def _runs(corpus="emodb"):
    """Run B is the plain run; run A is B with its `none` rows replaced by smote's predictions, so A's
    none differs from B's none exactly as smote differs from none inside B."""
    b = _predictions(seeds=(0, 1), corpus=corpus)
    smote = b[b["method"] == "smote"].assign(method="none", train_data="real")
    a = pd.concat([smote, b[b["method"] == "smote"]], ignore_index=True)
    return a, b


def test_a_combination_across_runs_is_tested_as_inside_one_run():
    a, b = _runs()
    table, diffs = compare_predictions(a, b, CLASSES, label_a="norm", label_b="plain", n_resamples=499,
                                       equivalence_margin=1.0)
    inside = significance_table(b, CLASSES, n_resamples=499, equivalence_margin=1.0)
    none = table[table["method"] == "none@norm"].reset_index(drop=True)
    assert none["ref_method"].eq("none@plain").all() and none["train_data"].eq("real").all()
    for col in ("diff", "ci_low", "ci_high", "p", "mean", "ref_mean", "n_units", "n_seeds"):
        np.testing.assert_allclose(none[col].to_numpy(dtype=float), inside[col].to_numpy(dtype=float))
    same = table[table["method"] == "smote@norm"]
    assert (same["diff"] == 0).all() and (same["p"] == 1).all()  # the same predictions in both runs
    assert (table["family"] == "exploratory").all()
    assert set(diffs["method"]) == {"none@norm", "smote@norm"} and len(diffs) == 2 * 2 * 10 * 2


def test_primary_entries_name_the_labelled_rows_and_pool_across_corpora():
    primary = [{"method": "none@norm", "reference": "none@plain", "classifier": "svm", "train_data": "real"}]
    tables = []
    for corpus in ("emodb", "ravdess"):
        table, diffs = compare_predictions(*_runs(corpus), CLASSES, label_a="norm", label_b="plain",
                                           n_resamples=99, primary=primary)
        picked = table[table["family"] == "primary"]
        assert picked[["method", "metric"]].values.tolist() == [["none@norm", "uar"]]
        assert picked["p_holm"].iloc[0] == picked["p"].iloc[0]  # a family of one
        tables.append(diffs)
    pooled = pool_table(tables, n_resamples=99)
    row = pooled[(pooled["corpus"] == "pooled") & (pooled["family"] == "primary")]
    assert len(row) == 1 and row["n_units"].iloc[0] == 20


@pytest.mark.parametrize("change, message", [
    (dict(label_b="norm"), "both 'norm'"),
    (dict(label_a="a@b"), "--label-a 'a@b'"),
    (dict(label_a=""), "--label-a ''"),
])
def test_labels_must_differ_and_stay_plain(change, message):
    a, b = _runs()
    with pytest.raises(AdanError, match=message):
        compare_predictions(a, b, CLASSES, **{"label_a": "norm", "label_b": "plain", **change})


def test_runs_that_cannot_be_paired_are_refused_with_the_culprit():
    a, b = _runs()
    with pytest.raises(AdanError, match="no combination in common"):
        compare_predictions(a.assign(classifier="dnn"), b, CLASSES, n_resamples=9)
    with pytest.raises(AdanError, match="run A: emodb/IS11/none/real/svm/- seed 0 predicts s0_00.wav twice"):
        compare_predictions(pd.concat([a, a.iloc[:1]]), b, CLASSES, n_resamples=9)
    other = a.assign(file=a["file"].str.replace("_00.wav", "_99.wav"))
    with pytest.raises(AdanError, match="test utterances differ"):
        compare_predictions(other, b, CLASSES, n_resamples=9)
    with pytest.raises(AdanError, match="seeds"):
        compare_predictions(a[a["seed"] == 0], b, CLASSES, n_resamples=9)


def test_a_run_with_fractions_pairs_whole_folds_with_a_run_without(tmp_path):
    a, b = _runs()
    a = pd.concat([a.assign(train_fraction=1.0), a.assign(train_fraction=0.5)], ignore_index=True)
    table, _ = compare_predictions(a, b, CLASSES, label_a="x", label_b="y", n_resamples=9)
    assert set(table["train_fraction"]) == {1.0}


def _write(run: pd.DataFrame, folder):
    folder.mkdir(parents=True)
    for i, (_, part) in enumerate(run.groupby("method", sort=True)):
        part.to_parquet(folder / f"{i:03d}.parquet")


def test_compare_from_files_reads_globs_and_writes_all_or_nothing(tmp_path):
    a, b = _runs()
    _write(a[a["method"] == "none"], tmp_path / "norm" / "part1" / "predictions")
    _write(a[a["method"] == "smote"], tmp_path / "norm" / "part2" / "predictions")
    _write(b, tmp_path / "plain" / "predictions")
    manifest = tmp_path / "manifest.csv"
    b.drop_duplicates("file").assign(emotion=lambda d: d["true"], gender="f", session=lambda d: d["speaker"],
                                     condition="", duration=2.0)[
        ["file", "speaker", "gender", "emotion", "session", "condition", "duration"]].to_csv(manifest, index=False)
    out = tmp_path / "cmp"
    with pytest.raises(AdanError, match="-a .*nothing.*: no such"):
        compare_from_files([str(tmp_path / "nothing" / "*")], [str(tmp_path / "plain" / "predictions")],
                           manifest, out)
    assert not out.exists()
    table = compare_from_files([str(tmp_path / "norm" / "*" / "predictions")], [str(tmp_path / "plain" / "predictions")],
                               manifest, out, label_a="norm", label_b="plain", n_resamples=99)
    assert sorted(p.name for p in out.iterdir()) == ["compare.md", "forest.png", "forest_exploratory.png",
                                                   "significance.csv", "speaker_differences.csv"]
    assert set(table["method"]) == {"none@norm", "smote@norm"}


def test_the_cli_exits_2_naming_a_missing_run(tmp_path):
    result = CliRunner().invoke(main, ["compare", "-a", str(tmp_path / "missing"), "-b", str(tmp_path),
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "missing" in result.output and not (tmp_path / "out").exists()


def test_a_file_that_is_not_evaluates_predictions_is_named(tmp_path):
    from adan_ser.contracts.predictions import load_predictions

    a, _ = _runs()
    a.drop(columns="fold").to_parquet(tmp_path / "nofold.parquet")
    with pytest.raises(AdanError, match=r"nofold.parquet: not a predictions file, it lacks column 'fold'"):
        load_predictions(tmp_path / "nofold.parquet")
    (tmp_path / "text.parquet").write_text("file,speaker\n")
    with pytest.raises(AdanError, match=r"text.parquet: not a predictions parquet file"):
        load_predictions(tmp_path / "text.parquet")


@pytest.mark.parametrize("command", ["compare", "pool"])
def test_an_output_folder_holding_the_params_file_or_a_run_is_refused(tmp_path, command):
    """compare and pool replace their -o folder whole: a folder that holds the params file they read,
    or one of their runs, is refused before any work, naming it, and left as it was."""
    import shutil

    out = tmp_path / "family"
    out.mkdir()
    shutil.copy("params.yaml", out / "params.yaml")
    (out / "run").mkdir()
    runs = ["-a", str(out / "run"), "-b", str(tmp_path)] if command == "compare" else [str(out / "run"), str(tmp_path)]
    result = CliRunner().invoke(main, ["--params", str(out / "params.yaml"), command, *runs, "-o", str(out)])
    assert result.exit_code == 2
    assert "params file" in result.output and "params.yaml" in result.output and "write elsewhere" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["params.yaml", "run"]
    shutil.copy("params.yaml", tmp_path / "elsewhere.yaml")
    result = CliRunner().invoke(main, ["--params", str(tmp_path / "elsewhere.yaml"), command, *runs, "-o", str(out)])
    assert result.exit_code == 2 and f"run {out / 'run'}" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["params.yaml", "run"]
