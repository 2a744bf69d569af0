"""What the report reads from a run's artifacts (components/report/collect.py)."""

import numpy as np
import pytest
import tensorflow as tf

from components.report import collect
from modules import names


def test_confusion_matrix_counts_each_true_and_predicted_pair():
    matrix = collect.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_training_curves_keep_the_value_written_last_for_a_step_logged_twice(tmp_path):
    """A Trainer killed after step 100 and resumed from its step-50 checkpoint logs step 100 again."""
    for values in ({50: 1.0, 100: 0.5}, {100: 0.4, 150: 0.3}):
        writer = tf.summary.create_file_writer(str(tmp_path / "train"))
        with writer.as_default():
            for step, value in values.items():
                tf.summary.scalar("loss/network_a", value, step=step)
                tf.summary.histogram("outputs_raw/network_a", [1.0, 2.0, 3.0], step=step)
        writer.close()
    curves = collect.training_curves(str(tmp_path))
    assert curves["train"]["loss/network_a"] == [
        (50, 1.0),
        (100, pytest.approx(0.4)),
        (150, pytest.approx(0.3)),
    ]
    assert curves[names.EXPORTED_RUN] == {}
