import json

import pandas as pd
import pytest

from adan_ser.reporting.report import (
    KEY,
    RESULT_COLUMNS,
    summarize,
    to_markdown,
    write_report,
)


def _pred():
    rows = []
    for seed in (0, 1):
        for fold, (t, p) in enumerate([("a", "a"), ("b", "b"), ("a", "b"), ("b", "b")]):
            rows.append(dict(corpus="c", feature_set="IS11", method="none", train_data="real",
                             classifier="svm", head="-", seed=seed, fold=f"f{fold % 2}",
                             file=f"{fold}.wav", speaker="s", true=t, pred=p if seed == 0 else t))
    return pd.DataFrame(rows)


def test_summary_columns_and_mean_over_seeds():
    res = summarize(_pred(), ["a", "b"])
    assert list(res.columns) == RESULT_COLUMNS
    # seed 0: 3/4 right, UAR (50 + 100)/2 = 75; seed 1: all right → means 87.5 and 87.5
    assert res.loc[0, "wa"] == pytest.approx(87.5)
    assert res.loc[0, "uar"] == pytest.approx(87.5)
    assert res.loc[0, "n_folds"] == 2


def test_write_report_files(tmp_path):
    write_report(_pred(), ["a", "b"], tmp_path)
    assert (tmp_path / "results.csv").is_file()
    md = (tmp_path / "results.md").read_text()
    assert md.splitlines()[0].startswith("| corpus | feature_set")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["svm---none-real"]) == {"wa", "uar", "recall"}
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs.columns) == KEY + ["seed", "fold", "speakers", "wa", "uar", "n", "solver"]
    assert len(runs) == 4 and set(runs["fold"]) == {"f0", "f1"} and runs["n"].sum() == 8
    assert set(runs["speakers"]) == {"s"}
    conf = pd.read_csv(tmp_path / "plots" / "confusion" / "svm---none-real.csv")
    assert list(conf.columns) == ["actual", "predicted"] and len(conf) == 8
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temp files left behind


def test_runs_record_the_folds_svm_solver(tmp_path):
    pred = _pred()
    pred["solver"] = ["libsvm"] * 4 + ["liblinear"] * 4  # seed 0 small folds, seed 1 large ones
    write_report(pred, ["a", "b"], tmp_path)
    runs = pd.read_csv(tmp_path / "runs.csv", keep_default_na=False)
    assert dict(zip(runs["seed"], runs["solver"])) == {0: "libsvm", 1: "liblinear"}
    write_report(_pred(), ["a", "b"], tmp_path / "old")  # predictions written before the column
    assert set(pd.read_csv(tmp_path / "old" / "runs.csv", keep_default_na=False)["solver"]) == {""}


def test_markdown_formats_floats():
    md = to_markdown(pd.DataFrame({"x": ["a"], "wa": [75.0]}))
    assert "| a | 75.00 |" in md


def test_quality_section_only_for_evaluated_augmenters(tmp_path):
    quality = pd.DataFrame([{"fold": "f0", "method": "none", "two_sample_acc": float("nan"),
                             "nn_ratio": float("nan"), "copies_pct": float("nan"), "n_synthetic": 0}])
    write_report(_pred(), ["a", "b"], tmp_path, quality=quality)
    assert "Quality" not in (tmp_path / "results.md").read_text()
    assert "quality" not in json.loads((tmp_path / "metrics.json").read_text())
    pred = _pred()
    syn = pred.assign(method="smote", train_data="synthetic")
    quality["method"] = "smote"
    quality[["two_sample_acc", "nn_ratio", "copies_pct"]] = [55.0, 1.1, 0.0]
    write_report(pd.concat([pred, syn]), ["a", "b"], tmp_path, quality=quality)
    q = json.loads((tmp_path / "metrics.json").read_text())["quality"]["smote"]
    assert q["two_sample_acc"] == 55.0 and q["tstr_uar_svm"] == 87.5


def _compared(n_speakers=6, seeds=(0, 1, 2)):
    """none vs smote for one DNN: smote fixes every error of the baseline on every speaker."""
    rows = []
    for seed in seeds:
        for s in range(n_speakers):
            for u in range(6):
                t = "ab"[u % 2]
                wrong = u < 3 - (seed % 2)  # baseline misses 2 or 3 of 6 per speaker, depending on seed
                for method, use, pred in (("none", "real", ("b" if t == "a" else "a") if wrong else t),
                                          ("smote", "real+synthetic", t)):
                    rows.append(dict(corpus="c", feature_set="f", method=method, train_data=use,
                                     classifier="dnn", head="softmax", seed=seed, fold=f"s{s}",
                                     file=f"s{s}_{u}.wav", speaker=f"s{s}", true=t, pred=pred))
    return pd.DataFrame(rows)


