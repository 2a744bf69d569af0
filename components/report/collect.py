"""Reads a finished run's artifacts into plain numbers: the report's figures come only from here.

- `network_outputs`: the Trainer's serving model applied to the raw examples of one split,
  giving each network's raw and normalized outputs, its prediction and the label.
- `training_curves`: the scalars the Trainer's loop wrote to TensorBoard (model_run artifact).
- `served_versions`: what the serving root holds after the Pusher.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf

from components.pusher import versions
from modules import modes, names

BATCH = 256


@dataclasses.dataclass
class NetworkOutputs:
    """One network on one split; arrays have one row per example."""

    raw: np.ndarray  # [n, k] before normalization
    normalized: np.ndarray  # [n, k] after it
    prediction: np.ndarray  # [n] class id (classification) or value (regression)


@dataclasses.dataclass
class SplitOutputs:
    split: str
    labels: np.ndarray  # [n] class id (Transform's vocabulary order), or [n, k] values
    networks: Dict[str, NetworkOutputs]
    combined: np.ndarray  # [n] the combined model's prediction
    # Classification: per prediction (both networks and combined), the normalized scores and the
    # served probabilities [n, classes], to measure calibration on this split.
    scores: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    probabilities: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def example_files(examples_uri: str, split: str) -> List[str]:
    files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"no examples for split {split!r} under {examples_uri}")
    return files


def network_outputs(
    serving_model_dir: str, files: List[str], split: str, label_key: str, task: str
) -> SplitOutputs:
    """Runs `serving_default` and `transform_features` of the exported model over every example:
    the same graph TF Serving runs, so the report shows what is served."""
    model = tf.saved_model.load(serving_model_dir)
    serve = model.signatures[names.SERVING_DEFAULT]
    transform = model.signatures[names.TRANSFORM_FEATURES]
    prediction_kind = names.PROBABILITIES if task == modes.CLASSIFICATION else names.VALUES
    parts: Dict[str, List[np.ndarray]] = {}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(BATCH)
    for batch in dataset:
        outputs = serve(examples=batch)
        keys = {
            "labels": transform(examples=batch)[label_key],
            "combined": outputs[prediction_kind],
            "combined_scores": outputs[names.SCORES],
        }
        for network in names.NETWORKS:
            for kind in (names.RAW, names.SCORES, prediction_kind):
                keys[names.output_key(network, kind)] = outputs[names.output_key(network, kind)]
        for key, value in keys.items():
            parts.setdefault(key, []).append(value.numpy())
    if not parts:
        raise ValueError(f"split {split!r} has no examples: {files}")
    arrays = {key: np.concatenate(value) for key, value in parts.items()}

    def predicted(values: np.ndarray) -> np.ndarray:
        return values.argmax(axis=-1) if task == modes.CLASSIFICATION else values.reshape(-1)

    networks = {
        n: NetworkOutputs(
            raw=arrays[names.output_key(n, names.RAW)],
            normalized=arrays[names.output_key(n, names.SCORES)],
            prediction=predicted(arrays[names.output_key(n, prediction_kind)]),
        )
        for n in names.NETWORKS
    }
    labels = arrays["labels"]  # [n], or [n, k] for k regression targets
    if task != modes.CLASSIFICATION:
        return SplitOutputs(
            split, labels.reshape(len(labels), -1), networks, predicted(arrays["combined"])
        )
    scores = {n: arrays[names.output_key(n, names.SCORES)] for n in names.NETWORKS}
    probabilities = {n: arrays[names.output_key(n, prediction_kind)] for n in names.NETWORKS}
    scores[names.COMBINED] = arrays["combined_scores"]
    probabilities[names.COMBINED] = arrays["combined"]
    return SplitOutputs(
        split,
        labels.reshape(-1),
        networks,
        predicted(arrays["combined"]),
        scores=scores,
        probabilities=probabilities,
    )


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """[true class, predicted class] -> count."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)), 1)
    return matrix


def summary_statistics(values: np.ndarray) -> Dict[str, float]:
    flat = values.reshape(-1).astype(np.float64)
    return {
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "min": float(flat.min()),
        "p01": float(np.percentile(flat, 1)),
        "p99": float(np.percentile(flat, 99)),
        "max": float(flat.max()),
    }


Curve = List[Tuple[int, float]]


def training_curves(model_run_uri: str) -> Dict[str, Dict[str, Curve]]:
    """`train` / `exported` (the exported weights' validation) -> scalar tag -> [(step, value)],
    from the Trainer's TensorBoard files.

    A Trainer that was killed and resumed writes a second event file repeating some steps; the
    value written last wins, so each step appears once."""
    curves: Dict[str, Dict[str, Curve]] = {}
    for phase in ("train", names.EXPORTED_RUN):
        latest: Dict[str, Dict[int, Tuple[float, float]]] = {}
        for path in tf.io.gfile.glob(os.path.join(model_run_uri, phase, "events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    if value.HasField("tensor") and value.tensor.tensor_shape.dim:
                        continue  # a histogram, not a scalar
                    number = (
                        float(tf.make_ndarray(value.tensor))
                        if value.HasField("tensor")
                        else value.simple_value
                    )
                    seen = latest.setdefault(value.tag, {}).get(event.step)
                    if seen is None or event.wall_time >= seen[0]:
                        latest[value.tag][event.step] = (event.wall_time, number)
        curves[phase] = {
            tag: sorted((step, v) for step, (_, v) in by_step.items())
            for tag, by_step in sorted(latest.items())
        }
    return curves


def calibration(model_run_uri: str) -> Dict[str, Dict[str, float]]:
    """The Trainer's calibration record (the map, NLL and ECE before and after on validation)."""
    return _trainer_record(model_run_uri, names.CALIBRATION_FILE)


def combination(model_run_uri: str) -> Dict[str, object]:
    """The Trainer's combination record (the weights, each candidate's validation loss)."""
    return _trainer_record(model_run_uri, names.COMBINATION_FILE)


def training_record(model_run_uri: str) -> Dict[str, object]:
    """The Trainer's training.json: steps, epochs, why training stopped, the trained sizes."""
    return _trainer_record(model_run_uri, names.TRAINING_FILE)


def _trainer_record(model_run_uri: str, file_name: str) -> dict:
    """A JSON file the Trainer wrote into its model_run folder; {} when it wrote none."""
    import json

    path = os.path.join(model_run_uri, file_name)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)


def served_versions(serving_root: str) -> Dict[str, List[int]]:
    """Model name -> integer version folders in the serving root (what TF Serving would load)."""
    return {model: versions(os.path.join(serving_root, model)) for model in names.SERVED_MODELS}


def data_checks(checked_uri: str) -> Dict[str, object]:
    """The DataGate's report lines and, with --drift, each column's measured distance to the last
    blessed run's data (split -> column -> comparator and `<comparator>_threshold`)."""
    import json

    from components.data_gate import DRIFT_FILE, REPORT_FILE

    with tf.io.gfile.GFile(os.path.join(checked_uri, REPORT_FILE)) as handle:
        lines = handle.read().splitlines()
    drift_path = os.path.join(checked_uri, DRIFT_FILE)
    drift = {}
    if tf.io.gfile.exists(drift_path):
        with tf.io.gfile.GFile(drift_path) as handle:
            drift = json.load(handle)
    return {"report": lines, "drift": drift}
