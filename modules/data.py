"""Transform's output as batched, shuffled, prefetched tf.data, read through tfxio."""
from __future__ import annotations

from typing import Callable, List

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio


DatasetFactory = Callable[..., tf.data.Dataset]  # (files, TensorFlowDatasetOptions, schema) -> dataset


def tf_example_dataset_factory(files: List[str], options: tfxio.TensorFlowDatasetOptions, schema) -> tf.data.Dataset:
    """What TFX's DataAccessor does for Transform's tf.Example output, for processes that have no
    DataAccessor (the multi-worker training processes)."""
    return tfxio.TFExampleRecord(file_pattern=files, schema=schema).TensorFlowDataset(options)


def transformed_dataset(file_pattern: List[str], dataset_factory: DatasetFactory,
                        tf_transform_output: tft.TFTransformOutput,
                        label_key: str, batch_size: int, seed: int, shuffle_buffer: int,
                        training: bool) -> tf.data.Dataset:
    """(features, label) batches. Training data repeats forever and is shuffled with `seed`;
    evaluation data is read once, in order, so each example counts once."""
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size,
        label_key=label_key,
        shuffle=training,
        shuffle_seed=seed,
        shuffle_buffer_size=shuffle_buffer,
        num_epochs=None if training else 1,
        drop_final_batch=False,
    )
    dataset = dataset_factory(file_pattern, options, tf_transform_output.transformed_metadata.schema)
    return dataset.prefetch(tf.data.AUTOTUNE)
