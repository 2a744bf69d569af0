"""The Trainer's run_fn: read config and Transform output, train jointly, export for serving.

One worker trains in the Trainer's own process. With `train_workers` > 1, run_fn starts that many
worker processes under MultiWorkerMirroredStrategy (modules/multiworker.py); each calls
`train_and_export` with the same `TrainJob`, and only the chief's export and logs are kept.
"""
from __future__ import annotations

import dataclasses
import os
from typing import List, Sequence

from absl import logging as log
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from modules import names
from modules.data import transformed_dataset
from modules.export import save_serving_models
from modules.hparams import TrainerConfig
from modules.networks import FeatureLayout, TwinModel
from modules.training import JointTrainer


@dataclasses.dataclass(frozen=True)
class TrainJob:
    """Everything a training process needs, JSON-serializable (worker processes get it as a file)."""

    transform_output: str
    train_files: List[str]
    eval_files: List[str]
    serving_model_dir: str  # the combined model; the networks go beside it
    model_run_dir: str  # checkpoints and TensorBoard logs
    label_key: str
    feature_keys: List[str]
    trainer: dict  # TrainerConfig.to_dict()

    @property
    def config(self) -> TrainerConfig:
        return TrainerConfig.from_dict(self.trainer)

    @property
    def networks_dir(self) -> str:
        return os.path.join(os.path.dirname(self.serving_model_dir), names.NETWORK_MODELS_DIR)


def feature_layout(tf_transform_output: tft.TFTransformOutput, feature_keys: Sequence[str],
                   label_key: str, task: str) -> FeatureLayout:
    """Reads feature kinds and sizes from Transform's output: floats are numeric, ints are ids."""
    spec = tf_transform_output.transformed_feature_spec()
    numeric = tuple(k for k in feature_keys if spec[k].dtype == tf.float32)
    categorical = {k: tf_transform_output.num_buckets_for_transformed_feature(k)
                   for k in feature_keys if spec[k].dtype == tf.int64}
    if task == "regression":
        return FeatureLayout(numeric, categorical, n_outputs=1)
    vocabulary = tuple(v.decode() for v in
                       tf_transform_output.vocabulary_by_name(names.vocabulary_name(label_key)))
    return FeatureLayout(numeric, categorical, n_outputs=len(vocabulary), label_vocabulary=vocabulary)


def seed_everything(seed: int) -> None:
    """Same seed, same weights: seeds Python, NumPy and TF, and makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train_and_export(job: TrainJob, strategy: tf.distribute.Strategy, run_dir: str, serving_model_dir: str,
                     networks_dir: str) -> dict:
    """Trains under `strategy` and exports the three serving models; returns the last metrics.
    `run_dir` and the export folders are the job's own for the chief, scratch for other workers."""
    config = job.config
    tf_transform_output = tft.TFTransformOutput(job.transform_output)
    layout = feature_layout(tf_transform_output, job.feature_keys, job.label_key, config.task)
    config.validate(layout.n_outputs)
    seed_everything(config.seed)

    def dataset(files, training):
        data = transformed_dataset(files, tf_transform_output, job.label_key, config.batch_size, config.seed,
                                   config.shuffle_buffer, training, config.in_memory_mb)
        # Workers share the batches example by example: Transform writes too few files per split
        # to give each worker its own.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return data.with_options(options)

    with strategy.scope():
        model = TwinModel(layout, config)
    trainer = JointTrainer(model, config, strategy)
    history = trainer.fit(dataset(job.train_files, True), dataset(job.eval_files, False), run_dir)
    log.info("trained %d steps: %s", config.train_steps, history)
    save_serving_models(model, tf_transform_output, job.label_key, serving_model_dir, networks_dir)
    return history


def run_fn(fn_args) -> None:
    """TFX Trainer entry point (GenericExecutor)."""
    custom = fn_args.custom_config
    trainer = dataclasses.replace(TrainerConfig.from_dict(custom[names.CONFIG_TRAINER]),
                                  train_steps=fn_args.train_steps,
                                  eval_steps=fn_args.eval_steps or TrainerConfig.eval_steps)
    trainer.validate()
    job = TrainJob(transform_output=fn_args.transform_output, train_files=list(fn_args.train_files),
                   eval_files=list(fn_args.eval_files), serving_model_dir=fn_args.serving_model_dir,
                   model_run_dir=fn_args.model_run_dir, label_key=custom[names.CONFIG_LABEL],
                   feature_keys=list(custom[names.CONFIG_FEATURES]), trainer=trainer.to_dict())
    if trainer.train_workers > 1:
        from modules import multiworker

        multiworker.run(job)
        return
    train_and_export(job, tf.distribute.get_strategy(), job.model_run_dir, job.serving_model_dir, job.networks_dir)
