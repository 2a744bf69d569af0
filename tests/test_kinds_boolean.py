"""Two-valued text columns (modules/kinds/boolean.py)."""

import numpy as np

from modules import columns
from modules.columns import ColumnSpec
from tests.kind_runs import run_kind


def test_the_true_value_in_any_case_is_one_and_a_missing_cell_the_mean():
    spec = ColumnSpec("member?", columns.BOOLEAN, true_value="yes")
    train = [[b"Yes"], [b"no"], [b"YES "], [], [b"No"]]
    trained, _, served = run_kind(spec, train, served=[[b"yes"], [b"maybe"], []])
    values = np.array([1.0, 0.0, 1.0, 0.0])  # the present cells
    expected = (np.array([1, 0, 1, values.mean(), 0]) - values.mean()) / values.std()
    np.testing.assert_allclose(trained[spec.key], expected, rtol=1e-6)
    np.testing.assert_allclose(
        served[spec.key], [expected[0], expected[1], 0.0], rtol=1e-6, atol=1e-7
    )
