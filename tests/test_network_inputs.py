"""Each network's own embeddings of embedded categories and text (modules/network_inputs.py)."""

import numpy as np
import tensorflow as tf

from modules.network_inputs import Embedder


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
