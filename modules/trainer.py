"""The Trainer's run_fn: read config and Transform output, train jointly, export for serving."""
from __future__ import annotations

import dataclasses
import os
from typing import Sequence

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


def run_fn(fn_args) -> None:
    """TFX Trainer entry point (GenericExecutor)."""
    custom = fn_args.custom_config
    config = dataclasses.replace(TrainerConfig.from_dict(custom[names.CONFIG_TRAINER]),
                                 train_steps=fn_args.train_steps,
                                 eval_steps=fn_args.eval_steps or TrainerConfig.eval_steps)
    label_key = custom[names.CONFIG_LABEL]
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    layout = feature_layout(tf_transform_output, custom[names.CONFIG_FEATURES], label_key, config.task)
    config.validate(layout.n_outputs)
    seed_everything(config.seed)

    def dataset(files, training):
        return transformed_dataset(files, fn_args.data_accessor, tf_transform_output, label_key,
                                   config.batch_size, config.seed, config.shuffle_buffer, training)

    strategy = tf.distribute.get_strategy()
    with strategy.scope():
        model = TwinModel(layout, config)
    trainer = JointTrainer(model, config, strategy)
    history = trainer.fit(dataset(fn_args.train_files, True), dataset(fn_args.eval_files, False),
                          fn_args.model_run_dir)
    log.info("trained %d steps: %s", config.train_steps, history)
    networks_dir = os.path.join(os.path.dirname(fn_args.serving_model_dir), names.NETWORK_MODELS_DIR)
    save_serving_models(model, tf_transform_output, label_key, fn_args.serving_model_dir, networks_dir)
