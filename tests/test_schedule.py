"""The learning-rate schedule: the factor's arithmetic, plateaus counted by early stopping, and a
joint run whose optimizers end at the rate the schedule names."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import names, schedule
from modules.early_stopping import EarlyStopping
from modules.losses import learning_rates
from modules.networks import TwinModel
from modules.training import JointTrainer
from tests.test_early_stopping import LAYOUT, config, overfitting_data


def test_the_factor_is_one_until_the_budgets_last_quarter_then_falls_linearly_to_its_floor():
    assert schedule.factor(0, 1000, 0) == 1.0
    assert schedule.factor(750, 1000, 0) == 1.0
    assert schedule.factor(875, 1000, 0) == pytest.approx(0.5)
    assert schedule.factor(1000, 1000, 0) == schedule.END_FLOOR
    assert schedule.factor(100, 1000, 2) == pytest.approx(schedule.PLATEAU_FACTOR**2)
    assert schedule.factor(0, 1, 0) == 1.0 and schedule.factor(1, 1, 0) == schedule.END_FLOOR


def test_a_plateau_is_half_the_patience_of_stale_validations_counted_once_per_plateau():
    stopping = EarlyStopping(tf.Module())
    after = schedule.plateau_after(4)
    losses = [1.0, 1.1, 1.2, 1.3, 0.5, 0.6, 0.7, 0.8]  # stale 0,1,2,3 then 0,1,2,3
    counts = []
    for step, loss in enumerate(losses, start=1):
        stopping.update([loss, loss], step, after)
        counts.append(int(stopping.plateaus.numpy()))
    assert after == 2 and counts == [0, 0, 1, 1, 1, 1, 2, 2]
    assert schedule.plateau_after(0) == 0 and schedule.plateau_after(1) == 0
    assert stopping.checkpointed().plateaus is stopping.plateaus  # a resumed run counts on


def test_a_joint_run_ends_with_each_optimizer_at_its_rate_times_the_schedules_factor():
    base = config(train_steps=400, patience=6, validate_every=10, log_every=10)
    model = TwinModel(LAYOUT, base)
    trainer = JointTrainer(model, base)
    trainer.fit(overfitting_data(64, 1).batch(16).repeat(), overfitting_data(200, 2).batch(50))
    plateaus = int(trainer.stopping.plateaus.numpy())
    assert plateaus >= 1  # a wide network on 64 rows overfits: the validation loss stalls
    assert "early stopping" in trainer.stop_reason
    # The rate of the last stretch trained: set where control last returned before the end.
    last = trainer.current_step() - base.log_every
    expected = schedule.factor(last, base.train_steps, plateaus)
    for name, rate in learning_rates(trainer.config, model.variable_groups).items():
        np.testing.assert_allclose(
            float(trainer.optimizers[name].learning_rate.numpy()), rate * expected, rtol=1e-6
        )
    assert trainer.record()["plateaus"] == plateaus


def test_patience_zero_trains_at_the_configured_rate_until_the_budgets_end():
    base = dataclasses.replace(config(train_steps=200, log_every=10), patience=0)
    model = TwinModel(LAYOUT, base)
    trainer = JointTrainer(model, base)
    trainer.fit(overfitting_data(64, 1).batch(16).repeat(), overfitting_data(200, 2).batch(50))
    assert int(trainer.stopping.plateaus.numpy()) == 0
    rate = base.network_a.learning_rate
    last = float(trainer.optimizers[names.NETWORK_A].learning_rate.numpy())
    assert last == pytest.approx(rate * schedule.factor(190, 200, 0))
