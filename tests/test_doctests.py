"""The Examples sections of the listed modules run as written (doctest); one test per module.

Examples print shapes, counts and labels, never floats, and each runs in well under a second.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose docstrings hold examples; add yours here.
MODULES = [
    "adan_ser.augment.generators.base",
    "adan_ser.augment.generators.baselines",
    "adan_ser.augment.generators.speakers",
    "adan_ser.augment.generators.latent",
    "adan_ser.augment.generators.adan",
    "adan_ser.augment.generators.adan_separate",
    "adan_ser.augment.generators.aae",
    "adan_ser.augment.generators.samplers",
    "adan_ser.augment.generators.latent_smote",
    "adan_ser.augment.generators.adan_speaker",
    "adan_ser.augment.audio.perturbers",
    "adan_ser.augment.audio.voices",
    "adan_ser.classifiers.svm",
    "adan_ser.classifiers.preprocess",
    "adan_ser.classifiers.torch_base",
    "adan_ser.classifiers.dnn",
    "adan_ser.classifiers.spectrogram_classifier",
    "adan_ser.classifiers.heads",
    "adan_ser.classifiers.head_modules",
    "adan_ser.features.spectrogram",
]

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, capsys):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    tests = [t for t in finder.find(module, name, globs=vars(module).copy()) if t.examples]
    assert tests, f"{name} has no examples"
    for test in tests:
        runner.run(test)
    report = capsys.readouterr().out
    assert runner.failures == 0, report
