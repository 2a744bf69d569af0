"""The joint loop's learning-rate schedule: each optimizer's configured Adam rate times one factor
that falls on validation plateaus and over the end of the training budget.

At a constant rate Adam ends in the noise its step size leaves around a minimum; a lower rate
settles there. Two things lower it, both decided from state that every worker and every resumed
run shares (the step, the budget, and the plateau count saved with early stopping's state):
- a plateau: when the summed validation loss has gone half the patience without improving, the
  factor is multiplied by PLATEAU_FACTOR, so early stopping spends the rest of its patience at
  the lower rate (Keras' ReduceLROnPlateau ahead of EarlyStopping). Training goes on from where
  it is; restoring the best weights at a plateau was measured and lost (benchmarks/quality.py
  on five files: one run no longer blessed);
- the budget's end: over the budget's last END_SHARE the factor falls linearly to END_FLOOR, so
  a run that the budget stops (a large split) ends at a low rate rather than mid-stride.
The factor is set where control returns to Python (every log, checkpoint or validation), so it
is a step function of at most `log_every` steps per stair.
"""

from __future__ import annotations

from typing import Mapping

import tf_keras as keras

PLATEAU_FACTOR = 0.3
END_SHARE = 0.25
END_FLOOR = 0.05


def plateau_after(patience: int) -> int:
    """Validations without improvement that make a plateau: half the patience (0: none, as with
    patience 0 or 1 training runs to the budget or stops at the first stale validation)."""
    return patience // 2


def factor(step: int, budget: int, plateaus: int) -> float:
    """The multiplier of every configured rate at `step` of `budget` after `plateaus` plateaus."""
    tail = max(1, round(END_SHARE * budget))
    end = min(1.0, max(END_FLOOR, (budget - step) / tail))
    return PLATEAU_FACTOR**plateaus * end


def apply(
    optimizers: Mapping[str, keras.optimizers.Optimizer],
    rates: Mapping[str, float],
    multiplier: float,
) -> None:
    """Sets each optimizer's rate to its configured rate times `multiplier`."""
    for name, optimizer in optimizers.items():
        optimizer.learning_rate.assign(rates[name] * multiplier)
