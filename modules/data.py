"""Transform's output (tf.Example TFRecords) as batched, shuffled, prefetched tf.data.

Read with tf.data directly rather than through TFX's DataAccessor (tfxio): on this stack tfxio's
TFExampleRecord dataset parses batches on one thread and re-interleaves files every epoch. Reader
alone, penguin train split, 2 cores: tfxio 53k / 88k examples/s at batch 32 / 256; this reader
204k / 584k streaming, 291k / 1.6M with the split in memory. Every process that trains (the
Trainer and each multi-worker process) reads through `training_batches`.

A training split that fits the memory budget is parsed once and held as columns; batch k is then
a function of (seed, k) alone, so a checkpoint holds the step, never the data or a shuffle
buffer, and its cost does not grow with the split (benchmarks/trainer_e2e.py measures both).
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from absl import logging as log

PARSE_CHUNK = 65536  # records parsed per call while loading a split into memory
GATHER_ROWS = 4096  # rows gathered per call from a split held in memory (whole batches)


def matching_files(file_patterns: Sequence[str]) -> List[str]:
    files = sorted({f for pattern in file_patterns for f in tf.io.gfile.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"no Transform output matches {list(file_patterns)}")
    return files


def memory_limit_bytes() -> int:
    """This process's memory: the machine's, or its container's (cgroup v2 or v1) when lower,
    so a Kubeflow pod's limit is honoured."""
    limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except OSError:
            continue
        if text.isdigit():
            limit = min(limit, int(text))
    return limit


def memory_budget(fraction: float) -> int:
    """Bytes of parsed training data held in memory: `fraction` of `memory_limit_bytes()`."""
    return int(fraction * memory_limit_bytes())


@dataclasses.dataclass(frozen=True)
class TrainingBatches:
    """Endless shuffled (features, label) training batches, startable at any step."""

    dataset_from: Callable[[int], tf.data.Dataset]  # the batches from step k on
    # True: batch k depends on (seed, k) only, so a checkpoint needs the step and not the input
    # iterator; False (streaming): the iterator, with its shuffle buffer, is checkpointed.
    positioned: bool
    description: str
    rows: int  # examples in the split: an epoch is rows / batch_size steps

    def with_options(self, options: tf.data.Options) -> "TrainingBatches":
        make = self.dataset_from
        return dataclasses.replace(self, dataset_from=lambda step: make(step).with_options(options))


def _records(files: Sequence[str]) -> tf.data.Dataset:
    compression = "GZIP" if all(f.endswith(".gz") for f in files) else ""
    return tf.data.TFRecordDataset(
        files,
        compression_type=compression,
        num_parallel_reads=tf.data.AUTOTUNE if len(files) > 1 else None,
        buffer_size=8 * 2**20,
    )


def _parser(spec: Mapping[str, object], label_key: str) -> Callable:
    def parse(serialized: tf.Tensor):
        features = tf.io.parse_example(serialized, spec)
        return features, features.pop(label_key)

    return parse


def sibling_split(file_patterns: Sequence[str], split: str) -> List[str]:
    """The patterns of another split of the same Examples artifact (TFX lays each split out as
    `<artifact>/Split-<name>/`), those that match files; [] when the artifact has no such split."""
    patterns = [re.sub(r"/Split-[^/]+/", f"/Split-{split}/", p) for p in file_patterns]
    return [p for p in patterns if p not in file_patterns and tf.io.gfile.glob(p)]


def unknown_labels(
    file_patterns: Sequence[str], tf_transform_output: tft.TFTransformOutput, label_key: str
) -> int:
    """Examples whose transformed label is -1 (a class the training split lacks), the label parsed
    alone and counted chunk by chunk, so memory does not grow with the split; nothing is fitted."""
    spec = {label_key: tf_transform_output.transformed_feature_spec()[label_key]}
    dataset = (
        _records(matching_files(file_patterns))
        .batch(PARSE_CHUNK)
        .map(
            lambda rows: tf.reduce_sum(
                tf.cast(tf.io.parse_example(rows, spec)[label_key] < 0, tf.int64)
            )
        )
    )
    return int(sum(int(count) for count in dataset))


def in_order_dataset(
    file_patterns: Sequence[str],
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
    cache: bool = False,
    batches: int = 0,
) -> tf.data.Dataset:
    """Read once, in file order, the last batch possibly short, so each example counts once;
    `cache`: parsed batches are kept after the first pass (a split validated many times);
    `batches` > 0: only the first that many batches."""
    spec = tf_transform_output.transformed_feature_spec()
    dataset = (
        _records(matching_files(file_patterns))
        .batch(batch_size)
        .map(_parser(spec, label_key), num_parallel_calls=tf.data.AUTOTUNE)
    )
    if batches > 0:
        dataset = dataset.take(batches)
    return (dataset.cache() if cache else dataset).prefetch(tf.data.AUTOTUNE)


