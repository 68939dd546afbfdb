"""eval.primary and eval.equivalence_margin: one-line errors naming eval.primary[i].key; `adan pool`."""

import pandas as pd
import pytest
import yaml

from adan_ser.core.errors import AdanError
from adan_ser.params import validate_params

GOOD = {"method": "audio_mix", "classifier": "svm", "train_data": "real+synthetic", "fraction": 1.0}


def _eval(**block):
    return validate_params({"eval": block}, source="params.yaml")


def test_primary_and_margin_defaults_and_values():
    p = _eval()
    assert p.eval.primary == [] and p.eval.equivalence_margin == 1.0
    p = _eval(primary=[GOOD, {**GOOD, "reference": "smote", "metric": "wa", "head": "softmax"}],
              equivalence_margin=0)
    assert p.eval.primary[1]["reference"] == "smote" and p.eval.equivalence_margin == 0


@pytest.mark.parametrize("primary, message", [
    ([GOOD] * 7, "eval.primary: 7 comparisons; a primary family holds at most 6"),
    ([GOOD, {**GOOD, "methd": "x"}], "eval.primary[1].methd: unknown key"),
    ([{"method": "smote", "classifier": "svm"}], "eval.primary[0].train_data: missing"),
    ([{**GOOD, "metric": "f1"}], "eval.primary[0].metric: 'f1' is not wa or uar"),
    ([{**GOOD, "fraction": 1.5}], "eval.primary[0].fraction: 1.5 is not a number in (0, 1]"),
    ([{**GOOD, "fraction": "0.5"}], "eval.primary[0].fraction: '0.5' is not a number in (0, 1]"),
    ([{**GOOD, "reference": "audio_mix"}], "eval.primary[0].reference: 'audio_mix' is the method itself"),
    ([GOOD, dict(GOOD)], "eval.primary[1]: repeats eval.primary[0]"),
    (["smote"], "eval.primary[0]: 'smote' is not a mapping"),
    ("smote", "eval.primary: 'smote' is not a list"),
])
def test_bad_primary_is_one_line_naming_the_entry(primary, message):
    with pytest.raises(AdanError) as err:
        _eval(primary=primary)
    assert str(err.value).startswith("params.yaml: " + message) and "\n" not in str(err.value)


def test_negative_margin_is_refused():
    with pytest.raises(AdanError, match="eval.equivalence_margin"):
        _eval(equivalence_margin=-1)


def test_cli_pool_writes_the_pooled_folder(tmp_path):
    from adan_ser.cli import main
    from adan_ser.reporting.significance import unit_differences

    rows = []
    for corpus, n in (("emodb", 3), ("ravdess", 4)):
        for s in range(n):
            for u in range(4):
                t = "ab"[u % 2]
                for method, use, pred in (("none", "real", "a"), ("smote", "real+synthetic", t)):
                    rows.append(dict(corpus=corpus, feature_set="IS10", method=method, train_data=use,
                                     classifier="svm", head="-", seed=0, fold=f"{corpus}{s}",
                                     file=f"{corpus}{s}_{u}.wav", speaker=f"{corpus}{s}", true=t, pred=pred))
    pred = pd.DataFrame(rows)
    runs = []
    for corpus, part in pred.groupby("corpus"):
        (tmp_path / corpus).mkdir()
        unit_differences(part, ["a", "b"]).to_csv(tmp_path / corpus / "speaker_differences.csv", index=False)
        runs.append(str(tmp_path / corpus))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"seed": 0, "eval": {"n_resamples": 99}}))
    out = tmp_path / "pool"
    assert main(["--params", str(params), "pool", *runs, "-o", str(out)]) == 0
    table = pd.read_csv(out / "pooled.csv")
    pooled = table[(table["corpus"] == "pooled") & (table["metric"] == "uar")].iloc[0]
    assert pooled["n_units"] == 7 and pooled["diff"] == pytest.approx(50.0)
    assert pooled["p"] == pytest.approx(2 / 2 ** 7)  # every speaker gains 50 points: the exact floor
    assert (out / "forest.png").is_file()
    assert main(["--params", str(params), "pool", runs[0], "-o", str(tmp_path / "one")]) == 2
    assert not (tmp_path / "one").exists()
