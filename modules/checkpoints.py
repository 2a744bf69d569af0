"""What a training checkpoint holds, and a restore that cannot leave a variable behind."""

from __future__ import annotations

import os
from typing import Iterator, Optional

import tensorflow as tf

from modules import names


def checkpoint_manager(
    trainer, run_dir: str, iterator: Optional[Iterator]
) -> tf.train.CheckpointManager:
    """What a training checkpoint holds: the model, the step, each optimizer, the early-stopping
    state and, for a streaming input, its position."""
    state = dict(
        model=trainer.model,
        step=trainer.step,
        optimizer_a=trainer.optimizers[names.NETWORK_A],
        optimizer_b=trainer.optimizers[names.NETWORK_B],
    )
    if names.SHARED_AFFINE in trainer.optimizers:
        state["optimizer_shared"] = trainer.optimizers[names.SHARED_AFFINE]
    if isinstance(iterator, tf.data.Iterator):
        # A streaming input's position too; a multi-worker DistributedIterator cannot be
        # saved, so a resumed multi-worker run that streams restarts its input.
        state["iterator"] = iterator
    state["early_stopping"] = trainer.stopping.checkpointed()
    checkpoint = tf.train.Checkpoint(**state)
    return tf.train.CheckpointManager(
        checkpoint, os.path.join(run_dir, names.CHECKPOINTS_DIR), max_to_keep=2
    )


def restore_strictly(checkpoint: tf.train.Checkpoint, path: str) -> None:
    """Restores `path` into every variable that exists, or fails in one line naming the first
    that the checkpoint does not hold: a partial restore would resume the step counter with some
    weights or optimizer slots left at their initial values."""
    status = checkpoint.restore(path)
    try:
        status.assert_existing_objects_matched()
    except AssertionError as error:
        missing = str(error).strip().splitlines()[0][:300]
        raise ValueError(
            f"checkpoint {path} does not match this model ({missing}); it was written by other "
            "code or another configuration: train into a new --output or delete that checkpoint"
        ) from None
    status.expect_partial()  # the checkpoint may hold more (e.g. the input iterator's state)
