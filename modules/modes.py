"""The normalization modes as one table: what each can learn, which loss suits it, how a served
prediction is read from it. Every place that depends on the mode reads this table.

A network has n outputs: the class count for classification, the target count for regression.
Per-example modes normalize each row of n outputs on its own, so they need enough outputs for the
normalized row to still vary: range and standardize map any row of n <= 2 to a fixed pattern
({0, 1} or {-1, +1}) and `shared` standardizes 2n values, constant for n = 1. They also erase
each row's level and scale, so a regression value cannot be read back in the label's units from
them; only `population` (frozen per-output statistics, an affine map at serving) can.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Tuple

AUTO = "auto"
CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
MSE = "mse"
CROSS_ENTROPY = "cross_entropy"
LOSSES = (MSE, CROSS_ENTROPY)


@dataclasses.dataclass(frozen=True)
class Mode:
    name: str
    formula: str
    min_classes: int  # fewest classes whose normalized row still varies per example
    regression: bool  # a prediction in the label's units can be read back from the scores
    per_example: bool  # statistics of each row alone (True) or of the training population (False)
    loss: str  # the loss that suits the mode for classification (regression is always MSE)
    invariant: str  # what holds between `*_raw` and `*_scores` on every served row
    # A trainable per-output scale and shift shared by both networks follows the normalization
    # (normalization.PopulationAffine): population statistics centre every output, leaving no prior.
    affine: bool = False

    def serves(self, task: str, n_outputs: int) -> bool:
        if task == REGRESSION:
            return self.regression
        return n_outputs >= self.min_classes


MODES: Dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode(
            "range",
            "(x - min_j x) / max(max_j x - min_j x, eps)",
            min_classes=3,
            regression=False,
            per_example=True,
            loss=MSE,
            invariant="each row in [0, 1] with its min at 0 and its max at 1",
        ),
        Mode(
            "standardize",
            "(x - mean_j x) / sqrt(var_j x + eps)",
            min_classes=3,
            regression=False,
            per_example=True,
            loss=CROSS_ENTROPY,
            invariant="each row has mean 0 and variance 1",
        ),
        Mode(
            "shared",
            "standardize over concat(a, b) per example",
            min_classes=2,
            regression=False,
            per_example=True,
            loss=CROSS_ENTROPY,
            invariant="each row of both networks together has mean 0 and variance 1",
        ),
        Mode(
            "population",
            "scale * (x - moving_mean) / sqrt(moving_var + eps) + shift per output",
            min_classes=2,
            regression=True,
            per_example=False,
            loss=CROSS_ENTROPY,
            invariant="frozen statistics: a row's scores do not depend on the rest of the batch",
            affine=True,
        ),
    )
}
NAMES: Tuple[str, ...] = tuple(MODES)


def modes_for(task: str, n_outputs: int) -> Tuple[str, ...]:
    """Every mode that can learn `task` with `n_outputs` outputs per network."""
    return tuple(name for name, mode in MODES.items() if mode.serves(task, n_outputs))


def choose(task: str, n_outputs: int) -> str:
    """`auto`: the article's range normalization where it carries signal (3+ classes), else
    population statistics, which serve every class count and regression."""
    return "range" if MODES["range"].serves(task, n_outputs) else "population"


def describe(task: str, n_outputs: int) -> str:
    if task == REGRESSION:
        return f"regression with {n_outputs} target(s)"
    return "a binary label" if n_outputs == 2 else f"{n_outputs} classes"


def check(mode: str, task: str, n_outputs: int) -> None:
    """Refuses a mode that cannot learn the task, naming the modes that can."""
    if n_outputs < 1 or (task == CLASSIFICATION and n_outputs < 2):
        raise ValueError(
            f"{describe(task, n_outputs)}: a classification label needs at least 2 distinct values"
        )
    if not MODES[mode].serves(task, n_outputs):
        why = (
            "per-example statistics erase each prediction's level and scale"
            if task == REGRESSION
            else f"each row of {n_outputs} normalized outputs is a constant pattern"
        )
        raise ValueError(
            f"normalization {mode!r} cannot learn {describe(task, n_outputs)} ({why}); use "
            f"--normalization auto or one of: {', '.join(modes_for(task, n_outputs))}"
        )


def fill(mode: str, loss: str, task: str, n_outputs: int) -> Tuple[str, str]:
    """(mode, loss) with `auto` replaced by the table's choice; nothing is checked (the article's
    research setting trains any mode on targets in normalized space)."""
    mode = choose(task, n_outputs) if mode == AUTO else mode
    if loss == AUTO:
        loss = MSE if task == REGRESSION else MODES[mode].loss
    return mode, loss


def resolve(mode: str, loss: str, task: str, n_outputs: int) -> Tuple[str, str]:
    """`fill`, then refuse what cannot learn the task and serve a prediction."""
    mode, loss = fill(mode, loss, task, n_outputs)
    check(mode, task, n_outputs)
    if task == REGRESSION and loss != MSE:
        raise ValueError(
            f"loss {loss!r} needs a classification label; regression trains with 'mse'"
        )
    return mode, loss


def takes_pair(mode: str, population_shared: bool = False) -> bool:
    """Whether one layer normalizes both networks together (called on [a, b])."""
    return mode == "shared" or (mode == "population" and population_shared)


def needs_both_networks(mode: str) -> bool:
    """A network served alone still needs the other network's outputs: per-example shared
    statistics (frozen population statistics need only stored values)."""
    return mode == "shared"
