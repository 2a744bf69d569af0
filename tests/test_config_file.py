"""YAML config files (pipeline/config_file.py): each network's settings, unknown keys and types."""

import re

import pytest

from modules.hparams import NetworkSpec
from pipeline import config_file


def test_config_file_sets_each_network_and_refuses_unknown_keys_and_wrong_types(tmp_path):
    path = tmp_path / "nets.yaml"
    path.write_text(
        "trainer:\n"
        "  network_a: {hidden_units: [64, 32], activation: gelu, dropout: 0.2, learning_rate: 0.003}\n"
        "  network_b: {hidden_units: [16], learning_rate: 0.001}\n"
    )
    config = config_file.read(str(path))
    assert config.trainer.network_a == NetworkSpec((64, 32), "gelu", 0.2, 0.003)
    assert config.trainer.network_b == NetworkSpec((16,), "relu", 0.0, 0.001)
    for text, message in [
        (
            "trainer:\n  network_a: {hidden_unitz: [3]}\n",
            "unknown key(s) trainer.network_a.hidden_unitz",
        ),
        ("trainer:\n  batch_size: many\n", "trainer.batch_size must be an integer, got 'many'"),
        ("split: [2, x]\n", "split[1] must be an integer, got 'x'"),
        ("- a list\n", "the file must be a mapping"),
    ]:
        path.write_text(text)
        with pytest.raises(ValueError, match=re.escape(message)):
            config_file.read(str(path))
