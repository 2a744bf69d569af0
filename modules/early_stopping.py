"""Early stopping on the validation split, with the best weights kept inside the checkpoint.

Each validation gives one loss per network. One criterion decides both when to stop and what to
keep: the summed loss of both networks. It improves when it falls below its best so far (by a
relative 1e-4); training stops once it did not improve for `patience` validations in a row, and
the weights kept are those of its lowest value: one model state serves both networks and the
combined prediction, so the networks are restored from the same step. (Each network's own best
loss is still tracked, for the log.)

The state (best losses, best step, validations since an improvement) and a copy of every model
variable at the best step are tf.Variables created in the strategy's scope and saved in the
training checkpoint, so a resumed run, or every worker of a multi-worker run, decides exactly as
an uninterrupted one does.
"""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow as tf

MIN_RELATIVE_IMPROVEMENT = 1e-4


class EarlyStopping:
    """Tracks validation losses of both networks and a copy of the model at the best one."""

    def __init__(self, model: tf.Module):
        self._model_variables = list(model.variables)
        # Per network, then their sum; inf until the first validation.
        self.best_losses = tf.Variable(
            [float("inf")] * 3, dtype=tf.float64, trainable=False, name="best_losses"
        )
        self.best_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="best_step")
        self.stale = tf.Variable(0, dtype=tf.int64, trainable=False, name="stale_validations")
        # Plateaus met so far (modules/schedule.py lowers the learning rates at each).
        self.plateaus = tf.Variable(0, dtype=tf.int64, trainable=False, name="plateaus")
        self.best_weights = [
            tf.Variable(v.read_value(), trainable=False, name=f"best_{i}")
            for i, v in enumerate(self._model_variables)
        ]

    def update(self, losses: Sequence[float], step: int, plateau_after: int = 0) -> bool:
        """Records one validation ([network A loss, network B loss]); returns whether its summed
        loss is the best so far (then the model's weights are copied). The `plateau_after`-th
        stale validation in a row counts a plateau (0: never)."""
        best = self.best_losses.numpy()
        values = [*losses, sum(losses)]
        improved = [_better(v, b) for v, b in zip(values, best, strict=True)]
        best_total = bool(improved[2])
        stale = 0 if best_total else int(self.stale.numpy()) + 1
        self.stale.assign(stale)
        if plateau_after and stale == plateau_after:
            self.plateaus.assign_add(1)
        self.best_losses.assign([min(v, b) for v, b in zip(values, best, strict=True)])
        if best_total:
            self.best_step.assign(step)
            for copy, variable in zip(self.best_weights, self._model_variables, strict=True):
                copy.assign(variable.read_value())
        return best_total

    def checkpointed(self) -> tf.train.Checkpoint:
        """The state and the best weights, for the training checkpoint."""
        return tf.train.Checkpoint(
            best_losses=self.best_losses,
            best_step=self.best_step,
            stale=self.stale,
            plateaus=self.plateaus,
            best_weights=self.best_weights,
        )

    def exhausted(self, patience: int) -> bool:
        """Whether `patience` validations in a row left the summed loss above its best (0: never)."""
        return patience > 0 and int(self.stale.numpy()) >= patience

    def reason(self, validating: bool, patience: int, budget: int) -> str:
        """Why training stopped, for the log, training.json and the console."""
        best = int(self.best_step.numpy())
        if validating and self.exhausted(patience):
            return (
                f"early stopping: the networks' summed validation loss did not improve in "
                f"{patience} validations; weights of step {best} restored"
            )
        restored = f"; weights of step {best} restored" if validating and best else ""
        return f"reached the budget of {budget} steps{restored}"

    def restore_best(self) -> None:
        """Sets the model to the best validation's weights (no-op before any validation)."""
        if int(self.best_step.numpy()) == 0:
            return
        for variable, copy in zip(self._model_variables, self.best_weights, strict=True):
            variable.assign(copy.read_value())


def _better(value: float, best: float) -> bool:
    return math.isinf(best) or value < best - MIN_RELATIVE_IMPROVEMENT * abs(best)
