"""The training job (modules/job.py): what a training process is given, and fit() on a tiny real
Transform output of the penguins."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from modules import names
from modules.hparams import NetworkSpec
from modules.job import VALIDATION_ROWS, TrainJob, fit, validation_batch


def job_for(tiny_penguins, folder: str, **trainer) -> TrainJob:
    config = tiny_penguins.config
    return TrainJob(
        transform_output=tiny_penguins.transform_graph,
        train_files=tiny_penguins.files("train"),
        validation_files=tiny_penguins.files("validation"),
        serving_model_dir=os.path.join(folder, "model", "Format-Serving"),
        model_run_dir=os.path.join(folder, "run"),
        label_key=config.label_key,
        columns=[spec.to_dict() for spec in config.feature_specs],
        trainer=dataclasses.replace(config.trainer, **trainer),
    )


def test_a_job_round_trips_through_the_json_a_worker_reads(tiny_penguins, tmp_path):
    job = job_for(tiny_penguins, str(tmp_path), network_a=NetworkSpec(hidden_units=(8, 4)))
    assert TrainJob.from_dict(json_round_trip(job.to_dict())) == job
    assert job.raw_labels == [job.label_key]
    assert job.networks_dir == os.path.join(str(tmp_path), "model", names.NETWORK_MODELS_DIR)


def json_round_trip(values: dict) -> dict:
    import json

    return json.loads(json.dumps(values))


@pytest.mark.parametrize(
    "batch, expected", [(1, VALIDATION_ROWS), (64, 1024), (100, 1100), (2048, 2048)]
)
def test_validation_batches_are_a_multiple_of_the_training_batch(batch, expected):
    assert validation_batch(batch) == expected


def trained(tiny_penguins, folder: str, steps: int):
    keras.backend.clear_session()
    job = job_for(tiny_penguins, folder, train_steps=steps, log_every=steps, patience=0)
    return fit(job, tf.distribute.get_strategy(), None)


def test_fit_lowers_each_networks_loss_and_the_same_seed_gives_the_same_weights(
    tiny_penguins, tmp_path
):
    before = trained(tiny_penguins, str(tmp_path), 1)
    after = trained(tiny_penguins, str(tmp_path), 60)
    for network in names.NETWORKS:
        loss = f"{names.EXPORTED_RUN}_{network}_loss"
        assert after.history[loss] < 0.5 * before.history[loss], (before.history, after.history)
        assert after.history[f"{names.EXPORTED_RUN}_{network}_accuracy"] >= 0.9, after.history
    assert after.record["steps"] == 60
    again = trained(tiny_penguins, str(tmp_path), 60)
    for first, second in zip(after.model.weights, again.model.weights, strict=True):
        np.testing.assert_array_equal(first.numpy(), second.numpy())
