"""Steps to the blessing bar: network A from scratch vs warm-started from the blessed model.

    python -m benchmarks.warm_start --run OUTPUT_DIR [--bar 0.9] [--every 5] [--max-steps 500]

Reads a finished pipeline run (its newest Transform output and the pushed combined model), builds
the twin model twice with the same seed and data, once as is and once with network A restored
from the blessed model (`modules/warm_start.py`), and trains both jointly, evaluating network A's
accuracy on the eval split every `--every` steps until it reaches `--bar`. Not part of pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import tensorflow as tf
import tensorflow_transform as tft

import modules  # noqa: F401 (Keras 2 before TensorFlow)
from modules import names, warm_start
from modules.data import memory_budget, transformed_dataset
from modules.job import seed_everything
from modules.layout import feature_layout
from modules.networks import TwinModel
from modules.paths import OutputLayout
from modules.training import JointTrainer
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve
from pipeline.summary import summarize


def steps_to_bar(
    config: PipelineConfig, blessed: str, choice: str, bar: float, every: int, limit: int
):
    """(steps until network A's eval accuracy >= bar or None, accuracy at step 0)."""
    outputs = OutputLayout(config.output)
    examples = outputs.newest_artifact("Transform", "transformed_examples")
    transform = tft.TFTransformOutput(outputs.newest_artifact("Transform", "transform_graph"))
    trainer_config = dataclasses.replace(config.trainer, warm_start=choice, train_steps=limit)

    def dataset(split: str, training: bool) -> tf.data.Dataset:
        return transformed_dataset(
            [f"{examples}/Split-{split}/*"],
            transform,
            config.label_key,
            trainer_config.batch_size,
            trainer_config.seed,
            trainer_config.shuffle_buffer,
            training,
            memory_budget(trainer_config.in_memory_fraction),
        )

    seed_everything(trainer_config.seed)
    layout = feature_layout(transform, config.feature_specs, config.label_key, config.trainer.task)
    trainer = JointTrainer(TwinModel(layout, trainer_config), trainer_config)
    warm_start.restore(trainer.model, choice, blessed)
    iterator = iter(dataset("train", True))
    evaluation = dataset("eval", False)
    accuracy = trainer.evaluate(evaluation, 1000)[f"{names.NETWORK_A}_accuracy"]
    first = accuracy
    step = 0
    while accuracy < bar and step < limit:
        trainer.train_steps(iterator, tf.constant(every, tf.int64))
        step += every
        accuracy = trainer.evaluate(evaluation, 1000)[f"{names.NETWORK_A}_accuracy"]
    return (step if accuracy >= bar else None), first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="--output folder of a blessed, pushed run")
    parser.add_argument("--data", help="the run's --data (default: the embedded penguins)")
    parser.add_argument("--label", help="the run's --label")
    parser.add_argument("--bar", type=float, default=0.9, help="accuracy network A must reach")
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=500)
    args = parser.parse_args()
    blessed = summarize(OutputLayout(args.run).metadata_path).pushed_to
    if not blessed:
        parser.error(f"{args.run} has no pushed (blessed) model")
    config = resolve(
        dataclasses.replace(
            PipelineConfig(),
            output=args.run,
            **{k: v for k, v in (("data", args.data), ("label", args.label)) if v},
        )
    )
    result = {}
    for label, choice in (("scratch", ""), ("warm_start_a", "a")):
        steps, first = steps_to_bar(config, blessed, choice, args.bar, args.every, args.max_steps)
        result[label] = {"steps_to_bar": steps, "accuracy_at_step_0": first}
    result.update(bar=args.bar, every=args.every, blessed_model=blessed, data=config.data)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
