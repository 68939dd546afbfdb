"""Manifold mixup on the DNN: off by default, seed-deterministic, mixes at the layers it names."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from torch import nn

import adan_ser.classifiers.mixup as mixup_module
from adan_ser.classifiers.dnn import DNNClassifier
from adan_ser.classifiers.mixup import hidden_blocks
from adan_ser.params import validate_params

SMALL = dict(hidden=[16, 8], epochs=4, patience=4, batch_size=16, device="cpu", val_groups=0)


def data(seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c"], 30)
    X = rng.normal(size=(90, 6)) + 2.0 * (np.arange(3)[np.repeat(np.arange(3), 30)])[:, None]
    return X.astype(np.float32), y


def test_hidden_blocks_start_at_every_linear():
    body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2), nn.ReLU())
    blocks = hidden_blocks(body)
    assert [len(b) for b in blocks] == [4, 2]
    assert hidden_blocks(nn.Sequential()) == []


def test_off_by_default_and_alpha_zero_is_plain_training():
    X, y = data()
    plain = DNNClassifier(**SMALL, random_state=1).fit(X, y)
    zero = DNNClassifier(**SMALL, random_state=1, mixup_alpha=0.0).fit(X, y)
    np.testing.assert_array_equal(plain.decision_function(X), zero.decision_function(X))


def test_mixup_trains_differently_and_reproducibly():
    X, y = data()
    plain = DNNClassifier(**SMALL, random_state=1).fit(X, y)
    mixed = DNNClassifier(**SMALL, random_state=1, mixup_alpha=0.4).fit(X, y)
    again = DNNClassifier(**SMALL, random_state=1, mixup_alpha=0.4).fit(X, y)
    assert not np.array_equal(plain.decision_function(X), mixed.decision_function(X))
    np.testing.assert_array_equal(mixed.decision_function(X), again.decision_function(X))
    # the classes are still learnt about as well as without mixup
    acc = [(DNNClassifier(**{**SMALL, "epochs": 40}, random_state=1, mixup_alpha=a).fit(X, y).predict(X) == y).mean()
           for a in (0.0, 0.4)]
    assert acc[1] > 0.5 and acc[1] >= acc[0] - 0.1, acc
    # the caller's torch generator is left as it was
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    DNNClassifier(**SMALL, random_state=1, mixup_alpha=0.4).fit(X, y)
    assert torch.equal(torch.rand(1), before)


def test_mixup_with_a_margin_head():
    X, y = data()
    model = DNNClassifier(**SMALL, head="am-softmax", mixup_alpha=0.2).fit(X, y)
    assert model.predict(X).shape == (90,)


def test_the_params_key_and_its_bound():
    assert validate_params({"classify": {"dnn": {"mixup_alpha": 0.4}}}).classify.dnn.mixup_alpha == 0.4
    with pytest.raises(Exception, match=r"classify\.dnn\.mixup_alpha"):
        validate_params({"classify": {"dnn": {"mixup_alpha": -1}}})


def test_docstring_example_runs():
    result = doctest.testmod(mixup_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
