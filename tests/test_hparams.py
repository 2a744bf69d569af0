"""The Trainer's settings (modules/hparams.py): a JSON round trip, auto sizes, refusals."""

import dataclasses

import pytest

from modules.hparams import NetworkSpec, TrainerConfig


def test_trainer_config_round_trips_through_a_json_dict():
    config = TrainerConfig(
        network_a=NetworkSpec(hidden_units=(8, 4), dropout=0.1), normalization="shared"
    )
    assert TrainerConfig.from_dict(config.to_dict()) == config


def test_auto_sizes_grow_with_the_input_width_and_output_count():
    assert NetworkSpec().sized(12, 3).hidden_units == (32, 16)
    assert NetworkSpec().sized(64, 10).hidden_units == (256, 128)
    assert NetworkSpec(hidden_units=(8,)).sized(64, 10).hidden_units == (8,)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"normalization": "batch"}, "normalization must be one of"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"task": "regression", "loss": "cross_entropy"}, "needs task 'classification'"),
        ({"batch_size": 0}, "batch_size must be > 0"),
        ({"network_b": NetworkSpec(activation="magic")}, "network_b: activation"),
    ],
)
def test_invalid_trainer_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainerConfig(), **change).validate()
