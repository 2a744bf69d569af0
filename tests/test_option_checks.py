"""Option checks (pipeline/option_checks.py): an option that cannot apply to the resolved task or
mode, or to the other options, is refused naming it; the command line's exit 2 for each is in
test_local.py."""

import dataclasses

import pytest

from modules import modes
from modules.hparams import TrainerConfig
from pipeline import option_checks
from pipeline.config import PipelineConfig

CLASSES = TrainerConfig(task=modes.CLASSIFICATION, normalization="range")
VALUES = TrainerConfig(task=modes.REGRESSION, normalization="population")


@pytest.mark.parametrize(
    "bar, value, trainer",
    [
        ("max_mse", 0.1, CLASSES),
        ("max_mae", 0.1, CLASSES),
        ("min_accuracy", 0.9, VALUES),
        ("min_slice_accuracy", 0.9, VALUES),
    ],
)
def test_a_bar_of_the_other_task_is_refused_and_one_of_this_task_kept(bar, value, trainer):
    config = dataclasses.replace(PipelineConfig(), **{bar: value})
    with pytest.raises(ValueError, match=f"--{bar.replace('_', '-')} is a "):
        option_checks.check_task_settings(config, trainer)
    other = VALUES if trainer is CLASSES else CLASSES
    option_checks.check_task_settings(config, other)  # no error: the bar applies


def test_population_shared_needs_the_population_mode():
    shared = dataclasses.replace(CLASSES, population_shared=True)
    with pytest.raises(ValueError, match="--population-shared sets the statistics"):
        option_checks.check_task_settings(PipelineConfig(), shared)
    option_checks.check_task_settings(
        PipelineConfig(), dataclasses.replace(VALUES, population_shared=True)
    )


@pytest.mark.parametrize("name", ["../x", "/abs/name", "a/b", "x..y", "", "-dash", "sp ace"])
def test_a_pipeline_name_that_would_leave_the_output_folder_is_refused(name):
    with pytest.raises(ValueError, match="a pipeline name is letters"):
        option_checks.check_settings(dataclasses.replace(PipelineConfig(), name=name))


def test_names_of_letters_digits_dots_and_dashes_pass():
    for name in ("twinnorm", "Churn_v2", "prices-2026.12"):
        option_checks.check_settings(dataclasses.replace(PipelineConfig(), name=name))


def test_a_key_column_may_not_be_a_feature():
    config = dataclasses.replace(PipelineConfig(), key_columns=("id", "year"))
    with pytest.raises(ValueError, match="--key-columns year is also a feature"):
        option_checks.check_keys(config, ("island", "year"))
    option_checks.check_keys(config, ("island",))
