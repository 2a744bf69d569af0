"""Each network's member MLPs (modules/mlp.py): k independent members in one batched matmul, each
trained on its own loss, served as the mean of their normalized scores."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import modes, names
from modules.hparams import NetworkSpec, TrainerConfig
from modules.layout import FeatureLayout
from modules.losses import per_example_loss
from modules.mlp import MemberDense, build_members, build_network, over_members
from modules.networks import TwinModel
from modules.normalization import PopulationNormalization, Standardization

LAYOUT = FeatureLayout(("x", "y"), {"colour": 3}, n_outputs=3, label_vocabulary=("a", "b", "c"))


def test_a_member_layer_is_k_dense_layers_each_initialized_as_its_own():
    layer = MemberDense(3, 64, "relu")
    x = np.random.default_rng(0).normal(size=(5, 200)).astype(np.float32)
    y = layer(tf.constant(x)).numpy()
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    for j in range(3):
        np.testing.assert_allclose(y[:, j], np.maximum(x @ kernel[j] + bias[j], 0), atol=1e-5)
    limit = np.sqrt(6 / (200 + 64))  # Glorot over one member's (inputs, units)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not np.allclose(kernel[0], kernel[1])  # members start apart
    # A [batch, k, d] input: member j reads its own slice.
    second = MemberDense(3, 2)
    z = second(tf.constant(y)).numpy()
    for j in range(3):
        np.testing.assert_allclose(
            z[:, j], y[:, j] @ second.kernel.numpy()[j] + second.bias.numpy()[j], atol=1e-4
        )


def test_member_mlps_have_the_specs_layers_and_linear_outputs():
    mlp = build_members(NetworkSpec(hidden_units=(8, 4), dropout=0.1), 5, 3, "network_a")
    assert mlp(tf.zeros([2, 7])).shape == (2, 5, 3)
    dense = [layer for layer in mlp.layers if isinstance(layer, MemberDense)]
    assert [(layer.members, layer.units) for layer in dense] == [(5, 8), (5, 4), (5, 3)]
    assert dense[-1].get_config()["activation"] == "linear"
    assert sum(type(layer).__name__ == "Dropout" for layer in mlp.layers) == 2
    plain = build_network(NetworkSpec(hidden_units=(8, 4)), 3, "baseline")
    assert plain(tf.zeros([2, 7])).shape == (2, 3)


@pytest.mark.parametrize("task", [modes.CLASSIFICATION, modes.REGRESSION])
def test_the_member_loss_is_the_mean_of_each_members_own_loss(task):
    config = TrainerConfig(task=task, loss="cross_entropy" if task == "classification" else "mse")
    rng = np.random.default_rng(1)
    scores = tf.constant(rng.normal(size=(6, 4, 3)), tf.float32)
    labels = (
        tf.constant(rng.integers(0, 3, size=6))
        if task == modes.CLASSIFICATION
        else tf.constant(rng.normal(size=(6, 3)), tf.float32)
    )
    each = [per_example_loss(scores[:, j], labels, config).numpy() for j in range(4)]
    np.testing.assert_allclose(
        per_example_loss(scores, labels, config).numpy(), np.mean(each, axis=0), rtol=1e-6
    )


def test_population_statistics_pool_the_members_and_per_example_modes_see_each_member():
    rng = np.random.default_rng(2)
    raw = rng.normal(3.0, 2.0, size=(64, 4, 3)).astype(np.float32)
    layer = PopulationNormalization(momentum=0.5)
    out = over_members(lambda x: layer(x, training=True), tf.constant(raw)).numpy()
    pooled = raw.reshape(-1, 3)
    expected = (pooled - pooled.mean(0)) / np.sqrt(pooled.var(0) + 1e-6)
    np.testing.assert_allclose(out.reshape(-1, 3), expected, atol=1e-5)
    per_row = over_members(Standardization(), tf.constant(raw)).numpy()
    member = raw[:, 2]
    np.testing.assert_allclose(
        per_row[:, 2],
        (member - member.mean(-1, keepdims=True)) / np.sqrt(member.var(-1, keepdims=True) + 1e-6),
        atol=1e-5,
    )


@pytest.mark.parametrize("mode", modes.modes_for(modes.CLASSIFICATION, 3))
def test_a_network_serves_the_mean_of_its_members_normalized_scores(mode):
    config = dataclasses.replace(TrainerConfig(), normalization=mode, members=3).resolved(
        modes.CLASSIFICATION, LAYOUT.n_outputs
    )
    twin = TwinModel(LAYOUT, config)
    rng = np.random.default_rng(3)
    features = {
        "x": tf.constant(rng.normal(size=8), tf.float32),
        "y": tf.constant(rng.normal(size=8), tf.float32),
        "colour": tf.constant(np.arange(8) % 3, tf.int64),
    }
    twin(features, training=False)
    members = {
        name: twin.networks[name]((twin.encoder(features), features), training=False)
        for name in names.NETWORKS
    }
    assert members[names.NETWORK_A].shape == (8, 3, 3)
    scores = twin.normalize(members[names.NETWORK_A], members[names.NETWORK_B], training=False)
    served = twin(features, training=False)
    for name, member_scores in zip(names.NETWORKS, scores, strict=True):
        np.testing.assert_allclose(
            served[names.output_key(name, names.SCORES)],
            tf.reduce_mean(member_scores, axis=1),
            atol=1e-6,
        )
        assert np.isfinite(served[names.output_key(name, names.SCORES)].numpy()).all()
    trained = twin(features, training=True)
    assert trained[names.output_key(names.NETWORK_A, names.SCORES)].shape == (8, 3, 3)
