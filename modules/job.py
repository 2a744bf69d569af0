"""One training job: read Transform's output, train jointly, calibrate, export for serving.

The Trainer's `run_fn` (modules/trainer.py) builds a `TrainJob` and runs it in its own process,
or, with `train_workers` > 1, in that many worker processes (modules/multiworker.py), each of
which calls `train_and_export` with the same job; only the chief's export and logs are kept.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import List, Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging as log

from modules import attribution, combination, modes, names, warm_start
from modules.calibration import (
    calibrate,
    check_labels_known,
    check_unknown_count,
    collect_scores,
)
from modules.data import (
    in_order_dataset,
    memory_budget,
    sibling_split,
    training_batches,
    unknown_labels,
)
from modules.export import save_serving_models
from modules.hparams import MAX_VALIDATION_ROWS, TrainerConfig
from modules.layout import feature_layout
from modules.networks import TwinModel
from modules.tensorboard_logs import write_output_histograms
from modules.training import JointTrainer

VALIDATION_ROWS = 1024


@dataclasses.dataclass(frozen=True)
class TrainJob:
    """Everything a training process needs, JSON-serializable (worker processes get it as a file)."""

    transform_output: str
    train_files: List[str]
    validation_files: List[str]  # early stopping and calibration; never the Evaluator's split
    serving_model_dir: str  # the combined model; the networks go beside it
    model_run_dir: str  # checkpoints and TensorBoard logs
    label_key: str  # the label in Transform's output
    columns: List[dict]  # the feature ColumnSpecs as dicts (modules/columns.py)
    trainer: TrainerConfig  # resolved before any component ran: no `auto` left
    # Raw label column(s); [] = [label_key].
    label_columns: List[str] = dataclasses.field(default_factory=list)
    base_model: str = ""  # the blessed model's serving folder, for a warm start
    code: str = ""  # fingerprint of the code (pipeline/code_version.py): part of the resume key

    @property
    def raw_labels(self) -> List[str]:
        return list(self.label_columns) or [self.label_key]

    @property
    def config(self) -> TrainerConfig:
        return self.trainer

    def to_dict(self) -> dict:
        """JSON-serializable (the worker processes read it from a file)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainJob":
        return cls(**{**values, "trainer": TrainerConfig.from_dict(values["trainer"])})

    @property
    def networks_dir(self) -> str:
        return os.path.join(os.path.dirname(self.serving_model_dir), names.NETWORK_MODELS_DIR)


def write_json(path: str, values: dict) -> None:
    with tf.io.gfile.GFile(path, "w") as handle:
        json.dump(values, handle, indent=1)


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
    validation: tf.data.Dataset
    transform_output: tft.TFTransformOutput
    config: TrainerConfig
    record: dict  # steps, epochs, best step and why training stopped (JointTrainer.record)


def validation_batch(batch_size: int) -> int:
    """Validation batches of at least VALIDATION_ROWS rows, a multiple of the training batch (so
    they split evenly over workers): validation runs often, its batch changes no figure, and a
    larger one costs less per row."""
    return batch_size * max(1, math.ceil(VALIDATION_ROWS / batch_size))


def sample_batches(config: TrainerConfig) -> int:
    """Batches the Trainer reads of the validation split: MAX_VALIDATION_ROWS rows (a random
    sample: ExampleGen shuffles), or more when `validation_steps` asks for more. Validation passes,
    calibration and the output histograms all use them, so none grows with the split."""
    rows = math.ceil(MAX_VALIDATION_ROWS / validation_batch(config.batch_size))
    return max(rows, config.validation_steps)


def validation_capped(config: TrainerConfig) -> TrainerConfig:
    """`validation_steps` 0 (the default) as the whole validation sample (`sample_batches`)."""
    return (
        config
        if config.validation_steps
        else dataclasses.replace(config, validation_steps=sample_batches(config))
    )


def log_budget(config: TrainerConfig, train_rows: int) -> None:
    log.info(
        "training budget: at most %d steps (%.1f epochs of %d examples), validation every %d "
        "steps on at most %d rows",
        config.train_steps,
        config.train_steps * config.batch_size / train_rows,
        train_rows,
        config.validate_every,
        config.validation_steps * validation_batch(config.batch_size),
    )


def check_classes_known(
    job: TrainJob,
    vocabulary,
    validation: tf.data.Dataset,
    tf_transform_output: tft.TFTransformOutput,
) -> None:
    """No validation or eval label is a value the training split lacks (Transform's id -1)."""
    check_labels_known(
        np.concatenate([np.reshape(labels, [-1]) for _, labels in validation]),
        vocabulary,
        names.VALIDATION_SPLIT,
    )
    evaluation = sibling_split(job.train_files, names.EVAL_SPLIT)
    if evaluation:  # the Evaluator's rows: checked here, never read for anything else
        check_unknown_count(
            unknown_labels(evaluation, tf_transform_output, job.label_key),
            vocabulary,
            names.EVAL_SPLIT,
        )


