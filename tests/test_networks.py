"""The twin model (modules/networks.py): the encoder, each network's MLP, the combined prediction,
and a network served on its own giving exactly the twin model's outputs for it."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import combination, modes, names
from modules.hparams import TrainerConfig
from modules.layout import FeatureLayout
from modules.network_inputs import FeatureEncoder
from modules.networks import SingleNetworkModel, TwinModel

LAYOUT = FeatureLayout(("x", "y"), {"colour": 3}, n_outputs=3, label_vocabulary=("a", "b", "c"))


def features(rows: int = 6) -> dict:
    rng = np.random.default_rng(0)
    return {
        "x": tf.constant(rng.normal(size=rows), tf.float32),
        "y": tf.constant(rng.normal(size=rows), tf.float32),
        "colour": tf.constant(np.arange(rows) % 3, tf.int64),
    }


def test_the_encoder_puts_numerics_first_in_name_order_then_ids_one_hot():
    encoded = FeatureEncoder(("y", "x"), {"colour": 3})(features(3)).numpy()
    inputs = features(3)
    np.testing.assert_array_equal(encoded[:, 0], inputs["x"].numpy())
    np.testing.assert_array_equal(encoded[:, 1], inputs["y"].numpy())
    np.testing.assert_array_equal(encoded[:, 2:], np.eye(3))


@pytest.mark.parametrize("mode", modes.modes_for(modes.CLASSIFICATION, 3))
def test_a_network_served_alone_gives_the_twin_models_outputs_for_it(mode):
    config = dataclasses.replace(TrainerConfig(), normalization=mode).resolved(
        modes.CLASSIFICATION, LAYOUT.n_outputs
    )
    twin = TwinModel(LAYOUT, config)
    twin(features(), training=False)
    twin.combination.assign([0.7] * LAYOUT.n_outputs)  # as modules/combination.py fits it
    outputs = twin(features(), training=False)
    combined = combination.combined_scores(
        0.7, outputs[f"{names.NETWORK_A}_scores"], outputs[f"{names.NETWORK_B}_scores"]
    )
    np.testing.assert_allclose(outputs[names.SCORES], combined, rtol=1e-6)
    np.testing.assert_allclose(tf.reduce_sum(outputs[names.PROBABILITIES], -1), 1.0, rtol=1e-6)
    for network in names.NETWORKS:
        alone = SingleNetworkModel(twin, network)(features(), training=False)
        for kind in (names.RAW, names.SCORES, names.PROBABILITIES):
            key = names.output_key(network, kind)
            np.testing.assert_allclose(alone[key], outputs[key], rtol=1e-6, atol=1e-7, err_msg=key)
