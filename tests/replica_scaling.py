"""One joint step on the same global batch: default strategy vs two replicas (two logical CPUs).

    python tests/replica_scaling.py OUT.json
Run in a fresh process: logical devices must be configured before TensorFlow initializes. SGD
replaces Adam here, because Adam's update is nearly blind to a gradient's scale, and the scale is
what a wrong global-batch loss averaging would get wrong.
"""

import json
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

from modules import names
from modules.hparams import TrainerConfig
from modules.layout import FeatureLayout
from modules.networks import TwinModel
from modules.training import JointTrainer

BATCH = 8
MODES = ("range", "population")  # population: batch statistics all-reduced across replicas


def one_step(strategy: tf.distribute.Strategy, batch, mode: str) -> dict:
    config = TrainerConfig(batch_size=BATCH, seed=3, normalization=mode)
    keras.utils.set_random_seed(config.seed)
    layout = FeatureLayout(
        numeric=("x1", "x2"), categorical={"c": 4}, n_outputs=3, label_vocabulary=("a", "b", "c")
    )
    with strategy.scope():
        trainer = JointTrainer(TwinModel(layout, config), config, strategy)
        groups = trainer.model.variable_groups
        trainer.optimizers = {name: keras.optimizers.SGD(0.5) for name in groups}
        for name, optimizer in trainer.optimizers.items():
            optimizer.build(groups[name])
    before = [w.numpy() for w in trainer.model.trainable_weights]
    total = float(trainer.train_step(next(iter(strategy.experimental_distribute_dataset(batch)))))
    losses = {n: float(trainer.train_loss[n].result()) for n in names.NETWORKS}
    moved = [
        np.abs(w.numpy() - b).max()
        for w, b in zip(trainer.model.trainable_weights, before, strict=False)
    ]
    # Every weight, the population layers' moving statistics included.
    return {
        "weights": [np.asarray(w.numpy()).tolist() for w in trainer.model.weights],
        "total": total,
        "losses": losses,
        "moved": float(max(moved)),
        "replicas": strategy.num_replicas_in_sync,
    }


def two_replicas() -> tf.distribute.Strategy:
    """Two replicas on two logical CPUs. Cross-device sums go through one device, not collective
    ops: two collective launchers in one process can pair a float64 sum on one replica with a
    float32 one on the other (instance-key mismatch); MultiWorkerMirroredStrategy runs one
    replica per process, where every worker issues its collectives in the same order."""
    return tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def main(out: str) -> None:
    rng = np.random.default_rng(0)
    features = {
        "x1": rng.normal(size=(BATCH, 1)).astype(np.float32),
        "x2": rng.normal(size=(BATCH, 1)).astype(np.float32),
        "c": rng.integers(0, 4, size=(BATCH, 1)),
    }
    labels = rng.integers(0, 3, size=(BATCH, 1))
    batch = tf.data.Dataset.from_tensors((features, labels))
    result = {}
    for mode in MODES:
        result[mode] = {
            "single": one_step(tf.distribute.get_strategy(), batch, mode),
            "double": one_step(two_replicas(), batch, mode),
        }
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    # Before anything runs an op: TensorFlow fixes its devices when the runtime initializes.
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
    main(sys.argv[1])
