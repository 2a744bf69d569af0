"""The Trainer's run_fn: the TFX entry point, which only turns TFX's arguments into a TrainJob.

One worker trains in the Trainer's own process; with `train_workers` > 1, modules/multiworker.py
starts that many worker processes under MultiWorkerMirroredStrategy.
"""

from __future__ import annotations

from absl import logging as log

from modules import names, resume
from modules.hparams import TrainerConfig, apply_best
from modules.job import TrainJob, train_and_export_here


def job_from(fn_args) -> TrainJob:
    """The TrainJob of TFX's fn_args (Trainer or Tuner); the Tuner's best hyperparameters, when
    the Trainer has them, replace both networks' sizes and learning rates."""
    custom = fn_args.custom_config
    trainer = TrainerConfig.from_dict(
        {
            **custom[names.CONFIG_TRAINER],
            "train_steps": fn_args.train_steps or 0,  # TFX gives None for 0 (from the data)
            "validation_steps": fn_args.eval_steps or 0,  # TFX's EvalArgs: our validation split
        }
    )
    if fn_args.hyperparameters:
        trainer = apply_best(trainer, fn_args.hyperparameters.get("values", {}))
        log.info("hyperparameters from the Tuner: %s", fn_args.hyperparameters.get("values"))
    trainer.validate()
    return TrainJob(
        transform_output=fn_args.transform_graph_path,
        train_files=list(fn_args.train_files),
        validation_files=list(fn_args.eval_files),
        serving_model_dir=fn_args.serving_model_dir or "",
        model_run_dir=fn_args.model_run_dir or "",
        label_key=custom[names.CONFIG_LABEL],
        label_columns=list(custom[names.CONFIG_LABEL_COLUMNS]),
        columns=list(custom[names.CONFIG_FEATURES]),
        trainer=trainer,
        base_model=fn_args.base_model or "",
        code=custom.get(names.CONFIG_CODE, ""),
    )


def run_fn(fn_args) -> None:
    """TFX Trainer entry point (GenericExecutor)."""
    job = job_from(fn_args)
    resume.prepare(job)
    if job.config.train_workers > 1:
        from modules import multiworker

        multiworker.run(job)
        return
    train_and_export_here(job)
