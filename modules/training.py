"""The joint training loop: one GradientTape, one gradient computation per step, and many steps
per tf.function call.

`train_step` computes both networks' losses, takes the gradient of their sum with respect to
both networks' variables in a single `tape.gradient` call, and lets each network's own optimizer
apply its half. The step runs under a `tf.distribute` strategy (the default one locally), and
each per-example loss is averaged over the *global* batch so that replicas sum correctly.
"""

from __future__ import annotations

import math
import os
from typing import Dict, Iterator, Mapping, Optional, Union

import tensorflow as tf
import tf_keras as keras
from absl import logging as log

from twinnorm.modules import modes, names
from twinnorm.modules.data import TrainingBatches
from twinnorm.modules.hparams import TrainerConfig
from twinnorm.modules.networks import TwinModel


class NonFiniteLossError(RuntimeError):
    """Training diverged; nothing may be exported from this run."""


def per_example_loss(scores: tf.Tensor, labels: tf.Tensor, config: TrainerConfig) -> tf.Tensor:
    """Loss per example, shape [batch]: MSE against the (one-hot) target, or softmax cross-entropy
    with the normalized scores as logits."""
    n_outputs = tf.shape(scores)[-1]
    if config.task == modes.CLASSIFICATION:
        ids = tf.reshape(tf.cast(labels, tf.int32), [-1])
        if config.loss == "cross_entropy":
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=scores)
        target = tf.one_hot(ids, n_outputs, dtype=scores.dtype)
    else:
        target = tf.reshape(tf.cast(labels, scores.dtype), tf.shape(scores))
    return tf.reduce_mean(tf.square(scores - target), axis=-1)