def training_batches(
    file_patterns: Sequence[str],
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
    seed: int,
    shuffle_buffer: int,
    in_memory_bytes: int,
) -> TrainingBatches:
    """Batches that repeat forever, shuffled with `seed`. A split whose parsed columns fit in
    `in_memory_bytes` is held in memory and permuted whole every epoch; a larger one (or one
    with variable-length features) streams from disk through a `shuffle_buffer`-example buffer."""
    files = matching_files(file_patterns)
    spec = tf_transform_output.transformed_feature_spec()
    columns = _load_columns(files, spec, in_memory_bytes)
    if columns is not None:
        rows = int(columns[label_key].shape[0])
        return TrainingBatches(
            lambda step: _permuted_batches(columns, label_key, batch_size, seed, step),
            positioned=True,
            description=f"{rows:,} examples held in memory ({_size(_nbytes(columns))})",
            rows=rows,
        )

    def streaming(_: int) -> tf.data.Dataset:
        return (
            _records(files)
            .shuffle(shuffle_buffer, seed=seed)
            .repeat()
            .batch(batch_size, drop_remainder=True)
            .map(_parser(spec, label_key), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    rows = int(_records(files).reduce(np.int64(0), lambda count, _: count + 1))
    return TrainingBatches(
        streaming,
        positioned=False,
        rows=rows,
        description=f"{rows:,} examples streaming from {len(files)} file(s) through a "
        f"{shuffle_buffer}-example "
        f"shuffle buffer (the split is over the {_size(in_memory_bytes)} memory budget "
        "or has variable-length features)",
    )


def transformed_dataset(
    file_patterns: Sequence[str],
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
    seed: int,
    shuffle_buffer: int,
    training: bool,
    in_memory_bytes: int = 0,
) -> tf.data.Dataset:
    """Training batches from step 0 (`training_batches`) or the evaluation dataset."""
    if not training:
        return in_order_dataset(file_patterns, tf_transform_output, label_key, batch_size)
    return training_batches(
        file_patterns,
        tf_transform_output,
        label_key,
        batch_size,
        seed,
        shuffle_buffer,
        in_memory_bytes,
    ).dataset_from(0)


def _row_bytes(spec: Mapping[str, object]) -> Optional[int]:
    """Parsed bytes per example, or None when a feature is not a fixed-size number."""
    total = 0
    for feature in spec.values():
        if not isinstance(feature, tf.io.FixedLenFeature) or feature.dtype == tf.string:
            return None
        total += int(np.prod(feature.shape, dtype=np.int64)) * feature.dtype.size
    return total


def _size(count: int) -> str:
    return f"{count / 2**20:,.1f} MiB" if count >= 2**20 else f"{count / 2**10:,.1f} KiB"


def _nbytes(columns: Mapping[str, tf.Tensor]) -> int:
    return sum(int(np.prod(c.shape, dtype=np.int64)) * c.dtype.size for c in columns.values())


def _load_columns(
    files: Sequence[str], spec: Mapping[str, object], budget: int
) -> Optional[Dict[str, tf.Tensor]]:
    """Every example parsed once into one tensor per feature, or None as soon as the parsed split
    would exceed `budget` bytes (so an oversized split costs at most `budget` of parsing)."""
    row_bytes = _row_bytes(spec)
    if row_bytes is None or budget <= 0:
        return None
    chunks, rows = [], 0
    for chunk in _records(files).batch(PARSE_CHUNK):
        rows += int(chunk.shape[0])
        if rows * row_bytes > budget:
            log.info("training split over the %d-byte memory budget after %d rows", budget, rows)
            return None
        chunks.append(tf.io.parse_example(chunk, spec))
    if rows == 0:
        raise ValueError(f"the training split is empty: {list(files)}")
    columns = {}
    for key in spec:
        columns[key] = tf.concat([chunk.pop(key) for chunk in chunks], axis=0)
    return columns


def _permuted_batches(
    columns: Mapping[str, tf.Tensor], label_key: str, batch_size: int, seed: int, start: int
) -> tf.data.Dataset:
    """Batch k holds positions k*batch_size ... of an endless sequence of epochs, each epoch its
    own stateless permutation of the rows (seeded by `seed` and the epoch number): the order is
    a pure function of k, so resuming at step k needs nothing but k. Each map call gathers
    `per_call` batches at once (one tf.data element per batch costs more than the gather at
    small batch sizes)."""
    rows = int(next(iter(columns.values())).shape[0])
    per_call = max(1, GATHER_ROWS // batch_size)
    size = per_call * batch_size
    offsets = tf.range(size, dtype=tf.int64)
    max_index = tf.fill([size], tf.constant(rows - 1, tf.int64))

    def batches(call: tf.Tensor):
        positions = call * size + offsets
        seeds = tf.stack(
            [tf.fill([size], tf.constant(seed, tf.int64)), positions // rows, 0 * offsets], 1
        )
        # The raw op: tf.random.experimental.index_shuffle pads a batched [n, 2] seed on the
        # wrong axis in TF 2.16.
        indices = tf.raw_ops.RandomIndexShuffle(
            index=positions % rows, seed=seeds, max_index=max_index
        )
        features = {
            key: tf.reshape(tf.gather(column, indices), [per_call, batch_size, *column.shape[1:]])
            for key, column in columns.items()
        }
        return features, features.pop(label_key)

    return (
        tf.data.Dataset.range(start // per_call, np.iinfo(np.int64).max)
        .map(batches, num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
        .skip(start % per_call)
        .prefetch(tf.data.AUTOTUNE)
    )
