"""Every default appears once: params.yaml, the schema and the estimators agree by value.

For every augmenter and classifier, the estimator built from its params.yaml block carries the
file's value for each key the file gives and the schema's default for each key it leaves out; the
schema's defaults are the constructors' (read from their signatures, never copied). Head and loss
defaults live only in their specs: no head or loss module repeats one.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from adan_ser.augment.registry import make_perturber, make_sampler
from adan_ser.augment.specs import AUGMENTERS
from adan_ser.classifiers import head_modules
from adan_ser.classifiers.factory import make_classifier
from adan_ser.classifiers.heads import HEAD_SPECS, make_head, make_loss
from adan_ser.classifiers.specs import CLASSIFIER_SPECS
from adan_ser.params import load_params, schema

REPO = Path(__file__).resolve().parents[1]
PARAMS = load_params(REPO / "params.yaml")


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _schema_defaults(block) -> dict:
    return {name: field.get_default(call_default_factory=True) for name, field in block.model_fields.items()}


def _built(estimator) -> dict:
    """The parameters an estimator holds, its composed model's included (the sampler's win, as in
    registry.make_sampler)."""
    params = dict(estimator.get_params(deep=False))
    model = params.pop("adan", None)
    return {**(model.get_params(deep=False) if model is not None else {}), **params}


@pytest.mark.parametrize("method", list(AUGMENTERS))
def test_an_augmenter_gets_the_files_values_and_else_the_schema_defaults(method):
    block = schema().model_fields["augment"].annotation.model_fields[method].annotation
    given = PARAMS.block(f"augment.{method}")
    spec = AUGMENTERS[method]
    if spec.kind == "audio":
        built = make_perturber(method, given).get_params()
    else:
        if given.get("preset", "paper") != "paper":
            pytest.skip("params.yaml runs another method under this name")
        built = _built(make_sampler(method, {k: v for k, v in given.items() if k != "preset"}, seed=0))
    for key, default in _schema_defaults(block).items():
        if key == "preset":
            continue
        expected = given.get(key, default)
        assert _plain(built[key]) == _plain(expected), f"augment.{method}.{key}"


@pytest.mark.parametrize("method", list(AUGMENTERS))
def test_the_schema_defaults_are_the_constructors(method):
    block = schema().model_fields["augment"].annotation.model_fields[method].annotation
    spec = AUGMENTERS[method]
    built = (make_perturber(method).get_params() if spec.kind == "audio"
             else _built(make_sampler(method, {}, seed=0)))
    for key, default in _schema_defaults(block).items():
        if key != "preset":
            assert _plain(built[key]) == _plain(default), f"augment.{method}.{key}"


@pytest.mark.parametrize("name", list(CLASSIFIER_SPECS))
def test_a_classifier_gets_the_files_values_and_else_the_schema_defaults(name):
    block = schema().model_fields["classify"].annotation.model_fields[name].annotation
    given = PARAMS.block(f"classify.{name}")
    for params in (given, {}):
        built = make_classifier(name, params, seed=0).named_steps["clf"].get_params(deep=False)
        for key, default in _schema_defaults(block).items():
            assert _plain(built[key]) == _plain(params.get(key, default)), f"classify.{name}.{key}"


def test_head_and_loss_defaults_live_only_in_their_specs():
    names = {key for spec in HEAD_SPECS.values() for key in spec.params}
    for _, cls in inspect.getmembers(head_modules, inspect.isclass):
        if cls.__module__ != head_modules.__name__:
            continue
        for key, p in inspect.signature(cls.__init__).parameters.items():
            assert not (key in names and p.default is not p.empty), f"{cls.__name__}.{key} repeats a spec default"
    for name, spec in HEAD_SPECS.items():  # and those defaults build
        if spec.kind == "head":
            make_head(name, 4, 3, [3, 2, 1], **spec.params)
        else:
            make_loss(name, 4, 3, [3, 2, 1], **spec.params)


def test_params_yaml_head_params_name_known_keys():
    from adan_ser.classifiers.heads import parse_head_name, split_params

    for where in ("classify.head_params", "spectro.head_params"):
        for head, params in PARAMS.block(where).items():
            split_params(*parse_head_name(head), params)