def fit(job: TrainJob, strategy: tf.distribute.Strategy, run_dir: Optional[str]) -> Fitted:
    """Builds the twin model for the job's data and trains it under `strategy` (a warm start
    first, when configured) with early stopping on the validation split; `run_dir` holds
    checkpoints and TensorBoard logs (None: neither)."""
    started = time.perf_counter()
    config = job.config
    tf_transform_output = tft.TFTransformOutput(job.transform_output)
    layout = feature_layout(
        tf_transform_output, job.columns, job.label_key, config.task, job.raw_labels
    )
    if config.warm_start:
        config = warm_start.with_blessed_widths(config, job.base_model)
    config = validation_capped(config.for_layout(layout.task, layout.width, layout.n_outputs))
    config.validate(layout.n_outputs)
    seed_everything(config.seed)

    # Workers share the batches example by example: Transform writes too few files per split to
    # give each worker its own.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    validation = in_order_dataset(
        job.validation_files,
        tf_transform_output,
        job.label_key,
        validation_batch(config.batch_size),
        cache=True,
        batches=sample_batches(config),
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
    config = config.budgeted(train.rows)
    log_budget(config, train.rows)
    if config.task == modes.CLASSIFICATION:
        check_classes_known(job, layout.label_vocabulary, validation, tf_transform_output)
    with strategy.scope():
        model = TwinModel(layout, config)
    trainer = JointTrainer(model, config, strategy)
    if config.warm_start:
        current = warm_start.vocabularies(layout, tf_transform_output)
        warm_start.restore(model, config.warm_start, job.base_model, current)
    reading = time.perf_counter() - started
    history = trainer.fit(train, validation, run_dir)
    record = trainer.record(train.rows)
    # Where the Trainer's time goes, for the scale benchmark's profile (benchmarks/scale.py).
    record["seconds"] = {
        "data": reading,
        "fit": time.perf_counter() - started - reading,
        "validation": trainer.validation_seconds,  # within fit
    }
    log.info("trained: %s; %s", record, history)
    return Fitted(model, trainer, history, validation, tf_transform_output, config, record)


def train_and_export(
    job: TrainJob,
    strategy: tf.distribute.Strategy,
    run_dir: str,
    serving_model_dir: str,
    networks_dir: str,
) -> dict:
    """Trains under `strategy`, calibrates on the validation sample and exports the three
    serving models; returns the last metrics. `run_dir` and the export folders are the job's
    own for the chief, scratch for other workers."""
    fitted = fit(job, strategy, run_dir)
    model, history, validation = fitted.model, fitted.history, fitted.validation
    seconds = fitted.record["seconds"]
    started = time.perf_counter()
    scores, labels = collect_scores(model, validation)
    weights = combination.fit(model, scores, labels)
    calibration = calibrate(model, scores, labels)
    seconds["calibration"] = time.perf_counter() - started
    batch = validation_batch(fitted.config.batch_size)
    baseline_rows = attribution.fit_baseline(
        model,
        in_order_dataset(
            job.train_files,
            fitted.transform_output,
            job.label_key,
            batch,
            batches=math.ceil(attribution.BASELINE_ROWS / batch),
        ),
    )
    log.info("explanations: baseline input averaged over %d train rows", baseline_rows)
    fitted.trainer.save_checkpoint()
    log.info("on the validation split: combination %s; calibration %s", weights, calibration)
    write_json(os.path.join(run_dir, names.COMBINATION_FILE), weights)
    write_json(os.path.join(run_dir, names.CALIBRATION_FILE), calibration)
    started = time.perf_counter()
    write_output_histograms(model, validation, run_dir, fitted.record["steps"])
    save_serving_models(
        model,
        fitted.transform_output,
        job.label_key,
        job.raw_labels,
        serving_model_dir,
        networks_dir,
    )
    seconds["export"] = time.perf_counter() - started
    # Last: its presence tells modules/resume.py this execution finished.
    write_json(os.path.join(run_dir, names.TRAINING_FILE), {**fitted.record, **history})
    return history


def train_and_export_here(job: TrainJob) -> dict:
    """One process trains the job: the default strategy and the job's own folders."""
    return train_and_export(
        job,
        tf.distribute.get_strategy(),
        job.model_run_dir,
        job.serving_model_dir,
        job.networks_dir,
    )
