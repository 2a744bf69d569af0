"""The Tuner's module (modules/tuning.py): tuner_fn, given TFX's own FnArgs on a tiny real
Transform output, searches both networks' sizes and learning rates by the joint validation loss."""

import dataclasses

import keras_tuner
from tfx.components.trainer.fn_args_utils import FnArgs

from modules import names
from modules.hparams import learning_rate_key, units_key
from modules.tuning import LEARNING_RATES, OBJECTIVE, UNITS, search_space, tuner_fn
from pipeline.pipeline import trainer_config


def test_two_trials_search_the_space_and_the_best_has_the_lowest_joint_loss(
    tiny_penguins, tmp_path
):
    config = dataclasses.replace(
        tiny_penguins.config,
        trainer=dataclasses.replace(tiny_penguins.config.trainer, log_every=20),
    )
    result = tuner_fn(
        FnArgs(
            working_dir=str(tmp_path),
            train_files=tiny_penguins.files("train"),
            eval_files=tiny_penguins.files("validation"),
            train_steps=20,
            eval_steps=0,
            transform_graph_path=tiny_penguins.transform_graph,
            custom_config={**trainer_config(config), names.CONFIG_TUNE_TRIALS: 2},
        )
    )
    result.tuner.search(**result.fit_kwargs)
    trials = result.tuner.oracle.get_best_trials(num_trials=2)
    assert len(trials) == 2
    losses = [t.metrics.get_best_value(OBJECTIVE) for t in trials]
    assert losses == sorted(losses) and all(loss > 0 for loss in losses)
    for trial in trials:
        values = trial.hyperparameters.values
        for network in names.NETWORKS:
            assert values[units_key(network)] in UNITS
            low, high = LEARNING_RATES
            assert low <= values[learning_rate_key(network)] <= high


def test_a_warm_started_network_keeps_its_width_so_the_blessed_weights_fit_the_best_trial():
    space = keras_tuner.HyperParameters()
    search_space(space, (names.NETWORK_A,))
    searched = set(space.values)
    assert units_key(names.NETWORK_A) not in searched
    assert {units_key(names.NETWORK_B), learning_rate_key(names.NETWORK_A)} <= searched
