"""Each network's own embeddings of embedded categories and text, and the share of training ids
sent to the OOV bucket (modules/network_inputs.py)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from modules import network_inputs
from modules.data import training_batches
from modules.hparams import TrainerConfig
from modules.network_inputs import OOV_RATE, Embedder, unseen_masked


def test_categories_and_word_means_are_embedded_and_padding_counts_for_nothing():
    embedder = Embedder({"zip": 10}, {"notes": (6, 4)})
    ids = tf.constant([[2, 3, 0, 0], [0, 0, 0, 0]], tf.int64)
    out = embedder({"zip": tf.constant([7, 1], tf.int64), "notes": ids}).numpy()
    zip_table = embedder.tables["zip"].embeddings.numpy()
    words = embedder.tables["notes"].embeddings.numpy()
    width = zip_table.shape[1]
    assert out.shape == (2, width + words.shape[1])
    np.testing.assert_allclose(out[0, :width], zip_table[7])
    np.testing.assert_allclose(out[0, width:], (words[2] + words[3]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(out[1, width:], 0.0)  # no word: zeros, not the PAD vector


def test_gradients_reach_only_the_embeddings_used():
    embedder = Embedder({}, {"notes": (6, 3)})
    ids = tf.constant([[1, 2, 0]], tf.int64)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(embedder({"notes": ids}))
    (grad,) = tape.gradient(loss, embedder.trainable_variables)
    used = np.abs(tf.convert_to_tensor(grad).numpy()).sum(axis=1) > 0
    assert used.tolist() == [False, True, True, False, False, False]


def test_a_small_stateless_share_of_category_ids_goes_to_the_oov_bucket():
    ids = tf.constant(np.arange(200_000) % 5, tf.int64)  # bucket 5 (of 6) is the OOV one
    features = {"island": ids, "x": tf.ones([200_000])}
    masked = unseen_masked(features, {"island": 6}, seed=3, step=tf.constant(7, tf.int64))
    changed = masked["island"].numpy() != ids.numpy()
    assert set(masked["island"].numpy()[changed]) == {5}
    assert abs(changed.mean() - OOV_RATE) < 0.002
    assert masked["x"] is features["x"]  # other inputs untouched
    again = unseen_masked(features, {"island": 6}, seed=3, step=tf.constant(7, tf.int64))
    np.testing.assert_array_equal(again["island"], masked["island"])  # a resumed run masks alike
    other = unseen_masked(features, {"island": 6}, seed=3, step=tf.constant(8, tf.int64))
    assert (other["island"].numpy() != masked["island"].numpy()).any()


@pytest.mark.parametrize("rate", [OOV_RATE, 0.0])
def test_training_reaches_the_oov_bucket_so_a_never_seen_category_meets_trained_weights(
    tiny_penguins, rate, monkeypatch
):
    """The first layer's rows that read each one-hot column's OOV bucket move in training, and
    would keep their random initial values without the masking (rate 0)."""
    monkeypatch.setattr(network_inputs, "OOV_RATE", rate)
    config = TrainerConfig(train_steps=60, log_every=30, checkpoint_every=60)
    trainer = tiny_penguins.twin(config)
    layout = trainer.model.layout
    assert layout.categorical, "the penguins have one-hot categories"
    offset = sum(int(np.prod(layout.numeric_widths.get(k, ()))) for k in layout.numeric)
    oov_rows, start = [], offset
    for depth in dict(sorted(layout.categorical.items())).values():
        oov_rows.append(start + depth - 1)
        start += depth
    kernels = {n: net.mlp.layers[0].kernel for n, net in trainer.model.networks.items()}
    before = {n: k.numpy()[:, oov_rows] for n, k in kernels.items()}  # [members, inputs, units]
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    batches = training_batches(
        tiny_penguins.files("train"), output, "species", 16, config.seed, 64, 2**28
    )
    trainer.fit(batches, None, None)
    for name, kernel in kernels.items():
        moved = np.abs(kernel.numpy()[:, oov_rows] - before[name]).max(axis=(0, 2))
        assert (moved > 0).all() if rate else (moved == 0).all(), (name, moved)
