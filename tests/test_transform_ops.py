"""The TensorFlow pieces every kind's Transform uses (modules/transform_ops.py)."""

import numpy as np
import tensorflow as tf

from modules.transform_ops import as_strings, numbers, to_dense


def sparse(values, dtype):
    return tf.ragged.constant(values, dtype=dtype).to_sparse()


def test_absent_values_densify_to_the_default_one_per_row():
    dense = to_dense(sparse([[1.5], [], [2.0]], tf.float32), -1.0)
    assert dense.numpy().tolist() == [1.5, -1.0, 2.0]


def test_cells_read_as_stripped_text_and_numbers_shortest():
    text = as_strings(sparse([[b" Dream "], [], [b"   "]], tf.string), missing="?")
    assert text.numpy().tolist() == [b"Dream", b"?", b"?"]
    typed = as_strings(sparse([[3.0], [2.5], []], tf.float32))
    assert typed.numpy().tolist() == [b"3", b"2.5", b""]
    integers = as_strings(sparse([[3], [], [-12]], tf.int64))
    assert integers.numpy().tolist() == [b"3", b"", b"-12"]


def test_text_reads_as_numbers_where_it_is_one_and_nan_elsewhere():
    cells = [[b"3"], [b" -2.5e3 "], [b".5"], [b"NA"], [b"1,5"], [], [b"1e"]]
    values = numbers(sparse(cells, tf.string)).numpy()
    np.testing.assert_array_equal(values[:3], [3.0, -2500.0, 0.5])
    assert np.isnan(values[3:]).all()
