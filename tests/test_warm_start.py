"""Warm start (modules/warm_start.py): one network starts from the blessed model's weights."""

import dataclasses
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from modules import names, warm_start
from modules.hparams import NetworkSpec, TrainerConfig


def stored_network(model_dir: str, network: str) -> list:
    """A network's weights in a served SavedModel, in Keras order (kernel, bias per layer)."""
    prefix = os.path.join(model_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    found = {}
    for key, _ in tf.train.list_variables(prefix):
        match = re.fullmatch(
            rf"model/{network}/mlp/layer_with_weights-(\d+)/(kernel|bias)/.ATTRIBUTES/VARIABLE_VALUE",
            key,
        )
        if match:
            found[(int(match[1]), match[2] == "bias")] = reader.get_tensor(key)
    return [found[k] for k in sorted(found)]


def test_a_warm_started_network_starts_equal_to_the_blessed_models_and_the_other_does_not(
    tiny_penguins, tiny_model
):
    blessed = tiny_model.serving_model_dir  # the blessed, pushed combined model
    trainer = tiny_penguins.twin(TrainerConfig(warm_start="a"))
    warm_start.restore(trainer.model, "a", blessed)
    for network, equal in ((names.NETWORK_A, True), (names.NETWORK_B, False)):
        stored = stored_network(blessed, network)
        mine = [v.numpy() for v in trainer.model.networks[network].trainable_variables]
        assert len(stored) == len(mine) == 6, network  # 3 dense layers
        same = [np.array_equal(a, b) for a, b in zip(mine, stored, strict=True)]
        assert same == [equal] * 6, (network, same)


def test_a_missing_or_misfit_base_model_fails_in_one_line(tiny_penguins, tiny_model):
    blessed = tiny_model.serving_model_dir
    trainer = tiny_penguins.twin(TrainerConfig())
    with pytest.raises(warm_start.WarmStartError, match="no blessed model yet"):
        warm_start.restore(trainer.model, "both", None)
    wider = dataclasses.replace(TrainerConfig(), network_b=NetworkSpec(hidden_units=(64, 32)))
    trainer = tiny_penguins.twin(wider)
    with pytest.raises(warm_start.WarmStartError) as error:
        warm_start.restore(trainer.model, "b", blessed)
    message = str(error.value)
    assert "\n" not in message and "cannot warm-start network_b from the blessed model" in message
    warm_start.restore(trainer.model, "a", blessed)  # network A still fits
