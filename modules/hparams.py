"""The Trainer's hyperparameters: one frozen dataclass, passed to run_fn as TFX custom_config.

Every hyperparameter is named here once; the pipeline config embeds a `TrainerConfig`, the
command line overrides fields of it, and run_fn rebuilds it with `TrainerConfig.from_dict`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Tuple

from modules import modes
from modules.options import non_negative, option, positive

NORMALIZATION_MODES = (modes.AUTO, *modes.NAMES)
LOSSES = (modes.AUTO, *modes.LOSSES)
TASKS = (modes.AUTO, *modes.TASKS)
WARM_START = ("", "a", "b", "both")
MAX_VALIDATE_EVERY = 1000  # steps: a large split is validated at least this often
# Rows the Trainer reads of the validation split (a random sample: ExampleGen shuffles): enough
# for a steady early-stopping signal and a calibration map of a few parameters; every row of a
# large split would cost more than the training steps between two passes, and calibration and
# the output histograms would grow with the data.
MAX_VALIDATION_ROWS = 65_536
ACTIVATIONS = ("relu", "tanh", "gelu", "elu", "selu", "sigmoid", "swish")


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Architecture and optimizer of one network; network A and B may differ."""

    hidden_units: Tuple[int, ...] = ()  # empty: sized from the data (`sized`)
    activation: str = "relu"
    dropout: float = 0.0
    learning_rate: float = 1e-2

    def sized(self, width: int, n_outputs: int) -> "NetworkSpec":
        """Empty `hidden_units` -> (h, h/2), h the power of two nearest above twice the input width
        plus outputs, within [32, 256]: 7 penguin columns give (32, 16), 64 pixels and 10 classes
        (256, 128), so both networks have room for wider data without hand-tuning."""
        if self.hidden_units:
            return self
        h = min(256, max(32, 2 ** math.ceil(math.log2(2 * (width + n_outputs)))))
        return dataclasses.replace(self, hidden_units=(h, h // 2))

    def validate(self, name: str) -> None:
        if any(u <= 0 for u in self.hidden_units):
            raise ValueError(f"{name}: hidden_units must be positive, got {self.hidden_units}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"{name}: activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {self.dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"{name}: learning_rate must be > 0, got {self.learning_rate}")


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """Everything run_fn needs besides the data; JSON-serializable through to_dict/from_dict."""

    network_a: NetworkSpec = NetworkSpec()
    network_b: NetworkSpec = NetworkSpec(activation="tanh", learning_rate=5e-3)
    # `auto` (modes.choose) until the label is known: the CLI resolves it from the CSV's label
    # column before any component runs, so the Trainer always receives a concrete mode and loss.
    normalization: str = option(
        modes.AUTO,
        "output normalization; auto: range for 3+ classes, population for a binary label or regression",
        "model",
        choices=NORMALIZATION_MODES,
    )
    population_shared: bool = option(
        False, "population mode: one set of statistics across both networks", "model"
    )
    population_momentum: float = 0.9
    epsilon: float = 1e-6
    loss: str = option(
        modes.AUTO,
        "training loss; auto: the mode's own for classification, mse for regression",
        "model",
        choices=LOSSES,
    )
    task: str = option(
        modes.AUTO,
        "auto: regression when every label value is a number and there are more than 20 distinct "
        "ones or any is fractional, else classification",
        "model",
        choices=TASKS,
    )
    members: int = option(
        4,
        "ensemble members per network: independent MLPs trained on the mean of their losses, "
        "served as the mean of their normalized scores (modules/mlp.py)",
        "model",
        parse=positive,
    )
    batch_size: int = option(
        32, "examples per joint step (global across workers)", "model", parse=positive
    )
    train_steps: int = option(
        0,
        "at most this many joint steps (default: from the data, max_epochs passes within "
        "[min_steps, max_steps] steps)",
        "model",
        parse=positive,
    )
    max_epochs: int = 100
    min_steps: int = 100
    max_steps: int = 50_000
    # Early stopping on the validation split: stop once the networks' summed validation loss did
    # not improve for `patience` evaluations in a row (0: train to the budget), then restore the
    # weights of the evaluation with the lowest summed validation loss. An evaluation every
    # `validate_every` steps; 0: once per epoch, within [1, MAX_VALIDATE_EVERY].
    patience: int = option(
        10,
        "stop after this many validations without improvement, 0 never",
        "model",
        parse=non_negative,
    )
    validate_every: int = 0
    validation_steps: int = option(
        0,
        f"batches per validation pass (default: the validation split, at most "
        f"{MAX_VALIDATION_ROWS:,} rows, which calibration fits on)",
        "model",
        parse=positive,
    )
    seed: int = option(42, "seeds every random choice of the Trainer", "model")
    log_every: int = 50
    checkpoint_every: int = 100
    # At most this share of training time goes to saving checkpoints (modules/checkpoints.py).
    checkpoint_share: float = 0.05
    shuffle_buffer: int = 1024  # examples, when the training split streams from disk
    # A training split whose parsed columns fit in this fraction of the Trainer's memory (the
    # machine's, or its container's limit) is parsed once and held in memory, permuted whole
    # every epoch; a larger one streams. 0 always streams. Checkpoints hold the step, not the data.
    in_memory_fraction: float = 0.25
    train_workers: int = option(
        1,
        "training processes under MultiWorkerMirroredStrategy on this machine; the batch size "
        "stays global",
        "model",
        parse=positive,
    )
    warm_start: str = option(
        "",
        "initialize network A, B or both from the latest blessed model's weights (TFX's base_model) "
        "and train jointly as usual (default: both from scratch)",
        "model",
        choices=tuple(c for c in WARM_START if c),
    )

    def validate(self, n_outputs: int | None = None) -> None:
        """Refuse configurations that cannot train; `n_outputs` is checked once it is known."""
        self.network_a.validate("network_a")
        self.network_b.validate("network_b")
        _one_of("normalization", self.normalization, NORMALIZATION_MODES)
        _one_of("loss", self.loss, LOSSES)
        _one_of("task", self.task, TASKS)
        _one_of("warm_start", self.warm_start, WARM_START)
        if self.task == modes.REGRESSION and self.loss == modes.CROSS_ENTROPY:
            raise ValueError(
                "loss 'cross_entropy' needs task 'classification'; use 'mse' for regression"
            )
        for field in (
            "batch_size",
            "members",
            "max_epochs",
            "min_steps",
            "max_steps",
            "log_every",
            "checkpoint_every",
            "train_workers",
        ):
            if getattr(self, field) <= 0:
                raise ValueError(f"{field} must be > 0, got {getattr(self, field)}")
        for field in ("train_steps", "validation_steps", "patience", "validate_every"):
            if getattr(self, field) < 0:
                raise ValueError(f"{field} must be >= 0, got {getattr(self, field)}")
        if not 0 <= self.checkpoint_share < 1:
            raise ValueError(f"checkpoint_share must be in [0, 1), got {self.checkpoint_share}")
        if self.min_steps > self.max_steps:
            raise ValueError(
                f"min_steps {self.min_steps} must be at most max_steps {self.max_steps}"
            )
        if self.batch_size % self.train_workers:
            raise ValueError(
                f"batch_size {self.batch_size} must be a multiple of train_workers {self.train_workers} "
                "(each worker takes an equal share of the global batch)"
            )
        if not 0.0 <= self.in_memory_fraction < 1.0:
            raise ValueError(f"in_memory_fraction must be in [0, 1), got {self.in_memory_fraction}")
        if not 0.0 < self.population_momentum < 1.0:
            raise ValueError(
                f"population_momentum must be in (0, 1), got {self.population_momentum}"
            )
        if self.epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {self.epsilon}")
        if self.normalization == "population" and self.batch_size < 2:
            raise ValueError(
                f"normalization 'population' needs batch_size >= 2, got {self.batch_size}: the "
                "statistics of a one-example batch are zero, so training would learn nothing"
            )
        if n_outputs is not None:
            if modes.AUTO in (self.task, self.normalization, self.loss):
                raise ValueError(
                    "task, normalization and loss must be resolved (TrainerConfig.resolved) before training"
                )
            modes.check(self.normalization, self.task, n_outputs)

    def resolved(self, task: str, n_outputs: int) -> "TrainerConfig":
        """`auto` task, mode and loss replaced for a label of `n_outputs` classes or targets."""
        mode, loss = modes.resolve(self.normalization, self.loss, task, n_outputs)
        return dataclasses.replace(self, task=task, normalization=mode, loss=loss)

    def for_layout(self, task: str, width: int, n_outputs: int) -> "TrainerConfig":
        """What a model is built with: `auto` filled from the table (unchecked) and `auto` network
        sizes derived from the input width and output count."""
        task = task if self.task == modes.AUTO else self.task
        mode, loss = modes.fill(self.normalization, self.loss, task, n_outputs)
        return dataclasses.replace(
            self,
            task=task,
            normalization=mode,
            loss=loss,
            network_a=self.network_a.sized(width, n_outputs),
            network_b=self.network_b.sized(width, n_outputs),
        )

    def budgeted(self, train_rows: int) -> "TrainerConfig":
        """`train_steps` and `validate_every` for a train split of `train_rows` examples: an epoch
        is ceil(rows / batch) steps; the budget `max_epochs` epochs within [min_steps,
        max_steps] unless `train_steps` fixes it, one validation per epoch unless set."""
        epoch = max(1, math.ceil(train_rows / self.batch_size))
        steps = self.train_steps or min(
            self.max_steps, max(self.min_steps, self.max_epochs * epoch)
        )
        every = self.validate_every or min(epoch, MAX_VALIDATE_EVERY)
        return dataclasses.replace(self, train_steps=steps, validate_every=min(every, steps))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainerConfig":
        values = dict(values)
        for name in ("network_a", "network_b"):
            if name in values and isinstance(values[name], Mapping):
                spec = dict(values[name])
                spec["hidden_units"] = tuple(spec.get("hidden_units", NetworkSpec.hidden_units))
                values[name] = NetworkSpec(**spec)
        return cls(**values)


def _one_of(name: str, value: str, allowed: Tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


# -- a tuning trial's values (modules/tuning.py searches them; the Trainer applies the best) ----
def units_key(network: str) -> str:
    return f"{network}_units"


def learning_rate_key(network: str) -> str:
    return f"{network}_learning_rate"


def apply_best(config: TrainerConfig, values: Mapping[str, Any]) -> TrainerConfig:
    """The config with a trial's sizes (units, units/2) and learning rates for each network."""
    changes = {}
    for network in ("network_a", "network_b"):
        spec = getattr(config, network)
        if units_key(network) in values:
            units = int(values[units_key(network)])
            spec = dataclasses.replace(spec, hidden_units=(units, max(1, units // 2)))
        if learning_rate_key(network) in values:
            spec = dataclasses.replace(
                spec, learning_rate=float(values[learning_rate_key(network)])
            )
        changes[network] = spec
    return dataclasses.replace(config, **changes)
