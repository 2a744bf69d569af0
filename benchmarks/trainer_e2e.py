"""Trainer end to end on a real-size split: examples/s with batches from Transform's TFRecords
through the Trainer's reader vs the same batches pre-built in memory, and checkpoint time
against the split's size, and a validation pass in one call against a Python call per batch.

    python -m benchmarks.trainer_e2e --run TWINNORM_OUTPUT [--quick] [--rows N] [--json PATH]

TWINNORM_OUTPUT is a finished `local_runner.py --output` folder. Its transformed train split is
replicated to `--rows` rows (default 1,000,000) and to 10,000 rows, gzipped as Transform writes
it. The Trainer's reader takes whatever its default memory budget picks (in memory when the
parsed split fits a quarter of RAM); the streaming reader, what a split over budget gets, is
timed as a diagnostic. A ratio near 1 means the input keeps the step fed.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import shutil
import statistics
import tempfile
import time
from typing import Callable, Dict, List

import tensorflow as tf
import tensorflow_transform as tft

from benchmarks.common import (
    Comparison,
    alternate,
    benchmark_args,
    newest_artifact,
    side,
    write_result,
)
from benchmarks.train_step import trainer_timer
from modules import names
from modules.data import TrainingBatches, in_order_dataset, memory_budget, training_batches
from modules.hparams import MAX_VALIDATION_ROWS, TrainerConfig
from modules.job import sample_batches, seed_everything, validation_batch
from modules.layout import feature_layout
from modules.networks import TwinModel
from modules.training import JointTrainer
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve

BATCH_SIZES = (32, 256)
IN_MEMORY_BATCHES = 64
SMALL_ROWS = 10_000
CHECKPOINT_SAVES = 10
PER_BATCH_ROWS = 256  # the validation batch of the per-batch loop `evaluate` replaced


def in_memory(dataset: tf.data.Dataset, batches: int) -> tf.data.Dataset:
    """The first `batches` batches of `dataset`, held as tensors and replayed forever."""
    taken = list(dataset.take(batches))
    stacked = tf.nest.map_structure(lambda *t: tf.stack(t), *taken)
    return tf.data.Dataset.from_tensor_slices(stacked).repeat().prefetch(2)


def replicate(train_files: List[str], rows: int, path: str) -> str:
    """The split's records repeated up to `rows` records, in one gzipped TFRecord file."""
    records = [r.numpy() for r in tf.data.TFRecordDataset(train_files, compression_type="GZIP")]
    with tf.io.TFRecordWriter(path, "GZIP") as writer:
        for i in range(rows):
            writer.write(records[i % len(records)])
    return path


def checkpoint_seconds(trainer: JointTrainer, batches: TrainingBatches, run_dir: str) -> float:
    """Median wall time of one checkpoint save, after `trainer` trained with `batches`."""
    trainer.fit(batches, None, run_dir)
    times = []
    for _ in range(CHECKPOINT_SAVES):
        started = time.perf_counter()
        trainer.manager.save()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def validation_pass(
    files: List[str], output: tft.TFTransformOutput, label: str, layout, repeats: int
) -> Comparison:
    """Rows/s of one validation pass over the Trainer's validation sample (the first
    MAX_VALIDATION_ROWS rows, cached): `JointTrainer.evaluate`, every batch pulled inside one
    tf.function call, vs the loop it replaced, a Python call per 256-row batch."""
    config = TrainerConfig()
    trainer = JointTrainer(TwinModel(layout, config), config)
    sample = in_order_dataset(
        files, output, label, validation_batch(32), cache=True, batches=sample_batches(config)
    )
    per_batch_data = in_order_dataset(
        files, output, label, PER_BATCH_ROWS, True, MAX_VALIDATION_ROWS // PER_BATCH_ROWS
    )
    step = tf.function(
        lambda batch: trainer.strategy.run(trainer._replica_validation_step, args=batch),
        autograph=False,
    )

    def per_batch() -> None:
        for batch in per_batch_data:
            step(batch)

    def rate(call: Callable[[], object]) -> Callable[[], float]:
        def measure() -> float:
            started = time.perf_counter()
            call()
            return MAX_VALIDATION_ROWS / (time.perf_counter() - started)

        return measure

    rate(lambda: trainer.evaluate(sample, 0))(), rate(per_batch)()  # fill caches, trace
    runs = alternate(
        {"ours": rate(lambda: trainer.evaluate(sample, 0)), "loop": rate(per_batch)}, repeats
    )
    return Comparison(
        "trainer_e2e",
        f"validation pass over {MAX_VALIDATION_ROWS:,} cached rows: in-graph vs a call per batch",
        side(f"JointTrainer.evaluate, {validation_batch(32)}-row batches", runs["ours"], "rows/s"),
        side(f"a Python call per {PER_BATCH_ROWS}-row batch", runs["loop"], "rows/s"),
        ">= 2",
        "the Trainer validates every epoch (at most every 1,000 steps) on this sample",
    )


