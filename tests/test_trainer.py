"""run_fn's pieces on the embedded penguins: Transform's real output, read as the Trainer reads it."""

import dataclasses
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.util import tfxio_utils
from tfx.types import standard_artifacts
from tfx_bsl.public import tfxio

from modules import names, warm_start
from modules.data import training_batches, transformed_dataset
from modules.hparams import NetworkSpec, TrainerConfig
from modules.job import seed_everything
from modules.layout import feature_layout
from modules.networks import TwinModel
from modules.training import JointTrainer
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve

pytestmark = pytest.mark.slow


def short_run(penguin_run, steps: int):
    """Trains `steps` joint steps from the pipeline's Transform output; returns (before, after, weights)."""
    config = resolve(PipelineConfig())
    uri = penguin_run.artifact_dir("Transform", "transformed_examples")
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    trainer_config = dataclasses.replace(TrainerConfig(), train_steps=steps, log_every=steps)

    def dataset(split, training):
        return transformed_dataset(
            [f"{uri}/Split-{split}/*"],
            output,
            config.label,
            trainer_config.batch_size,
            trainer_config.seed,
            1024,
            training,
        )

    seed_everything(trainer_config.seed)
    trainer = JointTrainer(
        TwinModel(
            feature_layout(output, config.features, config.label, "classification"), trainer_config
        ),
        trainer_config,
    )
    before = trainer.evaluate(dataset("eval", False), 20)
    trainer.fit(dataset("train", True), None)
    after = trainer.evaluate(dataset("eval", False), 20)
    return before, after, [w.numpy() for w in trainer.model.weights]


def test_a_short_run_on_the_penguins_lowers_each_loss_and_is_reproducible(penguin_run):
    before, after, weights = short_run(penguin_run, 60)
    for network in names.NETWORKS:
        assert after[f"{network}_loss"] < 0.5 * before[f"{network}_loss"], (before, after)
        assert after[f"{network}_accuracy"] >= 0.9, after
    _, _, again = short_run(penguin_run, 60)
    for first, second in zip(weights, again, strict=False):
        np.testing.assert_array_equal(first, second)


def test_our_reader_gives_the_batches_tfx_data_accessor_gives(penguin_run):
    """The Trainer reads Transform's output with its own tf.data reader (faster than tfxio's);
    in evaluation order it must yield exactly what TFX's DataAccessor yields."""
    examples = standard_artifacts.Examples()
    examples.uri = penguin_run.artifact_dir("Transform", "transformed_examples")
    examples.split_names = '["train", "eval"]'
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    files = [f"{examples.uri}/Split-eval/*"]
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=16, label_key="species", shuffle=False, num_epochs=1
    )
    tfx_batches = list(
        tfxio_utils.get_tf_dataset_factory_from_artifact([examples], [])(
            files, options, output.transformed_metadata.schema
        )
    )
    our_batches = list(transformed_dataset(files, output, "species", 16, 1, 64, training=False))
    assert len(tfx_batches) == len(our_batches) > 1
    for (features_a, label_a), (features_b, label_b) in zip(tfx_batches, our_batches, strict=False):
        np.testing.assert_array_equal(label_a.numpy(), label_b.numpy())
        assert set(features_a) == set(features_b)
        for key in features_a:
            assert features_a[key].dtype == features_b[key].dtype, key
            np.testing.assert_array_equal(
                features_a[key].numpy(), features_b[key].numpy(), err_msg=key
            )


@pytest.mark.parametrize(
    "in_memory_bytes", [0, 2**28]
)  # streaming, and the split parsed once into memory
def test_training_batches_are_full_shuffled_and_reproducible(penguin_run, in_memory_bytes):
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    files = [f"{penguin_run.artifact_dir('Transform', 'transformed_examples')}/Split-train/*"]

    def rows(dataset):
        """Each example as one tuple (label, then features by name), in dataset order."""
        out = []
        for features, label in dataset:
            columns = [label.numpy()] + [features[k].numpy() for k in sorted(features)]
            out += list(zip(*columns, strict=False))
        return out

    ordered = rows(transformed_dataset(files, output, "species", 32, 7, 64, training=False))

    def shuffled(seed):
        return rows(
            transformed_dataset(files, output, "species", 32, seed, 64, True, in_memory_bytes).take(
                20
            )
        )

    first = shuffled(7)
    assert len(first) == 20 * 32  # repeats past the split's end, no short batch
    assert first == shuffled(7)
    epoch = first[: len(ordered)]
    assert epoch != ordered  # shuffled ...
    assert sorted(epoch) == sorted(
        ordered
    )  # ... within the epoch: every example once, values intact
    assert first[len(ordered) : 2 * len(ordered)] != epoch  # reshuffled each epoch


def replicated_split(penguin_run, directory: str, copies: int) -> str:
    """The penguin train split's records written `copies` times into one gzipped file."""
    records = list(
        tf.data.TFRecordDataset(
            tf.io.gfile.glob(
                f"{penguin_run.artifact_dir('Transform', 'transformed_examples')}/Split-train/*"
            ),
            compression_type="GZIP",
        )
    )
    os.makedirs(directory)
    path = os.path.join(directory, "train.gz")
    with tf.io.TFRecordWriter(path, "GZIP") as writer:
        for _ in range(copies):
            for record in records:
                writer.write(record.numpy())
    return path


