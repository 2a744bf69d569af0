"""TensorBoard summaries of a training run: each network's loss and accuracy per step, and its
raw and normalized outputs as histograms, so the common scale shows beside the raw ones."""

from __future__ import annotations

import os
from typing import Dict, Optional

import tensorflow as tf

from modules import names


class Scalars:
    """Per-network scalars, one TensorBoard run (a folder under `run_dir`) per kind: `train`,
    `validation`, `exported`. Without a `run_dir` nothing is written."""

    def __init__(self, run_dir: Optional[str]):
        self.run_dir = run_dir
        self._writers: Dict[str, tf.summary.SummaryWriter] = {}

    def write(self, run: str, step: int, result: Dict[str, float]) -> None:
        """`result` keys are `<network>_<metric>` (loss, accuracy); others are not written."""
        if not self.run_dir:
            return
        if run not in self._writers:
            self._writers[run] = tf.summary.create_file_writer(os.path.join(self.run_dir, run))
        with self._writers[run].as_default(step=step):
            for network in names.NETWORKS:
                for metric in ("loss", "accuracy"):
                    if f"{network}_{metric}" in result:
                        tf.summary.scalar(
                            names.scalar_tag(metric, network), result[f"{network}_{metric}"]
                        )


def write_output_histograms(model, evaluation: tf.data.Dataset, run_dir: str, step: int) -> None:
    """Each network's raw and normalized outputs on the validation sample, as TensorBoard
    histograms: the scales before and after normalization, side by side in the `exported` run."""
    parts: dict = {}
    for features, _ in evaluation:
        outputs = model(features, training=False)
        for network in names.NETWORKS:
            for kind, tag in ((names.RAW, "outputs_raw"), (names.SCORES, "outputs_normalized")):
                key = names.scalar_tag(tag, network)
                parts.setdefault(key, []).append(outputs[names.output_key(network, kind)])
    with tf.summary.create_file_writer(os.path.join(run_dir, names.EXPORTED_RUN)).as_default(
        step=step
    ):
        for tag, values in parts.items():
            tf.summary.histogram(tag, tf.concat(values, axis=0))
