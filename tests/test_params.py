"""params.yaml is validated as a whole before any stage runs: a wrong value ends the command with
one line naming the dotted key and the value, exit status 2, no traceback and no output file."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from adan_ser.cli import main
from adan_ser.core.errors import AdanError
from adan_ser.params import Params, load_params, validate_params

REPO = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((REPO / "params.yaml").read_text())


def _corpus(root: Path) -> None:
    """Two EmoDB-named utterances: enough for `adan prepare` to write a manifest."""
    root.mkdir(parents=True)
    t = np.arange(4000) / 16000
    for i, name in enumerate(["03a01Fa.wav", "08a01Wa.wav"]):
        sf.write(root / name, 0.3 * np.sin(2 * np.pi * (120 + 40 * i) * t), 16000)


def _write(tmp_path: Path, params: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def _valid(tmp_path: Path) -> dict:
    p = copy.deepcopy(DEFAULT)
    p["data"].update(corpus="emodb", root=str(tmp_path / "corpus"))
    return p


def _set(params: dict, dotted: str, value) -> dict:
    node = params
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return params


def _prepare(tmp_path: Path, params_file: Path, capsys) -> tuple[int, list[str], Path]:
    out = tmp_path / "manifest.csv"
    code = main(["--params", str(params_file), "prepare", "-o", str(out)])
    err = capsys.readouterr().err
    return code, err.splitlines(), out


def test_default_params_file_validates():
    p = load_params(REPO / "params.yaml")
    assert p.run_seeds() == DEFAULT["eval"]["seeds"]
    assert p.augment.methods == DEFAULT["augment"]["methods"]


def _same(a, b, where=""):
    """Equal, and of the same types all the way down (no int turned into a float)."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b) or sorted(a) == sorted(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for x, y in zip(a, b):
            _same(x, y, where)
    else:
        assert a == b, where


@pytest.mark.parametrize("dotted", ["classify.svm", "classify.dnn", "classify.head_params", "classify.heads_on",
                                    "cv.train_downsample", "spectro.frontend", "spectro.train", "data.demo",
                                    "augment.none", "augment.noise", "augment.smote", "augment.adan",
                                    "augment.adan_separate"])
def test_blocks_reach_the_library_as_written(dotted):
    """A block passed to a constructor holds exactly the file's keys and values, types included."""
    raw = DEFAULT
    for part in dotted.split("."):
        raw = raw[part]
    _same(raw, load_params(REPO / "params.yaml").block(dotted), dotted)


def test_valid_file_runs(tmp_path, capsys):
    _corpus(tmp_path / "corpus")
    code, err, out = _prepare(tmp_path, _write(tmp_path, _valid(tmp_path)), capsys)
    assert code == 0, err
    assert out.is_file()


BAD = [
    ("eval.seeds", 1.5, "1.5"),
    ("eval.seeds", "12", "'12'"),
    ("eval.seeds", [], "[]"),
    ("eval.seeds", [0, 0], "[0, 0]"),
    ("features.workers", "two", "'two'"),
    ("features.workers", 0, "0"),
    ("classify.svm.C", "abc", "'abc'"),
    ("classify.svm.C", "0.5", "without quotes"),  # a quoted number is text
    ("data.classes", "angry", "'angry'"),
    ("augment.ratio", 0, "0"),
    ("eval.confidence", 1.0, "1.0"),
    ("eval.n_resamples", 0, "0"),
    ("cv.scheduler", "my-cluster", "'my-cluster'"),
    ("augment.methods", ["smote", "gan"], "gan"),
    ("augment.adan.epochs", 1.5, "1.5"),
    ("spectro.frontend.kind", "cqt", "'cqt'"),
    ("data.merge_excited", "yes please", "'yes please'"),
    ("classify.scale_on", "synthetic", "'synthetic'"),
    ("classify.clip_z", 0, "0"),
    ("classify.normalise", "test", "'test'"),
    ("classify.enrol", 0, "0"),
]


