"""What a training checkpoint holds, a restore that cannot leave a variable behind, and when a
checkpoint is saved."""

from __future__ import annotations

import os
import time
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


class CheckpointPacer:
    """Decides which of the `checkpoint_every` steps saves a checkpoint, so that saving costs at
    most `share` of the training time: after a save that took d seconds, the next waits
    d * (1 / share - 1) seconds. A small model on a fast disk still saves every
    `checkpoint_every` steps; a large one saves less often instead of stalling the step. The
    first due checkpoint and the last step always save. `share` 0, or several workers (which
    must all save at the same steps), keeps the step cadence alone."""

    def __init__(self, manager: tf.train.CheckpointManager, share: float, by_steps_only: bool):
        self.manager = manager
        self.share = 0.0 if by_steps_only else share
        self._next = 0.0

    def save(self, step: int, last: bool) -> None:
        if not last and self.share > 0 and time.perf_counter() < self._next:
            return
        started = time.perf_counter()
        self.manager.save(checkpoint_number=step)
        if self.share > 0:
            took = time.perf_counter() - started
            self._next = time.perf_counter() + took * (1 / self.share - 1)
