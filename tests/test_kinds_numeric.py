"""Numbers (modules/kinds/numeric.py): z-scored; missing and non-numbers read as the mean."""

import numpy as np
import tensorflow as tf

from modules import columns
from modules.columns import ColumnSpec
from tests.kind_runs import run_kind


def test_numbers_are_z_scored_and_a_stray_word_counts_as_missing():
    spec = ColumnSpec("Body.Mass/g", columns.NUMERIC)
    train = [[b"3750"], [b" 4100.5 "], [b"NA"], [], [b"-2e3"]]
    trained, _, served = run_kind(spec, train, served=[[b"n/a"], [b"3750"]])
    present = np.array([3750, 4100.5, -2000.0])
    expected = (
        np.array([3750, 4100.5, present.mean(), present.mean(), -2000]) - present.mean()
    ) / present.std()
    np.testing.assert_allclose(trained[spec.key], expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(served[spec.key], [0.0, expected[0]], rtol=1e-6, atol=1e-7)


def test_typed_numbers_are_read_as_they_are():
    spec = ColumnSpec("count", columns.NUMERIC)
    trained, _, _ = run_kind(spec, [[1], [3], []], dtype=tf.int64)
    np.testing.assert_allclose(trained[spec.key], [-1.0, 1.0, 0.0], atol=1e-7)
