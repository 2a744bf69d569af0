"""One training job: read Transform's output, train jointly, calibrate, export for serving.

The Trainer's `run_fn` (modules/trainer.py) builds a `TrainJob` and runs it in its own process,
or, with `train_workers` > 1, in that many worker processes (modules/multiworker.py), each of
which calls `train_and_export` with the same job; only the chief's export and logs are kept.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import List, Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging as log

from twinnorm.modules import modes, names, warm_start
from twinnorm.modules.calibration import calibrate, check_labels_known
from twinnorm.modules.data import evaluation_dataset, memory_budget, training_batches
from twinnorm.modules.export import save_serving_models
from twinnorm.modules.hparams import TrainerConfig
from twinnorm.modules.layout import feature_layout
from twinnorm.modules.networks import TwinModel
from twinnorm.modules.training import JointTrainer


@dataclasses.dataclass(frozen=True)
class TrainJob:
    """Everything a training process needs, JSON-serializable (worker processes get it as a file)."""

    transform_output: str
    train_files: List[str]
    eval_files: List[str]
    serving_model_dir: str  # the combined model; the networks go beside it
    model_run_dir: str  # checkpoints and TensorBoard logs
    label_key: str  # the label in Transform's output
    feature_keys: List[str]
    trainer: dict  # TrainerConfig.to_dict()
    label_columns: List[str] = dataclasses.field(
        default_factory=list
    )  # raw label column(s); [] = [label_key]
    base_model: str = ""  # the blessed model's serving folder, for a warm start

    @property
    def raw_labels(self) -> List[str]:
        return list(self.label_columns) or [self.label_key]

    @property
    def config(self) -> TrainerConfig:
        return TrainerConfig.from_dict(self.trainer)

    @property
    def networks_dir(self) -> str:
        return os.path.join(os.path.dirname(self.serving_model_dir), names.NETWORK_MODELS_DIR)


def write_json(path: str, values: dict) -> None:
    with tf.io.gfile.GFile(path, "w") as handle:
        json.dump(values, handle, indent=1)


def write_output_histograms(model, evaluation: tf.data.Dataset, run_dir: str, step: int) -> None:
    """Each network's raw and normalized outputs on the eval split, as TensorBoard histograms:
    the scales before and after normalization, side by side in the `eval` run."""
    parts: dict = {}
    for features, _ in evaluation:
        outputs = model(features, training=False)
        for network in names.NETWORKS:
            for kind, tag in ((names.RAW, "outputs_raw"), (names.SCORES, "outputs_normalized")):
                key = names.scalar_tag(tag, network)
                parts.setdefault(key, []).append(outputs[names.output_key(network, kind)])
    with tf.summary.create_file_writer(os.path.join(run_dir, "eval")).as_default(step=step):
        for tag, values in parts.items():
            tf.summary.histogram(tag, tf.concat(values, axis=0))


def seed_everything(seed: int) -> None:
    """Same seed, same weights: seeds Python, NumPy and TF, and makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@dataclasses.dataclass
class Fitted:
    """A trained twin model with what exporting it needs."""

    model: TwinModel
    trainer: JointTrainer
    history: dict
    evaluation: tf.data.Dataset
    transform_output: tft.TFTransformOutput
    config: TrainerConfig


def fit(job: TrainJob, strategy: tf.distribute.Strategy, run_dir: Optional[str]) -> Fitted:
    """Builds the twin model for the job's data and trains it under `strategy` (a warm start
    first, when configured); `run_dir` holds checkpoints and TensorBoard logs (None: neither)."""
    config = job.config
    tf_transform_output = tft.TFTransformOutput(job.transform_output)
    layout = feature_layout(
        tf_transform_output, job.feature_keys, job.label_key, config.task, job.raw_labels
    )
    config = config.for_layout(layout.task, layout.width, layout.n_outputs)
    config.validate(layout.n_outputs)
    seed_everything(config.seed)

    # Workers share the batches example by example: Transform writes too few files per split to
    # give each worker its own.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    evaluation = evaluation_dataset(
        job.eval_files, tf_transform_output, job.label_key, config.batch_size
    ).with_options(options)
    train = training_batches(
        job.train_files,
        tf_transform_output,
        job.label_key,
        config.batch_size,
        config.seed,
        config.shuffle_buffer,
        memory_budget(config.in_memory_fraction),
    ).with_options(options)
    if config.task == modes.CLASSIFICATION:
        check_labels_known(
            np.concatenate([np.reshape(labels, [-1]) for _, labels in evaluation]),
            layout.label_vocabulary,
        )
    with strategy.scope():
        model = TwinModel(layout, config)
    trainer = JointTrainer(model, config, strategy)
    warm_start.restore(model, config.warm_start, job.base_model)
    history = trainer.fit(train, evaluation, run_dir)
    log.info("trained %d steps: %s", config.train_steps, history)
    return Fitted(model, trainer, history, evaluation, tf_transform_output, config)


def train_and_export(
    job: TrainJob,
    strategy: tf.distribute.Strategy,
    run_dir: str,
    serving_model_dir: str,
    networks_dir: str,
) -> dict:
    """Trains under `strategy` and exports the three serving models; returns the last metrics.
    `run_dir` and the export folders are the job's own for the chief, scratch for other workers."""
    fitted = fit(job, strategy, run_dir)
    model, history, evaluation = fitted.model, fitted.history, fitted.evaluation
    calibration = calibrate(model, evaluation)
    fitted.trainer.save_checkpoint()
    log.info("calibration: %s", calibration)
    write_json(os.path.join(run_dir, names.CALIBRATION_FILE), calibration)
    steps = fitted.config.train_steps
    write_json(os.path.join(run_dir, names.TRAINING_FILE), {"steps": steps, **history})
    write_output_histograms(model, evaluation, run_dir, steps)
    save_serving_models(
        model,
        fitted.transform_output,
        job.label_key,
        job.raw_labels,
        serving_model_dir,
        networks_dir,
    )
    return history
