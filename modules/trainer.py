"""The Trainer's run_fn: the TFX entry point, which only turns TFX's arguments into a TrainJob.

One worker trains in the Trainer's own process; with `train_workers` > 1, modules/multiworker.py
starts that many worker processes under MultiWorkerMirroredStrategy.
"""

from __future__ import annotations

import tensorflow as tf

from twinnorm.modules import names
from twinnorm.modules.hparams import TrainerConfig
from twinnorm.modules.job import TrainJob, train_and_export


def run_fn(fn_args) -> None:
    """TFX Trainer entry point (GenericExecutor)."""
    custom = fn_args.custom_config
    trainer = TrainerConfig.from_dict(
        {
            **custom[names.CONFIG_TRAINER],
            "train_steps": fn_args.train_steps,
            "eval_steps": fn_args.eval_steps,
        }
    )
    trainer.validate()
    job = TrainJob(
        transform_output=fn_args.transform_output,
        train_files=list(fn_args.train_files),
        eval_files=list(fn_args.eval_files),
        serving_model_dir=fn_args.serving_model_dir,
        model_run_dir=fn_args.model_run_dir,
        label_key=custom[names.CONFIG_LABEL],
        label_columns=list(custom[names.CONFIG_LABEL_COLUMNS]),
        feature_keys=list(custom[names.CONFIG_FEATURES]),
        trainer=trainer.to_dict(),
    )
    if trainer.train_workers > 1:
        from twinnorm.modules import multiworker

        multiworker.run(job)
        return
    train_and_export(
        job,
        tf.distribute.get_strategy(),
        job.model_run_dir,
        job.serving_model_dir,
        job.networks_dir,
    )
