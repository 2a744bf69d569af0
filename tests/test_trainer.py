"""run_fn, the Trainer's entry point (modules/trainer.py), given TFX's own FnArgs on a tiny real
Transform output: what it reads from them and what it writes."""

import json
import os

import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from modules import names
from modules.hparams import learning_rate_key, units_key
from modules.trainer import job_from
from pipeline.pipeline import trainer_config


def test_run_fn_writes_the_combined_model_each_network_and_the_run_record(tiny_model):
    for folder in (
        tiny_model.serving_model_dir,
        *(os.path.join(tiny_model.networks_dir, n) for n in names.NETWORKS),
    ):
        assert tf.saved_model.contains_saved_model(folder), folder
        assert names.SERVING_DEFAULT in tf.saved_model.load(folder).signatures, folder
    with open(os.path.join(tiny_model.model_run_dir, names.TRAINING_FILE)) as handle:
        record = json.load(handle)
    assert record["steps"] == tiny_model.train_steps  # the TrainArgs' steps, not the data budget
    with open(os.path.join(tiny_model.model_run_dir, names.CALIBRATION_FILE)) as handle:
        assert set(json.load(handle)) == {*names.NETWORKS, names.COMBINED}
    assert tf.train.latest_checkpoint(os.path.join(tiny_model.model_run_dir, "checkpoints"))


def fn_args(tiny_penguins, **changes) -> FnArgs:
    values = dict(
        train_files=tiny_penguins.files("train"),
        eval_files=tiny_penguins.files("validation"),
        train_steps=None,
        eval_steps=None,
        transform_graph_path=tiny_penguins.transform_graph,
        serving_model_dir="/serving",
        model_run_dir="/run",
        custom_config=trainer_config(tiny_penguins.config),
    )
    return FnArgs(**{**values, **changes})


def test_the_job_takes_the_tuners_best_sizes_and_zero_steps_for_none(tiny_penguins):
    job = job_from(fn_args(tiny_penguins))
    assert (job.trainer.train_steps, job.trainer.validation_steps) == (0, 0)  # from the data
    assert job.trainer == tiny_penguins.config.trainer
    assert job.validation_files == tiny_penguins.files("validation")
    best = {
        units_key(names.NETWORK_A): 64,
        learning_rate_key(names.NETWORK_B): 0.003,
    }
    tuned = job_from(fn_args(tiny_penguins, hyperparameters={"values": best}))
    assert tuned.trainer.network_b.learning_rate == 0.003
    assert tuned.trainer.network_a.hidden_units == (64, 32)
    assert tuned.trainer.network_b.hidden_units == job.trainer.network_b.hidden_units
