import json

import pandas as pd
import pytest

from adan_ser.evaluation.report import RESULT_COLUMNS, summarize, to_markdown, write_report


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
    folds = pd.read_csv(tmp_path / "folds.csv")
    assert len(folds) == 4 and set(folds["fold"]) == {"f0", "f1"} and folds["n"].sum() == 8
    conf = pd.read_csv(tmp_path / "plots" / "confusion" / "svm---none-real.csv")
    assert list(conf.columns) == ["actual", "predicted"] and len(conf) == 8
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temp files left behind


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


def test_heads_get_their_own_table_and_leave_the_comparison_narrow(tmp_path):
    from adan_ser.evaluation.report import comparison_table, head_table

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
