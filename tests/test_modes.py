"""The normalization mode table (modules/modes.py): what each task and output count allows."""

import pytest

from modules import modes


@pytest.mark.parametrize(
    "mode, task, n_outputs",
    [
        ("range", "classification", 2),
        ("standardize", "classification", 2),
        ("shared", "regression", 1),
        ("range", "regression", 1),
        ("standardize", "regression", 3),
        ("population", "classification", 1),
    ],
)
def test_the_mode_table_refuses_what_cannot_learn_and_names_what_can(mode, task, n_outputs):
    with pytest.raises(ValueError) as error:
        modes.check(mode, task, n_outputs)
    if n_outputs > 1 or task == "regression":
        assert "population" in str(error.value) and "--normalization auto" in str(error.value)


@pytest.mark.parametrize(
    "task, n_outputs, expected",
    [
        ("classification", 2, ("shared", "population")),
        ("classification", 3, modes.NAMES),
        ("regression", 1, ("population",)),
        ("regression", 10, ("population",)),
    ],
)
def test_every_mode_the_table_allows_is_accepted_and_auto_picks_one_of_them(
    task, n_outputs, expected
):
    assert modes.modes_for(task, n_outputs) == expected
    for mode in expected:
        modes.check(mode, task, n_outputs)
    assert modes.choose(task, n_outputs) in expected
    mode, loss = modes.resolve("auto", "auto", task, n_outputs)
    assert loss == ("mse" if task == "regression" else modes.MODES[mode].loss)
