"""The joint training loop: one GradientTape, one gradient computation per step, and many steps
per tf.function call.

`train_step` computes both networks' losses, takes the gradient of their sum with respect to
both networks' variables in a single `tape.gradient` call, and lets each network's own optimizer
apply its half. The step runs under a `tf.distribute` strategy (the default one locally), and
each per-example loss is averaged over the *global* batch so that replicas sum correctly.
"""

from __future__ import annotations

import time
from typing import Dict, Mapping, Optional, Union

import numpy as np
import tensorflow as tf
import tf_keras as keras
from absl import logging as log

from modules import modes, names, schedule
from modules.checkpoints import CheckpointPacer, checkpoint_manager, restore_strictly
from modules.data import TrainingBatches
from modules.early_stopping import EarlyStopping
from modules.hparams import TrainerConfig
from modules.losses import check_finite, learning_rates, per_example_loss
from modules.network_inputs import unseen_masked
from modules.networks import TwinModel
from modules.tensorboard_logs import Scalars


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
        # `auto` as the model has it.
        self.config = config.for_layout(layout.task, layout.width, layout.n_outputs)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.global_batch_size = config.batch_size
        self.manager: Optional[tf.train.CheckpointManager] = None
        self.stop_reason = ""
        self.summaries = Scalars(None)
        self.validation_seconds = 0.0  # inside `fit`, for the Trainer's profile
        with self.strategy.scope():
            model(model.example_inputs(), training=False)  # variables exist before the first step
            self.rates = learning_rates(self.config, model.variable_groups)
            self.optimizers = {name: keras.optimizers.Adam(r) for name, r in self.rates.items()}
            for name, optimizer in self.optimizers.items():
                optimizer.build(model.variable_groups[name])  # no variable created while tracing
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            mean, nets = keras.metrics.Mean, names.NETWORKS
            accuracy = keras.metrics.SparseCategoricalAccuracy
            self.train_loss = {n: mean(f"{n}_train_loss") for n in nets}
            self.validation_loss = {n: mean(f"{n}_validation_loss") for n in nets}
            self.validation_accuracy = {n: accuracy(f"{n}_validation_accuracy") for n in nets}
            self.stopping = EarlyStopping(model)

    # -- steps -------------------------------------------------------------------------------
    def _losses(self, outputs: Mapping[str, tf.Tensor], labels: tf.Tensor) -> Dict[str, tf.Tensor]:
        return {
            n: per_example_loss(outputs[names.output_key(n, names.SCORES)], labels, self.config)
            for n in names.NETWORKS
        }

    def _replica_train_step(self, features, labels) -> tf.Tensor:
        groups = self.model.variable_groups
        variables = [v for group in groups.values() for v in group]
        buckets = self.model.layout.category_buckets
        features = unseen_masked(features, buckets, self.config.seed, self.step)
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
        for name, group in groups.items():
            pairs = zip(gradients[start : start + len(group)], group, strict=True)
            self.optimizers[name].apply_gradients(pairs)
            start += len(group)
        for name, value in losses.items():
            # The replica's share of the global mean, scaled back to a per-example mean.
            self.train_loss[name].update_state(value * self.strategy.num_replicas_in_sync)
        return total

    def _replica_validation_step(self, features, labels) -> None:
        outputs = self.model(features, training=False)
        for name, loss in self._losses(outputs, labels).items():
            self.validation_loss[name].update_state(loss)
            if self.config.task == modes.CLASSIFICATION:
                self.validation_accuracy[name].update_state(
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
    def validation_steps(self, iterator, steps: tf.Tensor) -> None:
        """At most `steps` batches of a finite dataset in one call, pulled inside the graph like
        `train_steps`: a Python call per batch cost more than the batch (trainer_e2e benchmark)."""

        def body(i, _):
            batch = iterator.get_next_as_optional()

            def run():
                self.strategy.run(self._replica_validation_step, args=batch.get_value())
                return tf.constant(True)

            return i + 1, tf.cond(batch.has_value(), run, lambda: tf.constant(False))

        tf.while_loop(
            lambda i, more: tf.logical_and(more, i < steps),
            body,
            (tf.constant(0, tf.int64), tf.constant(True)),
        )

    # -- loops -------------------------------------------------------------------------------
    def current_step(self) -> int:
        return int(self.step.read_value())  # int() of a multi-worker MirroredVariable itself fails

    def evaluate(self, dataset: tf.data.Dataset, steps: int) -> Dict[str, float]:
        """Mean loss (and accuracy) per network over at most `steps` batches (0: all) of a
        finite dataset."""
        for metric in [*self.validation_loss.values(), *self.validation_accuracy.values()]:
            metric.reset_state()
        self.validation_steps(
            iter(self.strategy.experimental_distribute_dataset(dataset)),
            tf.constant(steps or np.iinfo(np.int64).max, tf.int64),
        )
        kinds = {"loss": self.validation_loss}
        if self.config.task == modes.CLASSIFICATION:
            kinds["accuracy"] = self.validation_accuracy
        return {f"{n}_{k}": float(m[n].result()) for k, m in kinds.items() for n in names.NETWORKS}

    def fit(
        self,
        train: Union[TrainingBatches, tf.data.Dataset],
        validation: Optional[tf.data.Dataset],
        run_dir: Optional[str] = None,
    ) -> Dict[str, float]:
        """Trains for at most `config.train_steps` steps, resuming from the newest checkpoint in
        `run_dir`. With a `validation` dataset it validates every `config.validate_every` steps,
        stops after `config.patience` validations without improvement and ends with the best
        validation's weights. Positioned batches (a split held in memory) restart at the
        restored step; otherwise the input iterator itself is checkpointed and restored."""
        config = self.config
        if config.train_steps <= 0:
            raise ValueError("train_steps must be set (TrainerConfig.budgeted) before training")
        if isinstance(train, TrainingBatches):
            log.info("training data: %s", train.description)
        positioned = isinstance(train, TrainingBatches) and train.positioned
        iterator = None
        if not positioned:
            dataset = train.dataset_from(0) if isinstance(train, TrainingBatches) else train
            iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
        manager = self.manager = checkpoint_manager(self, run_dir, iterator) if run_dir else None
        pacer = manager and CheckpointPacer(
            manager,
            config.checkpoint_share,
            isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy),
        )
        self.summaries = Scalars(run_dir)
        if manager and manager.latest_checkpoint:
            restore_strictly(manager.checkpoint, manager.latest_checkpoint)
            log.info("resumed from %s at step %d", manager.latest_checkpoint, self.current_step())
        if positioned:
            iterator = iter(
                self.strategy.experimental_distribute_dataset(
                    train.dataset_from(self.current_step())
                )
            )
        validating = validation is not None
        history: Dict[str, float] = {}
        while not self._finished():
            steps = self._steps_to_next_stop(validating)
            plateaus = int(self.stopping.plateaus.numpy())
            factor = schedule.factor(self.current_step(), config.train_steps, plateaus)
            schedule.apply(self.optimizers, self.rates, factor)
            total = self.train_steps(iterator, tf.constant(steps, tf.int64))
            step = self.current_step()
            if validating and (step % config.validate_every == 0 or step == config.train_steps):
                self._validate(validation)
            if step % config.log_every == 0 or self._finished():  # the last step always logged
                history = self._log_train(step, float(total))
            if pacer and (step % config.checkpoint_every == 0 or self._finished()):
                pacer.save(step, last=self._finished())
        self.stop_reason = self.stopping.reason(
            validating, self.config.patience, self.config.train_steps
        )
        log.info("training stopped at step %d: %s", self.current_step(), self.stop_reason)
        if validating:
            self.stopping.restore_best()
            history.update(self._log_exported(self.evaluate(validation, config.validation_steps)))
        return history

    def record(self, train_rows: Optional[int] = None) -> Dict[str, object]:
        """How training went, for training.json, the console and the report."""
        steps = self.current_step()
        epochs = steps * self.config.batch_size / train_rows if train_rows else None
        return {
            "steps": steps,
            "epochs": round(epochs, 2) if epochs is not None else None,
            "max_steps": self.config.train_steps,
            "best_step": int(self.stopping.best_step.numpy()) or steps,
            "plateaus": int(self.stopping.plateaus.numpy()),
            "stopped": self.stop_reason,
            **{
                f"{n}_hidden_units": list(getattr(self.config, n).hidden_units)
                for n in names.NETWORKS
            },
        }

    def _finished(self) -> bool:
        return self.current_step() >= self.config.train_steps or self.stopping.exhausted(
            self.config.patience
        )

    def _validate(self, validation: tf.data.Dataset) -> None:
        started, step = time.perf_counter(), self.current_step()
        result = self.evaluate(validation, self.config.validation_steps)
        losses = [result[f"{n}_loss"] for n in names.NETWORKS]
        improved = self.stopping.update(losses, step, schedule.plateau_after(self.config.patience))
        self.validation_seconds += time.perf_counter() - started
        shown = ", ".join(f"{k}={v:.4f}" for k, v in result.items())
        log.info("validation at step %d: %s%s", step, shown, " (best so far)" if improved else "")
        self.summaries.write(names.VALIDATION_SPLIT, step, result)

    def save_checkpoint(self) -> None:
        """Saves the current state (after `fit`), e.g. once calibration has set the temperatures,
        so the last checkpoint holds exactly the exported model."""
        if self.manager:
            self.manager.save(checkpoint_number=self.current_step())

    def _steps_to_next_stop(self, validating: bool) -> int:
        """Steps until the next log, checkpoint, validation or the end, where control returns
        to Python."""
        step, config = self.current_step(), self.config
        every = [config.log_every, config.checkpoint_every]
        if validating:
            every.append(config.validate_every)
        return min(config.train_steps - step, *(n - step % n for n in every))

    def _log_train(self, step: int, total: float) -> Dict[str, float]:
        check_finite(total, step, self.config)
        losses = {f"{n}_train_loss": float(self.train_loss[n].result()) for n in names.NETWORKS}
        log.info("step %d: %s", step, ", ".join(f"{k}={v:.4f}" for k, v in losses.items()))
        self.summaries.write(
            "train", step, {f"{n}_loss": losses[f"{n}_train_loss"] for n in names.NETWORKS}
        )
        for metric in self.train_loss.values():
            metric.reset_state()
        return losses

    def _log_exported(self, result: Dict[str, float]) -> Dict[str, float]:
        """The final validation of the exported weights, as the `exported` TensorBoard run."""
        log.info(
            "validation of the exported weights at step %d: %s",
            self.current_step(),
            ", ".join(f"{k}={v:.4f}" for k, v in result.items()),
        )
        self.summaries.write(names.EXPORTED_RUN, self.current_step(), result)
        return {f"{names.EXPORTED_RUN}_{k}": v for k, v in result.items()}