def test_significance_outputs_and_markers(tmp_path):
    # 8 speakers: the exact sign-flip floor 2/256 stays below alpha after Holm over WA and UAR
    # (6 speakers, 2/64 · 2 > 0.05, could not: the speaker, not the speaker × seed pair, is the unit)
    primary = [{"method": "smote", "classifier": "dnn", "train_data": "real+synthetic"}]
    write_report(_compared(n_speakers=8), ["a", "b"], tmp_path, n_resamples=999, primary=primary)
    table = pd.read_csv(tmp_path / "significance.csv")
    assert list(table["metric"]) == ["wa", "uar"]
    assert list(table["family"]) == ["exploratory", "primary"]  # primary entries are UAR by default
    assert table["significant"].all() and (table["diff"] > 0).all()
    assert list(table["verdict"]) == ["better", "better"] and set(table["unit"]) == {"speaker"}
    assert (tmp_path / "plots" / "significance" / "forest.png").stat().st_size > 0
    assert (tmp_path / "plots" / "significance" / "forest_exploratory.png").stat().st_size > 0
    diffs = pd.read_csv(tmp_path / "speaker_differences.csv")
    assert len(diffs) == 2 * 8 * 3 and set(diffs["unit_id"]) == {f"s{s}" for s in range(8)}
    md = (tmp_path / "results.md").read_text()
    # baseline: seeds 0 and 2 miss 3/6, seed 1 misses 2/6 → WA 50, 66.67, 50 → 55.56 ± 9.62
    assert "55.56 ± 9.62" in md
    assert "100.00 ± 0.00 ▲" in md and "100.00 ± 0.00 △" in md  # UAR primary, WA exploratory
    assert "Paired comparisons" in md and "dnn smote real+synthetic vs none real" in md


def test_a_primary_entry_matching_nothing_is_named(tmp_path):
    from adan_ser.core.errors import AdanError

    primary = [{"method": "smote", "classifier": "dnn", "train_data": "real+synthetic"},
               {"method": "adan", "classifier": "dnn", "train_data": "real+synthetic"}]
    with pytest.raises(AdanError, match=r"eval.primary\[1\] \(adan vs none, dnn, real\+synthetic"):
        write_report(_compared(), ["a", "b"], tmp_path, n_resamples=99, primary=primary)


def test_one_seed_shows_no_spread(tmp_path):
    write_report(_compared(seeds=(0,)), ["a", "b"], tmp_path, n_resamples=999)
    md = (tmp_path / "results.md").read_text()
    assert "±" not in md
    table = pd.read_csv(tmp_path / "significance.csv")
    assert table["std"].isna().all() and (table["n_seeds"] == 1).all()


def test_heads_get_their_own_table_and_leave_the_comparison_narrow(tmp_path):
    from adan_ser.reporting.report import comparison_table, head_table

    base = _pred()
    parts = [base]
    for head in ("softmax", "a-softmax", "arcface+focal"):
        parts.append(base.assign(classifier="dnn", head=head))
    aug = base.assign(method="adan", train_data="real+synthetic")
    parts += [aug, aug.assign(classifier="dnn", head="softmax"), aug.assign(classifier="dnn", head="a-softmax")]
    res = summarize(pd.concat(parts, ignore_index=True), ["a", "b"])
    comp = comparison_table(res)
    assert list(comp.columns) == ["method", "train_data", "svm WA", "svm UAR", "dnn WA", "dnn UAR"]
    heads = head_table(res)
    assert list(heads["head"]) == ["softmax", "a-softmax", "arcface+focal"]
    assert list(heads.columns) == ["classifier", "head", "real WA", "real UAR",
                                   "adan real+synthetic WA", "adan real+synthetic UAR"]
    assert heads["adan real+synthetic UAR"].isna().tolist() == [False, False, True]
    assert head_table(summarize(base, ["a", "b"])).empty
    write_report(pd.concat(parts, ignore_index=True), ["a", "b"], tmp_path)
    assert "| dnn | arcface+focal |" in (tmp_path / "results.md").read_text()


def test_cli_report_pools_the_predictions_folder_and_the_spectro_file(tmp_path):
    """evaluate's folder (several seeds, score columns) + evaluate-spectro's file (one seed, no
    scores, two heads): every row is reported, each compared only with its own references."""
    import yaml

    from adan_ser.cli import main
    from adan_ser.contracts.predictions import write_predictions

    feats = _compared()
    feats["score_a"], feats["score_b"] = 0.5, -0.5
    write_predictions(feats, tmp_path / "predictions")
    plain = _compared(seeds=(0,))
    plain = plain[plain["method"] == "none"].assign(feature_set="spectrogram-mel", classifier="crnn")
    spectro = pd.concat([plain, plain.assign(head="arcface", pred=plain["true"])], ignore_index=True)
    spectro.to_parquet(tmp_path / "spectro.parquet", index=False)
    manifest = feats[["file", "speaker", "true"]].drop_duplicates("file").rename(columns={"true": "emotion"})
    manifest = manifest.assign(gender="f", session=manifest["speaker"], condition="", duration=1.0)
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 0, "eval": {"seeds": [0, 1, 2], "n_resamples": 99}}))
    out = tmp_path / "results"
    assert main(["--params", str(tmp_path / "params.yaml"), "report", "-p", str(tmp_path / "predictions"),
                 str(tmp_path / "spectro.parquet"), "-m", str(tmp_path / "manifest.csv"), "-o", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert results[["classifier", "head"]].values.tolist() == [
        ["dnn", "softmax"], ["dnn", "softmax"], ["crnn", "softmax"], ["crnn", "arcface"]]
    table = pd.read_csv(out / "significance.csv")
    pairs = set(zip(table["classifier"], table["method"], table["head"], table["ref_head"], table["n_seeds"]))
    assert pairs == {("dnn", "smote", "softmax", "softmax", 3), ("crnn", "none", "arcface", "softmax", 1)}
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs.loc[runs["classifier"] == "crnn", "seed"]) == {0}
    md = (out / "results.md").read_text()
    assert "Paired comparisons" in md and "Classifier heads and losses" in md
