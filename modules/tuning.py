"""The Tuner's tuner_fn: KerasTuner's random search over both networks' sizes and learning rates,
each trial trained with the joint loop.

KerasTuner drives a `model.fit` by default, and our two networks train in one GradientTape loop,
so `JointTuner` overrides `run_trial`: it builds the trial's TrainerConfig, trains it with the same
`job.fit` the Trainer uses (early stopping included), and returns the summed validation loss of
both networks at the best validation (the objective): the Tuner never sees the eval split.
A network that warm-starts keeps its configured width, so the blessed weights fit the best trial.
TFX's Tuner writes the best trial's hyperparameters, which the Trainer applies
(`hparams.apply_best`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Tuple

import keras_tuner
import tensorflow as tf
from absl import logging as log
from tfx import v1 as tfx

from modules import names
from modules.hparams import apply_best, learning_rate_key, units_key
from modules.job import fit
from modules.trainer import job_from
from modules.warm_start import networks_of

OBJECTIVE = "validation_loss"  # network A's plus network B's mean loss on the validation split
UNITS = (16, 32, 64, 128)  # first hidden layer; the second has half as many
LEARNING_RATES = (1e-3, 3e-2)  # log-uniform range


def search_space(hp: keras_tuner.HyperParameters, warm_started: Tuple[str, ...] = ()) -> None:
    """A warm-started network keeps its width (the blessed model's weights must fit it); only
    its learning rate is searched."""
    for network in names.NETWORKS:
        if network not in warm_started:
            hp.Choice(units_key(network), list(UNITS))
        hp.Float(learning_rate_key(network), *LEARNING_RATES, sampling="log")


class JointTuner(keras_tuner.Tuner):
    """A KerasTuner whose trial is the joint two-network training of one TrainJob."""

    def __init__(self, job, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def run_trial(self, trial, *args, **kwargs) -> dict:
        config = dataclasses.replace(
            apply_best(self.job.config, trial.hyperparameters.values), warm_start=""
        )
        job = dataclasses.replace(self.job, trainer=config)
        fitted = fit(job, tf.distribute.get_strategy(), None)
        loss = sum(fitted.history[f"{names.EXPORTED_RUN}_{n}_loss"] for n in names.NETWORKS)
        log.info(
            "trial %s: %s -> %s %.5g", trial.trial_id, trial.hyperparameters.values, OBJECTIVE, loss
        )
        return {OBJECTIVE: loss}


def tuner_fn(fn_args) -> tfx.components.TunerFnResult:
    """TFX Tuner entry point: `max_trials` from custom_config, steps from TrainArgs/EvalArgs."""
    job = job_from(fn_args)
    trials = int(fn_args.custom_config[names.CONFIG_TUNE_TRIALS])
    hp = keras_tuner.HyperParameters()
    search_space(hp, networks_of(job.config.warm_start))
    tuner = JointTuner(
        job,
        oracle=keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective(OBJECTIVE, "min"),
            max_trials=trials,
            hyperparameters=hp,
            seed=job.config.seed,
        ),
        directory=os.path.join(fn_args.working_dir or "", "trials"),
        project_name="twinnorm",
        overwrite=True,
    )
    return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs={})