def main() -> None:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--run", required=True, help="a finished twinnorm output folder")
        parser.add_argument("--rows", type=int, default=1_000_000)

    args = benchmark_args(__doc__.splitlines()[0], options)
    repeats = args.repeats
    pipeline = resolve(PipelineConfig())
    output = tft.TFTransformOutput(newest_artifact(args.run, "Transform", "transform_graph"))
    examples = newest_artifact(args.run, "Transform", "transformed_examples")
    train_files = sorted(glob.glob(os.path.join(examples, "Split-train", "*")))
    layout = feature_layout(
        output, pipeline.feature_specs, pipeline.label_key, pipeline.trainer.task
    )
    scratch = tempfile.mkdtemp(prefix="twinnorm-trainer-e2e-")
    try:
        big = replicate(train_files, args.rows, os.path.join(scratch, "big.gz"))
        small = replicate(train_files, SMALL_ROWS, os.path.join(scratch, "small.gz"))
        comparisons, details = [], {"repeats": repeats, "run": args.run, "rows": args.rows}
        for batch_size in BATCH_SIZES:
            config = dataclasses.replace(TrainerConfig(), batch_size=batch_size)
            steps = max(100, (10_000 if args.quick else 40_000) // batch_size)
            seed_everything(config.seed)

            def reader(files: List[str], budget: int, config: TrainerConfig = config):
                return training_batches(
                    files,
                    output,
                    pipeline.label,
                    config.batch_size,
                    config.seed,
                    config.shuffle_buffer,
                    budget,
                )

            def trainer(config: TrainerConfig = config) -> JointTrainer:
                return JointTrainer(TwinModel(layout, config), config)

            started = time.perf_counter()
            default = reader([big], memory_budget(config.in_memory_fraction))
            details[f"load_seconds_batch_{batch_size}"] = time.perf_counter() - started
            details["default_reader"] = default.description
            streaming = reader([big], 0)
            timers: Dict[str, Callable[[], float]] = {
                "default": trainer_timer(trainer(), default.dataset_from(0), batch_size, steps),
                "streaming": trainer_timer(trainer(), streaming.dataset_from(0), batch_size, steps),
                "memory": trainer_timer(
                    trainer(),
                    in_memory(default.dataset_from(0), IN_MEMORY_BATCHES),
                    batch_size,
                    steps,
                ),
            }
            runs = alternate(timers, repeats)
            baseline = side("pre-built batches in memory", runs["memory"], "examples/s")
            note = f"{args.rows:,}-row split, {steps} steps per timing"
            comparisons += [
                Comparison(
                    "trainer_e2e",
                    f"batch {batch_size}: Trainer on a {args.rows:,}-row split vs pre-built batches",
                    side(
                        f"Trainer's reader ({default.description})", runs["default"], "examples/s"
                    ),
                    baseline,
                    ">= 0.8",
                    note,
                ),
                Comparison(
                    "trainer_e2e",
                    f"batch {batch_size}: streaming reader vs pre-built batches",
                    side(
                        "streaming reader (read, gunzip, shuffle, parse every epoch)",
                        runs["streaming"],
                        "examples/s",
                    ),
                    baseline,
                    "",
                    "diagnostic, no target: what a split over the memory budget gets; " + note,
                ),
            ]
            for c in comparisons[-2:]:
                print(
                    f"{c.name}: {c.ours.value:,.0f} vs {c.baseline.value:,.0f} examples/s, "
                    f"ratio {c.ratio:.2f}",
                    flush=True,
                )

        config = dataclasses.replace(
            TrainerConfig(), train_steps=10, log_every=10, checkpoint_every=10
        )
        budget = memory_budget(config.in_memory_fraction)
        seconds: Dict[str, List[float]] = {"big": [], "small": [], "streaming": []}
        for repeat in range(repeats):
            for key, files, limit in (
                ("big", [big], budget),
                ("small", [small], budget),
                ("streaming", [big], 0),
            ):
                batches = training_batches(
                    files, output, pipeline.label, 32, 42, config.shuffle_buffer, limit
                )
                run_dir = os.path.join(scratch, f"checkpoints-{key}-{repeat}")
                seconds[key].append(
                    checkpoint_seconds(
                        JointTrainer(TwinModel(layout, config), config), batches, run_dir
                    )
                )
        details["checkpoint_bytes"] = {
            key: sum(
                os.path.getsize(f)
                for f in glob.glob(
                    tf.train.latest_checkpoint(
                        os.path.join(scratch, f"checkpoints-{key}-0", names.CHECKPOINTS_DIR)
                    )
                    + ".*"
                )
            )
            for key in seconds
        }
        comparisons += [
            Comparison(
                "trainer_e2e",
                f"checkpoint save: {args.rows:,}-row split in memory vs {SMALL_ROWS:,} rows",
                side(f"{args.rows:,} rows in memory", seconds["big"], "s"),
                side(f"{SMALL_ROWS:,} rows in memory", seconds["small"], "s"),
                "<= 1.5",
                "median of 10 saves; the checkpoint holds the step, not the data",
            ),
            Comparison(
                "trainer_e2e",
                f"checkpoint save: {args.rows:,}-row split streaming vs {SMALL_ROWS:,} rows in memory",
                side(f"{args.rows:,} rows streaming", seconds["streaming"], "s"),
                side(f"{SMALL_ROWS:,} rows in memory", seconds["small"], "s"),
                "",
                "diagnostic: a streaming checkpoint holds the input iterator and its "
                f"{config.shuffle_buffer}-example shuffle buffer",
            ),
        ]
        for c in comparisons[-2:]:
            print(
                f"{c.name}: {c.ours.value * 1000:,.1f} vs {c.baseline.value * 1000:,.1f} ms, "
                f"ratio {c.ratio:.2f}",
                flush=True,
            )
        comparisons.append(validation_pass([big], output, pipeline.label, layout, repeats))
        c = comparisons[-1]
        print(f"{c.name}: {c.ours.value:,.0f} vs {c.baseline.value:,.0f} rows/s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_result(args.json, comparisons, details)


if __name__ == "__main__":
    main()
