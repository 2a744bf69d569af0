"""Early stopping: the bookkeeping on hand-made losses, and a joint run on generated data whose
validation loss turns up stops before its budget with the best validation's weights."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import names
from modules.early_stopping import EarlyStopping
from modules.hparams import NetworkSpec, TrainerConfig
from modules.job import seed_everything
from modules.layout import FeatureLayout
from modules.networks import TwinModel
from modules.training import JointTrainer

LAYOUT = FeatureLayout(numeric=("x",), categorical={}, n_outputs=1, numeric_widths={"x": (20,)})


def test_one_criterion_the_summed_loss_decides_both_patience_and_the_weights_kept():
    variable = tf.Variable([1.0, 2.0])
    stopping = EarlyStopping(tf.Module())
    stopping._model_variables, stopping.best_weights = [variable], [tf.Variable([0.0, 0.0])]
    assert stopping.update([1.0, 1.0], step=10)  # first validation: best
    variable.assign([5.0, 5.0])
    assert not stopping.update([0.9, 1.2], step=20)  # A improved, the sum did not
    assert int(stopping.stale.numpy()) == 1  # a stale validation, as the weights kept say
    assert not stopping.update([0.95, 1.1], step=30)
    assert stopping.exhausted(2) and not stopping.exhausted(3) and not stopping.exhausted(0)
    stopping.restore_best()
    np.testing.assert_array_equal(variable.numpy(), [1.0, 2.0])  # the weights of step 10
    assert int(stopping.best_step.numpy()) == 10


def overfitting_data(rows: int, seed: int) -> tf.data.Dataset:
    """y = x0 + noise: 20 features of which 19 are noise, so a wide network fits the noise of a
    small train split and its validation loss turns up."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 20)).astype(np.float32)
    y = (x[:, :1] + rng.normal(scale=1.0, size=(rows, 1))).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y))


def config(**changes) -> TrainerConfig:
    wide = NetworkSpec(hidden_units=(256, 256), learning_rate=1e-2)
    base = TrainerConfig(
        network_a=wide,
        network_b=dataclasses.replace(wide, activation="tanh"),
        normalization="population",
        loss="mse",
        task="regression",
        batch_size=16,
        train_steps=3000,
        validate_every=10,
        patience=5,
        log_every=10,
        checkpoint_every=50,
        seed=11,
    )
    return dataclasses.replace(base, **changes)


def trained(settings: TrainerConfig, run_dir=None):
    seed_everything(settings.seed)
    trainer = JointTrainer(TwinModel(LAYOUT, settings), settings)
    train = overfitting_data(32, seed=0).shuffle(32, seed=1).repeat().batch(16)
    validation = overfitting_data(512, seed=1).batch(128)
    history = trainer.fit(train, validation, run_dir)
    return trainer, validation, history


@pytest.mark.slow
def test_stops_when_validation_loss_turns_up_and_ends_with_the_best_weights(tmp_path):
    trainer, validation, history = trained(config(), str(tmp_path / "run"))
    step, best = trainer.current_step(), int(trainer.stopping.best_step.numpy())
    assert step < 3000, "the validation loss never turned up: no early stop"
    assert 0 < best <= step - 5 * 10  # five validations without improvement after the best
    assert "early stopping" in trainer.stop_reason
    for variable, copy in zip(trainer.model.variables, trainer.stopping.best_weights, strict=True):
        np.testing.assert_array_equal(variable.numpy(), copy.numpy())
    # The exported weights give exactly the best validation's summed loss.
    again = trainer.evaluate(validation, 0)
    best_sum = float(trainer.stopping.best_losses.numpy()[2])
    assert sum(again[f"{n}_loss"] for n in names.NETWORKS) == pytest.approx(best_sum, rel=1e-6)
    assert history[f"{names.EXPORTED_RUN}_{names.NETWORK_A}_loss"] == pytest.approx(
        again["network_a_loss"]
    )
    record = trainer.record(32)
    assert record["steps"] == step and record["best_step"] == best
    assert record["epochs"] == pytest.approx(step * 16 / 32)
    # The last checkpoint holds the same best weights (what a resumed run would restore).
    restored = JointTrainer(TwinModel(LAYOUT, config()), config())
    checkpoint = tf.train.Checkpoint(early_stopping=restored.stopping.checkpointed())
    checkpoint.restore(
        tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints"))
    ).expect_partial()
    for mine, theirs in zip(
        trainer.stopping.best_weights, restored.stopping.best_weights, strict=False
    ):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.slow
def test_a_resumed_run_stops_where_an_uninterrupted_one_does(tmp_path):
    straight, _, _ = trained(config())
    run_dir = str(tmp_path / "run")
    trained(config(train_steps=100), run_dir)  # "killed" at step 100, after its checkpoint
    resumed, _, _ = trained(config(), run_dir)
    assert resumed.current_step() == straight.current_step()
    assert int(resumed.stopping.best_step.numpy()) == int(straight.stopping.best_step.numpy())
    for a, b in zip(straight.model.variables, resumed.model.variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_budget_comes_from_the_data():
    settings = TrainerConfig(batch_size=32, max_epochs=100, min_steps=100, max_steps=50_000)
    assert settings.budgeted(232).train_steps == 800  # 8 steps an epoch
    assert settings.budgeted(232).validate_every == 8
    assert settings.budgeted(10).train_steps == 100  # the floor
    assert settings.budgeted(10_000_000).train_steps == 50_000  # the cap
    assert settings.budgeted(10_000_000).validate_every == 1000
    fixed = dataclasses.replace(settings, train_steps=40, validate_every=5)
    assert fixed.budgeted(232).train_steps == 40 and fixed.budgeted(232).validate_every == 5