def penguin_batches(penguin_run, files, config: TrainerConfig, budget: int = 2**28):
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    return training_batches(
        files, output, "species", config.batch_size, config.seed, config.shuffle_buffer, budget
    )


def test_a_split_held_in_memory_starts_at_any_step_and_one_over_budget_streams(
    penguin_run, tmp_path
):
    files = [f"{penguin_run.artifact_dir('Transform', 'transformed_examples')}/Split-train/*"]
    batches = penguin_batches(penguin_run, files, TrainerConfig())
    assert batches.positioned and batches.description.startswith("232 examples held in memory")

    def labels(dataset, n):
        return [label.numpy().tolist() for _, label in dataset.take(n)]

    assert labels(batches.dataset_from(0), 30)[17:] == labels(batches.dataset_from(17), 13)
    # 232 rows of 5 float32 and 3 int64 features (label included): 232 * 44 = 10,208 bytes.
    exact = penguin_batches(penguin_run, files, TrainerConfig(), budget=10208)
    assert exact.positioned
    over = penguin_batches(penguin_run, files, TrainerConfig(), budget=10207)
    assert not over.positioned and over.description.startswith("232 examples streaming from 1 file")
    assert over.rows == exact.rows == 232


def test_checkpoints_do_not_grow_with_a_split_held_in_memory(penguin_run, tmp_path):
    """A 204-row split and the same rows 500 times (102,000): the checkpoints hold the step, not
    the data, so their tensors take the same bytes; a run resumed from one trains on the same
    batches."""
    config = dataclasses.replace(TrainerConfig(), train_steps=40, log_every=10, checkpoint_every=20)
    sizes = {}
    for copies in (1, 500):
        files = [replicated_split(penguin_run, str(tmp_path / f"split{copies}"), copies)]
        run_dir = str(tmp_path / f"run{copies}")
        keras.backend.clear_session()  # the same layer names (they are in the checkpoint) twice
        seed_everything(config.seed)
        trainer = twin_for_penguins(penguin_run, config)
        trainer.fit(penguin_batches(penguin_run, files, config), None, run_dir)
        checkpoint = tf.train.latest_checkpoint(os.path.join(run_dir, names.CHECKPOINTS_DIR))
        sizes[copies] = sum(os.path.getsize(f) for f in tf.io.gfile.glob(checkpoint + ".*"))
    assert sizes[1] == sizes[500], sizes

    files = [str(tmp_path / "split500" / "train.gz")]
    seed_everything(config.seed)
    half = twin_for_penguins(penguin_run, dataclasses.replace(config, train_steps=20))
    half.fit(penguin_batches(penguin_run, files, config), None, str(tmp_path / "resumed"))
    seed_everything(config.seed + 1)  # the resumed weights must come from the checkpoint
    resumed = twin_for_penguins(penguin_run, config)
    resumed.fit(penguin_batches(penguin_run, files, config), None, str(tmp_path / "resumed"))
    for a, b in zip(trainer.model.weights, resumed.model.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def twin_for_penguins(penguin_run, trainer_config: TrainerConfig) -> JointTrainer:
    """A fresh twin model on the penguin run's Transform output, its variables built."""
    config = resolve(PipelineConfig())
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    layout = feature_layout(output, config.features, config.label, "classification")
    return JointTrainer(TwinModel(layout, trainer_config), trainer_config)


def stored_network(model_dir: str, network: str) -> list:
    """A network's weights in a served SavedModel, in Keras order (kernel, bias per layer)."""
    prefix = os.path.join(model_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    found = {}
    for key, _ in tf.train.list_variables(prefix):
        match = re.fullmatch(
            rf"model/{network}/layer_with_weights-(\d+)/(kernel|bias)/.ATTRIBUTES/VARIABLE_VALUE",
            key,
        )
        if match:
            found[(int(match[1]), match[2] == "bias")] = reader.get_tensor(key)
    return [found[k] for k in sorted(found)]


def test_a_warm_started_network_starts_equal_to_the_blessed_models_and_the_other_does_not(
    penguin_run,
):
    blessed = penguin_run.first_summary.pushed_to  # the blessed, pushed combined model
    trainer = twin_for_penguins(penguin_run, TrainerConfig(warm_start="a"))
    warm_start.restore(trainer.model, "a", blessed)
    for network, equal in ((names.NETWORK_A, True), (names.NETWORK_B, False)):
        stored = stored_network(blessed, network)
        mine = [v.numpy() for v in trainer.model.networks[network].trainable_variables]
        assert len(stored) == len(mine) == 6, network  # 3 dense layers
        same = [np.array_equal(a, b) for a, b in zip(mine, stored, strict=True)]
        assert same == [equal] * 6, (network, same)


def test_a_missing_or_misfit_base_model_fails_in_one_line(penguin_run):
    blessed = penguin_run.first_summary.pushed_to
    trainer = twin_for_penguins(penguin_run, TrainerConfig())
    with pytest.raises(warm_start.WarmStartError, match="no blessed model yet"):
        warm_start.restore(trainer.model, "both", None)
    wider = dataclasses.replace(TrainerConfig(), network_b=NetworkSpec(hidden_units=(64, 32)))
    trainer = twin_for_penguins(penguin_run, wider)
    with pytest.raises(warm_start.WarmStartError) as error:
        warm_start.restore(trainer.model, "b", blessed)
    message = str(error.value)
    assert "\n" not in message and "cannot warm-start network_b from the blessed model" in message
    warm_start.restore(trainer.model, "a", blessed)  # network A still fits
