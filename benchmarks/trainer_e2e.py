"""Trainer end to end: examples/s with batches read from Transform's TFRecords by the Trainer's
reader vs the same batches pre-built in memory, both through our training loop.

    python -m benchmarks.trainer_e2e --run TWINNORM_OUTPUT [--quick] [--json PATH]

TWINNORM_OUTPUT is a finished `local_runner.py --output` folder. A ratio near 1 means the input
pipeline keeps up with the step; well below 1 means input is the bottleneck. The streaming reader
(what a split larger than `in_memory_mb` gets) is timed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os

import tensorflow as tf
import tensorflow_transform as tft

from benchmarks.common import Comparison, alternate, newest_artifact, side, write_result
from benchmarks.train_step import trainer_timer
from twinnorm.modules.data import transformed_dataset
from twinnorm.modules.hparams import TrainerConfig
from twinnorm.modules.job import seed_everything
from twinnorm.modules.layout import feature_layout
from twinnorm.modules.networks import TwinModel
from twinnorm.modules.training import JointTrainer
from twinnorm.pipeline.config import PipelineConfig

BATCH_SIZES = (32, 256)
IN_MEMORY_BATCHES = 64


def in_memory(dataset: tf.data.Dataset, batches: int) -> tf.data.Dataset:
    """The first `batches` batches of `dataset`, held as tensors and replayed forever."""
    taken = list(dataset.take(batches))
    stacked = tf.nest.map_structure(lambda *t: tf.stack(t), *taken)
    return tf.data.Dataset.from_tensor_slices(stacked).repeat().prefetch(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a finished twinnorm output folder")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    pipeline = PipelineConfig().resolved()
    output = tft.TFTransformOutput(newest_artifact(args.run, "Transform", "transform_graph"))
    examples = newest_artifact(args.run, "Transform", "transformed_examples")
    train_files = glob.glob(os.path.join(examples, "Split-train", "*"))
    layout = feature_layout(output, pipeline.features, pipeline.label, pipeline.trainer.task)
    comparisons = []
    for batch_size in BATCH_SIZES:
        config = dataclasses.replace(TrainerConfig(), batch_size=batch_size)
        steps = max(100, (10_000 if args.quick else 40_000) // batch_size)
        seed_everything(config.seed)

        def reader(in_memory_mb: int, config: TrainerConfig = config):
            return transformed_dataset(
                train_files,
                output,
                pipeline.label,
                config.batch_size,
                config.seed,
                config.shuffle_buffer,
                True,
                in_memory_mb,
            )

        def trainer(config: TrainerConfig = config):
            return JointTrainer(TwinModel(layout, config), config)

        runs = alternate(
            {
                "records": trainer_timer(trainer(), reader(config.in_memory_mb), batch_size, steps),
                "streaming": trainer_timer(trainer(), reader(0), batch_size, steps),
                "memory": trainer_timer(
                    trainer(), in_memory(reader(0), IN_MEMORY_BATCHES), batch_size, steps
                ),
            },
            repeats,
        )
        baseline = side("pre-built batches in memory", runs["memory"], "examples/s")
        note = f"{steps} steps per timing, {len(train_files)} train file(s)"
        comparisons += [
            Comparison(
                "trainer_e2e",
                f"batch {batch_size}: Trainer from Transform's files vs pre-built batches",
                side(
                    f"Trainer's reader (default: split <= {config.in_memory_mb} MB parsed once)",
                    runs["records"],
                    "examples/s",
                ),
                baseline,
                ">= 0.5",
                note,
            ),
            Comparison(
                "trainer_e2e",
                f"batch {batch_size}: streaming reader vs pre-built batches",
                side(
                    "streaming reader (in_memory_mb=0: read, gunzip, parse every epoch)",
                    runs["streaming"],
                    "examples/s",
                ),
                baseline,
                "",
                "diagnostic, no target; " + note,
            ),
        ]
        for c in comparisons[-2:]:
            print(
                f"{c.name}: {c.ours.value:,.0f} vs {c.baseline.value:,.0f} examples/s, ratio {c.ratio:.2f}",
                flush=True,
            )
    write_result(args.json, comparisons, {"repeats": repeats, "run": args.run})


if __name__ == "__main__":
    main()