@pytest.mark.parametrize("dotted, value, shown", BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_value_is_one_line_error(tmp_path, capsys, dotted, value, shown):
    _corpus(tmp_path / "corpus")
    code, err, out = _prepare(tmp_path, _write(tmp_path, _set(_valid(tmp_path), dotted, value)), capsys)
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("adan prepare: error: ") and f"params.yaml: {dotted}: " in err[0], err[0]
    assert shown in err[0], err[0]
    assert not out.exists()


def test_exponent_without_a_dot_is_a_number(tmp_path):
    # `dvc exp run -S augment.adan.lr_d=0.00001` writes `lr_d: 1e-05`, which YAML 1.1 would read as text
    params = _set(_set(_valid(tmp_path), "augment.adan.lr_d", 0.5), "augment.adan.lr", 0.25)
    text = yaml.safe_dump(params, sort_keys=False)
    text = text.replace("lr_d: 0.5", "lr_d: 1e-05").replace("lr: 0.25", "lr: 2E-4")
    path = tmp_path / "params.yaml"
    path.write_text(text)
    adan = load_params(path).augment.adan
    assert (adan.lr_d, adan.lr) == (1e-05, 2e-4)
    path.write_text(text.replace("lr_d: 1e-05", "lr_d: '1e-05'"))  # quoted: text, refused by name
    with pytest.raises(AdanError, match=r"augment\.adan\.lr_d: '1e-05' is not .*without quotes"):
        load_params(path)


@pytest.mark.parametrize("dotted", ["eval.sedes", "classify.svm.Cc", "augment.smote.k", "nonsense"])
def test_unknown_key_is_one_line_error(tmp_path, capsys, dotted):
    _corpus(tmp_path / "corpus")
    code, err, out = _prepare(tmp_path, _write(tmp_path, _set(_valid(tmp_path), dotted, 1)), capsys)
    assert code == 2 and len(err) == 1, err
    assert f"{dotted}: unknown key (known: " in err[0], err[0]
    assert not out.exists()


def test_yaml_syntax_error_names_line_and_column(tmp_path, capsys):
    _corpus(tmp_path / "corpus")
    path = tmp_path / "params.yaml"
    path.write_text(f"data:\n  corpus: emodb\n  root: {tmp_path / 'corpus'}\n  classes: [angry\n")
    code, err, out = _prepare(tmp_path, path, capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"adan prepare: error: {path}:5:1: "), err[0]
    assert not out.exists()


def test_key_given_twice_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 0\neval:\n  alpha: 0.05\n  alpha: 0.01\n")
    with pytest.raises(AdanError, match=r"params.yaml:4:3: .*'alpha' given twice \(first on line 3\)"):
        load_params(path)


def test_console_script_prints_no_traceback(tmp_path):
    """The installed `adan` exits 2 with the one line alone on stderr."""
    path = _write(tmp_path, _set(_valid(tmp_path), "eval.seeds", "12"))
    out = tmp_path / "manifest.csv"
    run = subprocess.run([sys.executable, "-c", "import sys; from adan_ser.cli import main; sys.exit(main())",
                          "--params", str(path), "prepare", "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"adan prepare: error: {path}: eval.seeds: '12' is not a non-empty list "
                                       "of distinct integers in [0, 2^32), or one integer (run seeds, e.g. [0, 1, 2]; "
                                       "absent: [seed]; write numbers without quotes)"]
    assert not out.exists()


def test_params_after_the_command(tmp_path, capsys):
    _corpus(tmp_path / "corpus")
    path = _write(tmp_path, _set(_valid(tmp_path), "eval.seeds", "12"))
    assert main(["prepare", "--params", str(path), "-o", str(tmp_path / "m.csv")]) == 2
    assert "eval.seeds" in capsys.readouterr().err


def test_seeds_and_nulls():
    assert validate_params({"eval": {"seeds": 3}}).run_seeds() == [3]  # one integer: one seed
    assert validate_params({"seed": 5}).run_seeds() == [5]  # no eval.seeds: the `seed`
    p = validate_params({"classify": None, "augment": {"adan": None, "methods": None}, "spectro": {"heads": None}})
    assert p.block("augment.adan") == {} and p.augment.methods == [] and p.spectro.heads == ["softmax"]
    with pytest.raises(AdanError, match="eval.seeds: True is not"):
        validate_params({"eval": {"seeds": True}})
    with pytest.raises(AdanError, match=r"params: must hold a mapping"):
        validate_params([1, 2])


def test_missing_required_key_is_named(tmp_path, capsys):
    p = _valid(tmp_path)
    del p["data"]["corpus"]
    code, err, out = _prepare(tmp_path, _write(tmp_path, p), capsys)
    assert code == 2 and err == ["adan prepare: error: missing key 'data.corpus' in params"]


# ------------------------------------------------------------------ the schema follows the library


def _fields(model) -> set[str]:
    return set(model.model_fields)


SET_BY_THE_STAGE = {"random_state", "log_dir", "progress", "val_fold"}


def test_classifier_blocks_match_constructors():
    from adan_ser.classifiers.dnn import DNNClassifier
    from adan_ser.classifiers.svm import SVMClassifier
    from adan_ser.params import DNNParams, SVMParams

    assert _fields(SVMParams) == set(SVMClassifier._get_param_names()) - SET_BY_THE_STAGE
    assert _fields(DNNParams) == set(DNNClassifier._get_param_names()) - SET_BY_THE_STAGE


def test_augment_blocks_match_samplers():
    from adan_ser.augment.registry import AUDIO_METHODS, SAMPLERS, sampler_params
    from adan_ser.params import METHODS, AugmentParams

    assert set(METHODS) == {"none", *SAMPLERS, *AUDIO_METHODS}
    for method in SAMPLERS:
        model = AugmentParams.model_fields[method].annotation
        assert _fields(model) == set(sampler_params(method)) - SET_BY_THE_STAGE, method


def test_spectro_blocks_match_the_library():
    from adan_ser.classifiers.spectrogram_classifier import SpectroClassifier
    from adan_ser.evaluation.evaluate_spectrogram import _RESERVED
    from adan_ser.features.spectrogram import FRONTEND_DEFAULTS
    from adan_ser.params import FrontendParams, SpectroTrainParams

    assert _fields(SpectroTrainParams) == set(SpectroClassifier._get_param_names()) - _RESERVED - SET_BY_THE_STAGE
    assert _fields(FrontendParams) == set(FRONTEND_DEFAULTS)
    for kind in ("linear", "mel"):
        assert _fields(FrontendParams.model_fields[kind].annotation) == set(FRONTEND_DEFAULTS[kind])


def test_every_default_params_key_is_in_the_schema():
    """The schema covers params.yaml (and nothing in it is read without validation)."""

    def keys(node, prefix=""):
        for k, v in node.items():
            yield prefix + k
            if isinstance(v, dict) and k not in ("head_params", "heads_on"):
                yield from keys(v, prefix + k + ".")

    for dotted in keys(DEFAULT):
        model, parts = Params, dotted.split(".")
        for part in parts[:-1]:
            model = model.model_fields[part].annotation
            model = next((a for a in getattr(model, "__args__", ()) if hasattr(a, "model_fields")), model)
        assert parts[-1] in model.model_fields, dotted
