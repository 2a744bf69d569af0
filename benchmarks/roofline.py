"""How close the joint train step comes to this machine's fp32 matmul peak.

    python -m benchmarks.roofline [--quick] [--json PATH]

The peak is measured in the same run: the best of several 2048 x 2048 fp32 matmuls. A step's
FLOPs per example come from the layer sizes (forward 2*in*out per Dense layer; backward 2*in*out
for the kernel's gradient and, except for the first layer, 2*in*out for the input's): only the
matmuls, so Adam, biases, activations and the normalization count as overhead. Two settings,
each at batch 1024 and 4096: the article's (two 128-64-10 networks on 100 inputs) and a wide one
(two 512-256-10 networks on 256 inputs), where the step should be compute-bound; ReLU in both
networks, as in the article. A bare step (two Sequential networks, one tape, two Adams, a guarded
range normalization and MSE) is timed beside ours, so the gap between them is our own overhead.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from benchmarks.common import Comparison, alternate, benchmark_args, side, write_result
from benchmarks.train_step import call_timer, trainer_timer
from modules.hparams import NetworkSpec, TrainerConfig
from modules.job import seed_everything
from modules.layout import FeatureLayout
from modules.networks import TwinModel
from modules.training import JointTrainer

OUTPUTS = 10
SETTINGS = {  # name -> (inputs, hidden units of each network)
    "article": (100, (128, 64)),
    "wide": (256, (512, 256)),
}
TARGETS = {("wide", 4096): ">= 0.8", ("article", 4096): ">= 0.4"}
BATCH_SIZES = (1024, 4096)
PEAK_SIZE = 2048


def train_flops_per_example(inputs: int, hidden: Sequence[int], outputs: int) -> int:
    """Matmul FLOPs of one training example through ONE network (forward and backward)."""
    sizes = [inputs, *hidden, outputs]
    total = 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        total += 2 * fan_in * fan_out * (3 if i else 2)
    return total


def matmul_peak(seconds: float) -> float:
    """Best fp32 FLOP/s of a square matmul, repeated for about `seconds`."""
    a = tf.random.normal([PEAK_SIZE, PEAK_SIZE])
    b = tf.random.normal([PEAK_SIZE, PEAK_SIZE])

    @tf.function
    def chain(a, b):
        for _ in range(4):
            a = tf.matmul(a, b) * 1e-3
        return a

    chain(a, b).numpy()
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        chain(a, b).numpy()
        best = max(best, 4 * 2 * PEAK_SIZE**3 / (time.perf_counter() - started))
    return best


def matmuls_alone(inputs: int, hidden: Sequence[int], batch_size: int, seconds: float) -> float:
    """Best FLOP/s of exactly the matmuls one joint step runs (both networks: forward, kernel
    gradients, input gradients but the first layer's), with nothing between them: the ceiling
    these shapes allow on this machine, below the square matmul's peak."""
    sizes = [inputs, *hidden, OUTPUTS]
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    # Each network its own tensors: identical matmuls would be merged by the graph optimizer.
    activations = [[tf.random.normal([batch_size, n]) for n in sizes] for _ in range(2)]
    kernels = [[tf.random.normal([i, o]) for i, o in pairs] for _ in range(2)]

    @tf.function  # tensors as arguments: captured constants would be folded away
    def step(activations, kernels):
        total = tf.constant(0.0)
        for network in range(2):
            for layer, kernel in enumerate(kernels[network]):
                x, y = activations[network][layer], activations[network][layer + 1]
                total += tf.reduce_sum(tf.matmul(x, kernel)[:1, :1])
                total += tf.reduce_sum(tf.matmul(x, y, transpose_a=True)[:1, :1])
                if layer:
                    total += tf.reduce_sum(tf.matmul(y, kernel, transpose_b=True)[:1, :1])
        return total

    step(activations, kernels).numpy()
    flops = 2 * train_flops_per_example(inputs, hidden, OUTPUTS) * batch_size
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        step(activations, kernels).numpy()
        best = max(best, flops / (time.perf_counter() - started))
    return best


class BareStep:
    """The reference a joint step cannot beat by much: no encoder, no metrics, no strategy."""

    def __init__(self, inputs: int, hidden: Sequence[int], activation: str, config: TrainerConfig):
        def network() -> keras.Sequential:
            layers = [keras.layers.Dense(u, activation=activation) for u in hidden]
            return keras.Sequential([keras.Input((inputs,)), *layers, keras.layers.Dense(OUTPUTS)])

        self.networks = (network(), network())
        self.optimizers = (keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
        self.epsilon = config.epsilon

    def normalize(self, raw: tf.Tensor) -> tf.Tensor:
        low = tf.reduce_min(raw, axis=1, keepdims=True)
        high = tf.reduce_max(raw, axis=1, keepdims=True)
        return (raw - low) / tf.maximum(high - low, self.epsilon)

    @tf.function(autograph=False)
    def steps(self, iterator, steps: tf.Tensor) -> tf.Tensor:
        def body(i, _):
            features, labels = next(iterator)
            target = tf.one_hot(tf.reshape(labels, [-1]), OUTPUTS)
            with tf.GradientTape() as tape:
                losses = [
                    tf.reduce_mean(tf.square(self.normalize(n(features["x"])) - target))
                    for n in self.networks
                ]
                total = tf.add_n(losses)
            variables = [n.trainable_variables for n in self.networks]
            gradients = tape.gradient(total, variables)
            for optimizer, grads, weights in zip(
                self.optimizers, gradients, variables, strict=True
            ):
                optimizer.apply_gradients(zip(grads, weights, strict=True))
            return i + 1, total

        _, total = tf.while_loop(
            lambda i, _: i < steps, body, (tf.constant(0, tf.int64), tf.constant(0.0))
        )
        return total


def batches(inputs: int, batch_size: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    n = batch_size * 4
    features = {"x": rng.normal(size=(n, inputs)).astype(np.float32)}
    labels = rng.integers(0, OUTPUTS, n)
    return tf.data.Dataset.from_tensor_slices((features, labels)).repeat().batch(batch_size)


def measure(setting: str, batch_size: int, steps: int, repeats: int) -> Dict[str, list]:
    inputs, hidden = SETTINGS[setting]
    spec = NetworkSpec(hidden_units=hidden, activation="relu", learning_rate=1e-3)  # the article's
    config = dataclasses.replace(
        TrainerConfig(),
        network_a=spec,
        network_b=spec,
        members=1,  # the article's networks, the bare step's work
        batch_size=batch_size,
        normalization="range",
        loss="mse",
        task="classification",
        log_every=steps,
    )
    layout = FeatureLayout(
        numeric=("x",), categorical={}, n_outputs=OUTPUTS, numeric_widths={"x": (inputs,)}
    )
    seed_everything(config.seed)
    data = batches(inputs, batch_size)
    joint = JointTrainer(TwinModel(layout, config), config)
    bare = BareStep(inputs, hidden, spec.activation, config)
    chunk = tf.constant(steps, tf.int64)
    timers: Dict[str, Callable[[], float]] = {
        "joint": trainer_timer(joint, data, batch_size, steps),
        "bare": call_timer(lambda it: bare.steps(it, chunk), data, steps * batch_size, 1),
    }
    return alternate(timers, repeats)


def main() -> None:
    args = benchmark_args(__doc__.splitlines()[0])
    repeats = args.repeats
    peak = matmul_peak(3.0 if args.quick else 10.0)
    print(f"fp32 matmul peak ({PEAK_SIZE}x{PEAK_SIZE}): {peak / 1e9:,.1f} GFLOP/s", flush=True)
    comparisons, details = [], {"peak_flops": peak, "flops_per_example": {}}
    for setting, (inputs, hidden) in SETTINGS.items():
        flops = 2 * train_flops_per_example(inputs, hidden, OUTPUTS)  # two networks
        details["flops_per_example"][setting] = flops
        for batch_size in BATCH_SIZES:
            steps = 10 if args.quick else 20
            runs = measure(setting, batch_size, steps, repeats)
            shape = f"2 x {inputs}-{'-'.join(map(str, hidden))}-{OUTPUTS}"
            achieved = [r * flops for r in runs["joint"]]
            ceiling = matmuls_alone(inputs, hidden, batch_size, 1.0 if args.quick else 3.0)
            peak_side = side(f"{PEAK_SIZE}x{PEAK_SIZE} matmul peak", [peak], "FLOP/s")
            matmul_side = side("the step's matmuls alone", [ceiling], "FLOP/s")
            comparisons += [
                Comparison(
                    "roofline",
                    f"{setting} ({shape}), batch {batch_size}: joint step vs fp32 matmul peak",
                    side("joint step, matmul FLOP/s", achieved, "FLOP/s"),
                    peak_side,
                    TARGETS.get((setting, batch_size), ""),
                    f"{flops:,} matmul FLOPs per example; {steps} steps per call",
                ),
                Comparison(
                    "roofline",
                    f"{setting}, batch {batch_size}: the step's matmuls alone vs the peak",
                    matmul_side,
                    peak_side,
                    "",
                    "diagnostic: the ceiling these matmul shapes allow on this machine",
                ),
                Comparison(
                    "roofline",
                    f"{setting}, batch {batch_size}: joint step vs its matmuls alone",
                    side("joint step, matmul FLOP/s", achieved, "FLOP/s"),
                    matmul_side,
                    "",
                    "diagnostic: what the rest of the step (bias, activations, normalization, "
                    "loss, Adam, metrics) costs",
                ),
                Comparison(
                    "roofline",
                    f"{setting}, batch {batch_size}: joint step vs bare two-network step",
                    side("joint step", runs["joint"], "examples/s"),
                    side("bare step (one tape, two Adams, range, MSE)", runs["bare"], "examples/s"),
                    "",
                    "diagnostic: the gap is our own overhead",
                ),
            ]
            for c in comparisons[-4:]:
                print(f"{c.name}: ratio {c.ratio:.2f}", flush=True)
    write_result(args.json, comparisons, details)


if __name__ == "__main__":
    main()
