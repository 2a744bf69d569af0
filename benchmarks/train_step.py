"""Examples/s of our joint train step against the article's loop and `model.fit`, per batch size.

    python -m benchmarks.train_step [--quick] [--json PATH]

Same networks (the default network A and B), same `range` normalization and MSE loss, same
in-memory penguin-shaped batches. Every side is traced before timing; the sides alternate. Ours
runs as `JointTrainer.fit` does (50 steps per tf.function call). The fair `model.fit` baseline
runs as many steps per call (`steps_per_execution=50`); the one-step-per-call `model.fit` row is
kept beside it, and a diagnostic row times ours one call per step, the article's loop shape, to
show the per-step graph on its own.
"""

from __future__ import annotations

import time
from typing import Callable, Dict

import numpy as np
import tensorflow as tf

from benchmarks.baselines import ArticleLoop, fit_targets, functional_twin
from benchmarks.common import Comparison, alternate, benchmark_args, side, write_result
from modules.hparams import TrainerConfig
from modules.job import seed_everything
from modules.layout import FeatureLayout
from modules.networks import TwinModel
from modules.training import JointTrainer

# The penguin table after Transform: 5 numerics, island (3 + OOV) and sex (3 + OOV) as ids.
PENGUIN_LAYOUT = FeatureLayout(
    numeric=("x",), categorical={"island": 4, "sex": 4}, n_outputs=3, numeric_widths={"x": (5,)}
)
BATCH_SIZES = (64, 256, 1024)
EXAMPLES_PER_TIMING = {False: 40_000, True: 8_000}  # by --quick


def penguin_like_batches(batch_size: int, seed: int = 0) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    n = 8192
    features = {
        "x": rng.normal(size=(n, 5)).astype(np.float32),
        "island": rng.integers(0, 4, n),
        "sex": rng.integers(0, 4, n),
    }
    labels = rng.integers(0, 3, n)
    return (
        tf.data.Dataset.from_tensor_slices((features, labels))
        .repeat()
        .batch(batch_size)
        .prefetch(2)
    )


def call_timer(
    call: Callable, dataset: tf.data.Dataset, examples_per_call: int, calls: int
) -> Callable[[], float]:
    """Examples/s of `calls` calls of `call(iterator)`, after one untimed call that traces."""
    iterator = iter(dataset)
    call(iterator)

    def measure() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            loss = call(iterator)
        float(loss)  # the last call has finished
        return calls * examples_per_call / (time.perf_counter() - started)

    return measure


def loop_timer(
    step: Callable, dataset: tf.data.Dataset, batch_size: int, steps: int
) -> Callable[[], float]:
    """A custom loop in the article's shape: Python pulls a batch, one tf.function call per step."""
    return call_timer(lambda iterator: step(next(iterator)), dataset, batch_size, steps)


def trainer_timer(
    trainer: JointTrainer, dataset: tf.data.Dataset, batch_size: int, steps: int
) -> Callable[[], float]:
    """Our loop as `JointTrainer.fit` runs it: `log_every` steps per call, batches pulled in-graph."""
    chunk = tf.constant(trainer.config.log_every, tf.int64)
    return call_timer(
        lambda iterator: trainer.train_steps(iterator, chunk),
        dataset,
        trainer.config.log_every * batch_size,
        max(1, steps // trainer.config.log_every),
    )


def fit_timer(
    dataset: tf.data.Dataset,
    config: TrainerConfig,
    batch_size: int,
    steps: int,
    steps_per_execution: int = 1,
) -> Callable[[], float]:
    model = functional_twin(PENGUIN_LAYOUT, config, steps_per_execution)
    data = dataset.map(
        lambda features, labels: fit_targets(features, labels, PENGUIN_LAYOUT.n_outputs)
    )
    model.fit(data, epochs=1, steps_per_epoch=steps_per_execution * 2, verbose=0)  # trace

    def measure() -> float:
        started = time.perf_counter()
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
        return steps * batch_size / (time.perf_counter() - started)

    return measure


def measure_batch(batch_size: int, steps: int, repeats: int) -> Dict[str, list]:
    # One member per network: the article's networks, so every loop does equal work.
    config = TrainerConfig(batch_size=batch_size, members=1)
    seed_everything(config.seed)
    dataset = penguin_like_batches(batch_size)
    joint = JointTrainer(TwinModel(PENGUIN_LAYOUT, config), config)
    single = JointTrainer(TwinModel(PENGUIN_LAYOUT, config), config)
    article = ArticleLoop(PENGUIN_LAYOUT, config)
    return alternate(
        {
            "joint": trainer_timer(joint, dataset, batch_size, steps),
            "joint_per_call": loop_timer(single.train_step, dataset, batch_size, steps),
            "article": loop_timer(article.train_step, dataset, batch_size, steps),
            "fit": fit_timer(dataset, config, batch_size, steps),
            "fit_per_call": fit_timer(dataset, config, batch_size, steps, config.log_every),
        },
        repeats,
    )


def main() -> None:
    args = benchmark_args(__doc__.splitlines()[0])
    repeats = args.repeats
    comparisons = []
    for batch_size in BATCH_SIZES:
        steps = max(100, EXAMPLES_PER_TIMING[args.quick] // batch_size // 50 * 50)
        runs = measure_batch(batch_size, steps, repeats)
        ours = side("twinnorm joint step", runs["joint"], "examples/s")
        comparisons += [
            Comparison(
                "train_step",
                f"batch {batch_size}: joint step vs article Example 1 loop",
                ours,
                side("article loop (persistent tape, 2 gradients)", runs["article"], "examples/s"),
                ">= 1.0",
                f"{steps} steps per timing",
            ),
            Comparison(
                "train_step",
                f"batch {batch_size}: joint step vs model.fit, equal steps per call",
                ours,
                side(
                    "model.fit, functional 2-output model, steps_per_execution=50",
                    runs["fit_per_call"],
                    "examples/s",
                ),
                ">= 1.0",
                f"{steps} steps per timing, 50 steps per tf.function call on both sides",
            ),
            Comparison(
                "train_step",
                f"batch {batch_size}: joint step vs model.fit",
                ours,
                side("model.fit, functional 2-output model", runs["fit"], "examples/s"),
                ">= 1.2",
                f"{steps} steps per timing; model.fit one step per call",
            ),
            # Same loop shape as the article's (one Python call per step): isolates the graph.
            Comparison(
                "train_step",
                f"batch {batch_size}: joint step, one call per step, vs article loop",
                side(
                    "twinnorm joint step, one call per step", runs["joint_per_call"], "examples/s"
                ),
                side("article loop (persistent tape, 2 gradients)", runs["article"], "examples/s"),
                "",
                "diagnostic, no target: the per-step graph alone",
            ),
        ]
        for c in comparisons[-4:]:
            print(
                f"{c.name}: {c.ours.value:,.0f} vs {c.baseline.value:,.0f} examples/s, ratio {c.ratio:.2f}",
                flush=True,
            )
    write_result(
        args.json,
        comparisons,
        {
            "layout": "penguin-shaped, 5 numerics + 2 categoricals, 3 classes",
            "normalization": "range",
            "loss": "mse",
            "repeats": repeats,
        },
    )


if __name__ == "__main__":
    main()
