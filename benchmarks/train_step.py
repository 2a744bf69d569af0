"""Steps/s of the joint train step per normalization mode, on penguin-shaped in-memory data.

    python benchmarks/train_step.py [--steps 500] [--batch-size 32]

Not part of pytest: timings are reported, never asserted. Each mode is timed after a warm-up
(tracing) on the same data; the median of --repeats runs is reported.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from modules.hparams import NORMALIZATION_MODES, TrainerConfig  # noqa: E402
from modules.networks import FeatureLayout, TwinModel  # noqa: E402
from modules.trainer import seed_everything  # noqa: E402
from modules.training import JointTrainer  # noqa: E402

# The penguin table after Transform: 5 numerics, island (3 + OOV) and sex (3 + OOV) one-hot.
PENGUIN_LAYOUT = FeatureLayout(numeric=("x",), categorical={"island": 4, "sex": 4}, n_outputs=3,
                               numeric_widths={"x": (5,)})


def penguin_like_batches(batch_size: int, seed: int = 0) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    n = 4096
    features = {"x": rng.normal(size=(n, 5)).astype(np.float32),
                "island": rng.integers(0, 4, n), "sex": rng.integers(0, 4, n)}
    labels = rng.integers(0, 3, n)
    return tf.data.Dataset.from_tensor_slices((features, labels)).repeat().batch(batch_size).prefetch(2)


def steps_per_second(mode: str, loss: str, steps: int, batch_size: int) -> float:
    config = TrainerConfig(normalization=mode, loss=loss, batch_size=batch_size, train_steps=steps,
                           log_every=steps, checkpoint_every=steps)
    seed_everything(config.seed)
    trainer = JointTrainer(TwinModel(PENGUIN_LAYOUT, config), config)
    iterator = iter(penguin_like_batches(batch_size))
    trainer.train_step(next(iterator))  # trace
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(next(iterator))
    float(trainer.step)  # wait for the last step
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loss", default="cross_entropy")
    args = parser.parse_args()
    results = {}
    for mode in NORMALIZATION_MODES:
        runs = [steps_per_second(mode, args.loss, args.steps, args.batch_size) for _ in range(args.repeats)]
        results[mode] = statistics.median(runs)
        print(f"{mode:12s} {results[mode]:8.0f} steps/s  ({results[mode] * args.batch_size:9.0f} examples/s)")
    print(json.dumps({"batch_size": args.batch_size, "steps_per_second": results}))


if __name__ == "__main__":
    main()
