"""Training checkpoints (modules/checkpoints.py): what one holds, and a restore that refuses to
leave a variable at its initial value."""

import pytest
import tensorflow as tf

from modules import names
from modules.checkpoints import checkpoint_manager, restore_strictly
from modules.hparams import TrainerConfig


def test_a_checkpoint_missing_a_variable_fails_in_one_line_instead_of_a_partial_restore(tmp_path):
    saved = tf.train.Checkpoint(step=tf.Variable(7, dtype=tf.int64), dense=tf.Variable([1.0, 2.0]))
    path = saved.save(str(tmp_path / "ckpt"))
    complete = tf.train.Checkpoint(
        step=tf.Variable(0, dtype=tf.int64), dense=tf.Variable([0.0, 0.0])
    )
    restore_strictly(complete, path)  # everything matched: restored
    assert int(complete.step) == 7 and complete.dense.numpy().tolist() == [1.0, 2.0]
    grown = tf.train.Checkpoint(
        step=tf.Variable(0, dtype=tf.int64),
        dense=tf.Variable([0.0, 0.0]),
        added=tf.Variable([0.0]),  # e.g. a layer the new code adds
    )
    with pytest.raises(ValueError, match="does not match this model") as error:
        restore_strictly(grown, path)
    assert "\n" not in str(error.value)


def test_a_checkpoint_holds_the_model_step_optimizers_stopping_state_and_a_streams_position(
    tiny_penguins, tmp_path
):
    trainer = tiny_penguins.twin(TrainerConfig())
    iterator = iter(tf.data.Dataset.range(10))
    manager = checkpoint_manager(trainer, str(tmp_path), iterator)
    held = set(manager.checkpoint._trackable_children())
    assert held == {"model", "step", "optimizer_a", "optimizer_b", "early_stopping", "iterator"}
    assert manager.directory == str(tmp_path / names.CHECKPOINTS_DIR)
    in_memory = checkpoint_manager(trainer, str(tmp_path), None)
    assert "iterator" not in set(in_memory.checkpoint._trackable_children())
