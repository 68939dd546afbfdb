import json

import pandas as pd
import pytest

from adan_ser.evaluation.report import KEY, RESULT_COLUMNS, summarize, to_markdown, write_report


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
    assert list(runs.columns) == KEY + ["seed", "fold", "speakers", "wa", "uar", "n"]
    assert len(runs) == 4 and set(runs["fold"]) == {"f0", "f1"} and runs["n"].sum() == 8
    assert set(runs["speakers"]) == {"s"}
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
    write_report(_compared(), ["a", "b"], tmp_path, n_resamples=999)
    table = pd.read_csv(tmp_path / "significance.csv")
    assert list(table["metric"]) == ["wa", "uar"]
    assert table["significant"].all() and (table["diff"] > 0).all()
    assert (tmp_path / "plots" / "significance" / "forest.png").stat().st_size > 0
    md = (tmp_path / "results.md").read_text()
    # baseline: seeds 0 and 2 miss 3/6, seed 1 misses 2/6 → WA 50, 66.67, 50 → 55.56 ± 9.62
    assert "55.56 ± 9.62" in md and "100.00 ± 0.00 ▲" in md
    assert "Paired comparisons" in md and "dnn smote real+synthetic vs none real" in md


def test_one_seed_shows_no_spread(tmp_path):
    write_report(_compared(seeds=(0,)), ["a", "b"], tmp_path, n_resamples=999)
    md = (tmp_path / "results.md").read_text()
    assert "±" not in md
    table = pd.read_csv(tmp_path / "significance.csv")
    assert table["std"].isna().all() and (table["n_seeds"] == 1).all()