class JointTrainer:
    """Owns the twin model's optimizers, metrics, checkpoints and summaries."""

    def __init__(
        self,
        model: TwinModel,
        config: TrainerConfig,
        strategy: Optional[tf.distribute.Strategy] = None,
    ):
        self.model = model
        layout = model.layout
        self.config = config.for_layout(
            layout.task, layout.width, layout.n_outputs
        )  # `auto` as the model has it
        self.strategy = strategy or tf.distribute.get_strategy()
        self.global_batch_size = config.batch_size
        self.manager: Optional[tf.train.CheckpointManager] = None
        with self.strategy.scope():
            model(model.example_inputs(), training=False)  # variables exist before the first step
            self.optimizers = {
                names.NETWORK_A: keras.optimizers.Adam(config.network_a.learning_rate),
                names.NETWORK_B: keras.optimizers.Adam(config.network_b.learning_rate),
            }
            for name, optimizer in self.optimizers.items():
                optimizer.build(
                    model.networks[name].trainable_variables
                )  # no variable created while tracing
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.train_loss = {n: keras.metrics.Mean(f"{n}_train_loss") for n in names.NETWORKS}
            self.eval_loss = {n: keras.metrics.Mean(f"{n}_eval_loss") for n in names.NETWORKS}
            self.eval_accuracy = {
                n: keras.metrics.SparseCategoricalAccuracy(f"{n}_eval_accuracy")
                for n in names.NETWORKS
            }

    # -- steps -------------------------------------------------------------------------------
    def _losses(self, outputs: Mapping[str, tf.Tensor], labels: tf.Tensor) -> Dict[str, tf.Tensor]:
        return {
            n: per_example_loss(outputs[names.output_key(n, names.SCORES)], labels, self.config)
            for n in names.NETWORKS
        }

    def _replica_train_step(self, features, labels) -> tf.Tensor:
        networks = self.model.networks
        variables = [v for n in names.NETWORKS for v in networks[n].trainable_variables]
        with tf.GradientTape() as tape:
            outputs = self.model(features, training=True)
            # Each replica's share of the global-batch mean, so the replicas' gradients sum to the
            # gradient of the mean (tf.nn.compute_average_loss without its two runtime asserts).
            losses = {
                n: tf.reduce_sum(loss) / self.global_batch_size
                for n, loss in self._losses(outputs, labels).items()
            }
            total = tf.add_n(list(losses.values()))
        gradients = tape.gradient(total, variables)
        start = 0
        for name in names.NETWORKS:
            count = len(networks[name].trainable_variables)
            pairs = zip(
                gradients[start : start + count], networks[name].trainable_variables, strict=False
            )
            self.optimizers[name].apply_gradients(pairs)
            start += count
        for name, value in losses.items():
            # The replica's share of the global mean, scaled back to a per-example mean.
            self.train_loss[name].update_state(value * self.strategy.num_replicas_in_sync)
        return total

    def _replica_eval_step(self, features, labels) -> None:
        outputs = self.model(features, training=False)
        for name, loss in self._losses(outputs, labels).items():
            self.eval_loss[name].update_state(loss)
            if self.config.task == modes.CLASSIFICATION:
                self.eval_accuracy[name].update_state(
                    tf.reshape(labels, [-1]), outputs[names.output_key(name, names.SCORES)]
                )

    def _step(self, batch) -> tf.Tensor:
        per_replica = self.strategy.run(self._replica_train_step, args=batch)
        self.step.assign_add(1)
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    # The step functions are traced without autograph: they hold no tensor-dependent Python
    # control flow, and autograph re-writing the whole Keras call tree took seconds of every
    # Trainer run (profiled with py-spy; docs/benchmarks.md).
    @tf.function(autograph=False)
    def train_step(self, batch) -> tf.Tensor:
        """One joint step on one batch."""
        return self._step(batch)

    @tf.function(autograph=False)
    def train_steps(self, iterator, steps: tf.Tensor) -> tf.Tensor:
        """`steps` joint steps in one call, the batches pulled inside the graph (what Keras calls
        steps_per_execution): one Python round trip per step cost more than this small model's
        step (benchmarks/train_step.py). Returns the last step's total loss."""

        def body(i, _):
            return i + 1, self._step(next(iterator))

        _, total = tf.while_loop(
            lambda i, _: i < steps, body, (tf.constant(0, tf.int64), tf.constant(0.0))
        )
        return total

    @tf.function(autograph=False)
    def eval_step(self, batch) -> None:
        self.strategy.run(self._replica_eval_step, args=batch)

    # -- loops -------------------------------------------------------------------------------
    def current_step(self) -> int:
        return int(self.step.read_value())  # int() of a multi-worker MirroredVariable itself fails

    def evaluate(self, dataset: tf.data.Dataset, steps: int) -> Dict[str, float]:
        """Mean loss (and accuracy) per network over at most `steps` batches of a finite dataset."""
        for metric in [*self.eval_loss.values(), *self.eval_accuracy.values()]:
            metric.reset_state()
        for batch in self.strategy.experimental_distribute_dataset(dataset.take(steps)):
            self.eval_step(batch)
        result = {f"{n}_loss": float(self.eval_loss[n].result()) for n in names.NETWORKS}
        if self.config.task == modes.CLASSIFICATION:
            result.update(
                {f"{n}_accuracy": float(self.eval_accuracy[n].result()) for n in names.NETWORKS}
            )
        return result

    def fit(
        self,
        train: Union[TrainingBatches, tf.data.Dataset],
        evaluation: Optional[tf.data.Dataset],
        run_dir: Optional[str] = None,
    ) -> Dict[str, float]:
        """Trains to `config.train_steps`, resuming from the newest checkpoint in `run_dir`.
        Positioned batches (a split held in memory) restart at the restored step; otherwise the
        input iterator itself is checkpointed and restored."""
        if isinstance(train, TrainingBatches):
            log.info("training data: %s", train.description)
        positioned = isinstance(train, TrainingBatches) and train.positioned
        iterator = None
        if not positioned:
            dataset = train.dataset_from(0) if isinstance(train, TrainingBatches) else train
            iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
        manager = self.manager = self._checkpoint_manager(run_dir, iterator) if run_dir else None
        writer = tf.summary.create_file_writer(os.path.join(run_dir, "train")) if run_dir else None
        if manager and manager.latest_checkpoint:
            manager.checkpoint.restore(manager.latest_checkpoint).expect_partial()
            log.info("resumed from %s at step %d", manager.latest_checkpoint, self.current_step())
        if positioned:
            iterator = iter(
                self.strategy.experimental_distribute_dataset(
                    train.dataset_from(self.current_step())
                )
            )
        history: Dict[str, float] = {}
        while self.current_step() < self.config.train_steps:
            total = self.train_steps(iterator, tf.constant(self._steps_to_next_stop(), tf.int64))
            step = self.current_step()
            if step % self.config.log_every == 0 or step == self.config.train_steps:
                history = self._log_train(step, float(total), writer)
            if manager and (
                step % self.config.checkpoint_every == 0 or step == self.config.train_steps
            ):
                manager.save(checkpoint_number=step)
        if evaluation is not None:
            history.update(
                self._log_eval(self.evaluate(evaluation, self.config.eval_steps), run_dir)
            )
        return history

    def save_checkpoint(self) -> None:
        """Saves the current state (after `fit`), e.g. once calibration has set the temperatures,
        so the last checkpoint holds exactly the exported model."""
        if self.manager:
            self.manager.save(checkpoint_number=self.current_step())

    def _steps_to_next_stop(self) -> int:
        """Steps until the next log, checkpoint or the end, where control returns to Python."""
        step, config = self.current_step(), self.config
        return min(
            config.log_every - step % config.log_every,
            config.checkpoint_every - step % config.checkpoint_every,
            config.train_steps - step,
        )

    def _log_train(self, step: int, total: float, writer) -> Dict[str, float]:
        if not math.isfinite(total):
            raise NonFiniteLossError(
                f"training loss became {total} at step {step} (normalization "
                f"{self.config.normalization!r}, loss {self.config.loss!r}); refusing to export. "
                "Lower the learning rates or check the input data for extreme values."
            )
        losses = {f"{n}_train_loss": float(self.train_loss[n].result()) for n in names.NETWORKS}
        log.info("step %d: %s", step, ", ".join(f"{k}={v:.4f}" for k, v in losses.items()))
        if writer:
            with writer.as_default(step=step):
                for network in names.NETWORKS:
                    tf.summary.scalar(
                        names.scalar_tag("loss", network), losses[f"{network}_train_loss"]
                    )
        for metric in self.train_loss.values():
            metric.reset_state()
        return losses

    def _log_eval(self, result: Dict[str, float], run_dir: Optional[str]) -> Dict[str, float]:
        log.info(
            "eval at step %d: %s",
            self.current_step(),
            ", ".join(f"{k}={v:.4f}" for k, v in result.items()),
        )
        if run_dir:
            with tf.summary.create_file_writer(os.path.join(run_dir, "eval")).as_default(
                step=self.current_step()
            ):
                for network in names.NETWORKS:
                    for metric in ("loss", "accuracy"):
                        if f"{network}_{metric}" in result:
                            tf.summary.scalar(
                                names.scalar_tag(metric, network), result[f"{network}_{metric}"]
                            )
        return {f"eval_{k}": v for k, v in result.items()}

    def _checkpoint_manager(
        self, run_dir: str, iterator: Optional[Iterator]
    ) -> tf.train.CheckpointManager:
        state = dict(
            model=self.model,
            step=self.step,
            optimizer_a=self.optimizers[names.NETWORK_A],
            optimizer_b=self.optimizers[names.NETWORK_B],
        )
        if isinstance(iterator, tf.data.Iterator):
            # A streaming input's position too; a multi-worker DistributedIterator cannot be
            # saved, so a resumed multi-worker run that streams restarts its input.
            state["iterator"] = iterator
        checkpoint = tf.train.Checkpoint(**state)
        return tf.train.CheckpointManager(
            checkpoint, os.path.join(run_dir, names.CHECKPOINTS_DIR), max_to_keep=2
        )
