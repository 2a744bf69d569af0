"""The Trainer's reader of Transform's output (modules/data.py), on a tiny real Transform output."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.util import tfxio_utils
from tfx.types import standard_artifacts
from tfx_bsl.public import tfxio

from modules import names
from modules.data import training_batches, transformed_dataset
from modules.hparams import TrainerConfig
from modules.job import seed_everything


def test_our_reader_gives_the_batches_tfx_data_accessor_gives(tiny_penguins):
    """The Trainer reads Transform's output with its own tf.data reader (faster than tfxio's);
    in evaluation order it must yield exactly what TFX's DataAccessor yields."""
    examples = standard_artifacts.Examples()
    examples.uri = tiny_penguins.examples
    examples.split_names = '["train", "eval"]'
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    files = [tiny_penguins.files("eval")[0]]
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
def test_training_batches_are_full_shuffled_and_reproducible(tiny_penguins, in_memory_bytes):
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    files = [tiny_penguins.files("train")[0]]

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


def replicated_split(tiny_penguins, directory: str, copies: int) -> str:
    """The penguin train split's records written `copies` times into one gzipped file."""
    records = list(
        tf.data.TFRecordDataset(
            tf.io.gfile.glob(tiny_penguins.files("train")[0]),
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


def penguin_batches(tiny_penguins, files, config: TrainerConfig, budget: int = 2**28):
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    return training_batches(
        files, output, "species", config.batch_size, config.seed, config.shuffle_buffer, budget
    )


def test_a_split_held_in_memory_starts_at_any_step_and_one_over_budget_streams(
    tiny_penguins, tmp_path
):
    files = [tiny_penguins.files("train")[0]]
    batches = penguin_batches(tiny_penguins, files, TrainerConfig())
    assert batches.positioned and batches.description.startswith("230 examples held in memory")

    def labels(dataset, n):
        return [label.numpy().tolist() for _, label in dataset.take(n)]

    assert labels(batches.dataset_from(0), 30)[17:] == labels(batches.dataset_from(17), 13)
    # 230 rows of 5 float32 and 3 int64 features (label included): 230 * 44 = 10,120 bytes.
    exact = penguin_batches(tiny_penguins, files, TrainerConfig(), budget=10120)
    assert exact.positioned
    over = penguin_batches(tiny_penguins, files, TrainerConfig(), budget=10119)
    assert not over.positioned and over.description.startswith("230 examples streaming from 1 file")
    assert over.rows == exact.rows == 230


def test_checkpoints_do_not_grow_with_a_split_held_in_memory(tiny_penguins, tmp_path):
    """A 230-row split and the same rows 500 times (115,000): the checkpoints hold the step, not
    the data, so their tensors take the same bytes; a run resumed from one trains on the same
    batches."""
    config = dataclasses.replace(TrainerConfig(), train_steps=40, log_every=10, checkpoint_every=20)
    sizes = {}
    for copies in (1, 500):
        files = [replicated_split(tiny_penguins, str(tmp_path / f"split{copies}"), copies)]
        run_dir = str(tmp_path / f"run{copies}")
        keras.backend.clear_session()  # the same layer names (they are in the checkpoint) twice
        seed_everything(config.seed)
        trainer = tiny_penguins.twin(config)
        trainer.fit(penguin_batches(tiny_penguins, files, config), None, run_dir)
        checkpoint = tf.train.latest_checkpoint(os.path.join(run_dir, names.CHECKPOINTS_DIR))
        sizes[copies] = sum(os.path.getsize(f) for f in tf.io.gfile.glob(checkpoint + ".*"))
    assert sizes[1] == sizes[500], sizes

    files = [str(tmp_path / "split500" / "train.gz")]
    seed_everything(config.seed)
    half = tiny_penguins.twin(dataclasses.replace(config, train_steps=20))
    half.fit(penguin_batches(tiny_penguins, files, config), None, str(tmp_path / "resumed"))
    seed_everything(config.seed + 1)  # the resumed weights must come from the checkpoint
    resumed = tiny_penguins.twin(config)
    resumed.fit(penguin_batches(tiny_penguins, files, config), None, str(tmp_path / "resumed"))
    for a, b in zip(trainer.model.weights, resumed.model.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
