"""Task generality: dataset x task x mode -> each network's and the combined model's eval metric,
beside a plain single-network Keras model on the same Transform output and split (the baseline a
user would otherwise build), and the served probabilities' expected calibration error.

    python -m benchmarks.task_matrix [--only NAME ...] [--json PATH]

Each row runs `local_runner.py` as a user does (only --data/--label, plus --normalization where
the row names a mode), then reads the Evaluator's metrics, applies the Trainer's served model to
the raw eval rows (`serving_default`, the graph TF Serving runs) and trains the baseline with
`model.fit` for the same steps and batch size. Wine (3 classes, 13 columns) and digits (10
classes, 64 columns) are written from scikit-learn's bundled copies into the output folder.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np

from benchmarks.common import REPO_ROOT, newest_artifact


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    data: str  # path relative to the repo, or "sklearn:<loader>"
    label: str
    mode: str = "auto"


ROWS = (
    Row("penguins", "data/penguins.csv", "species"),
    Row("penguins-standardize", "data/penguins.csv", "species", "standardize"),
    Row("penguins-shared", "data/penguins.csv", "species", "shared"),
    Row("penguins-population", "data/penguins.csv", "species", "population"),
    Row("breast_cancer", "data/binary/breast_cancer.csv", "malignant"),
    Row("breast_cancer-shared", "data/binary/breast_cancer.csv", "malignant", "shared"),
    Row("diabetes", "data/regression/diabetes.csv", "progression"),
    Row("wine", "sklearn:load_wine", "cultivar"),
    Row("digits", "sklearn:load_digits", "digit"),
)


def materialize(row: Row, folder: str) -> str:
    """The row's CSV: a shipped file, or a scikit-learn bundled dataset written out."""
    if not row.data.startswith("sklearn:"):
        return os.path.join(REPO_ROOT, row.data)
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, row.data.split(":")[1])()
    columns = [f"f{i}" for i in range(bunch.data.shape[1])]
    path = os.path.join(folder, f"{row.name}.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, row.label])
        for x, y in zip(bunch.data, bunch.target, strict=False):
            writer.writerow([*(f"{v:g}" for v in x), f"class_{y}"])
    return path


def run_pipeline(row: Row, data: str, output: str) -> float:
    args = [
        sys.executable,
        "local_runner.py",
        "--data",
        data,
        "--label",
        row.label,
        "--output",
        output,
    ]
    if row.mode != "auto":
        args += ["--normalization", row.mode]
    started = time.monotonic()
    result = subprocess.run(
        args,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{row.name}: local_runner failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def measure(row: Row, output: str) -> dict:
    """The finished run's metrics, served ECE and the plain Keras baseline on the same split."""
    import tensorflow as tf

    from twinnorm.modules import names
    from twinnorm.modules.calibration import expected_calibration_error
    from twinnorm.modules.paths import OutputLayout
    from twinnorm.pipeline.summary import summarize

    summary = summarize(OutputLayout(output).metadata_path)
    model_dir = os.path.join(newest_artifact(output, "Trainer", "model"), "Format-Serving")
    model = tf.saved_model.load(model_dir)
    files = tf.io.gfile.glob(
        os.path.join(newest_artifact(output, "CsvExampleGen", "examples"), "Split-eval", "*")
    )
    examples = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    served = model.signatures[names.SERVING_DEFAULT](examples=tf.constant(examples))
    labels = (
        model.signatures[names.TRANSFORM_FEATURES](examples=tf.constant(examples))[row.label]
        .numpy()
        .reshape(-1)
    )
    result = {"row": row.name, "blessed": summary.blessed, "metrics": summary.metrics}
    if names.PROBABILITIES in served:
        result["served_ece"] = {
            name: expected_calibration_error(served[key].numpy(), labels.astype(np.int64))
            for name, key in (
                (names.NETWORK_A, "network_a_probabilities"),
                (names.NETWORK_B, "network_b_probabilities"),
                (names.COMBINED, names.PROBABILITIES),
            )
        }
    result["baseline"] = keras_baseline(output, row.label)
    return result


def report_config(output_dir: str) -> dict:
    """The run's resolved configuration, as the RunReport recorded it."""
    with open(
        os.path.join(newest_artifact(output_dir, "RunReport", "report"), "report.json")
    ) as handle:
        return json.load(handle)["config"]


def keras_baseline(output_dir: str, label: str) -> Dict[str, float]:
    """A plain Keras MLP (the Trainer's network A architecture and steps, linear/softmax head,
    `model.fit`) on Transform's materialized train split, evaluated on its eval split."""
    import tensorflow as tf
    import tensorflow_transform as tft
    import tf_keras as keras

    from twinnorm.modules import modes
    from twinnorm.modules.calibration import expected_calibration_error, softmax
    from twinnorm.modules.data import transformed_dataset
    from twinnorm.modules.hparams import TrainerConfig
    from twinnorm.modules.layout import feature_layout
    from twinnorm.modules.networks import FeatureEncoder

    run_config = report_config(output_dir)
    trainer = TrainerConfig.from_dict(run_config["trainer"])
    output = tft.TFTransformOutput(newest_artifact(output_dir, "Transform", "transform_graph"))
    layout = feature_layout(output, run_config["features"], label, trainer.task)
    spec = trainer.for_layout(layout.task, layout.width, layout.n_outputs).network_a
    examples = newest_artifact(output_dir, "Transform", "transformed_examples")

    def data(split: str, training: bool) -> tf.data.Dataset:
        return transformed_dataset(
            [os.path.join(examples, f"Split-{split}", "*")],
            output,
            label,
            trainer.batch_size,
            trainer.seed,
            trainer.shuffle_buffer,
            training,
            2**26,
        )

    keras.utils.set_random_seed(trainer.seed)
    regression = layout.task == modes.REGRESSION
    inputs = {k: keras.Input(shape=(), dtype=tf.float32, name=k) for k in layout.numeric}
    inputs.update({k: keras.Input(shape=(), dtype=tf.int64, name=k) for k in layout.categorical})
    hidden = FeatureEncoder(layout.numeric, layout.categorical)(inputs)
    for units in spec.hidden_units:
        hidden = keras.layers.Dense(units, activation=spec.activation)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(layout.n_outputs)(hidden))
    loss = "mse" if regression else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(spec.learning_rate), loss=loss)
    model.fit(data("train", True), steps_per_epoch=trainer.train_steps, epochs=1, verbose=0)
    outputs, labels = [], []
    for features, y in data("eval", False):
        outputs.append(model(features, training=False).numpy())
        labels.append(y.numpy().reshape(-1))
    predicted, truth = np.concatenate(outputs), np.concatenate(labels)
    if regression:
        values = predicted.reshape(-1) * layout.label_scale + layout.label_mean
        target = truth * layout.label_scale + layout.label_mean
        return {
            "mean_squared_error": float(np.mean((values - target) ** 2)),
            "mean_absolute_error": float(np.mean(np.abs(values - target))),
        }
    truth = truth.astype(np.int64)
    return {
        "sparse_categorical_accuracy": float(np.mean(predicted.argmax(axis=1) == truth)),
        "ece": expected_calibration_error(softmax(predicted), truth),
    }


def table(results: List[dict]) -> str:
    lines = [
        "| dataset (mode) | metric | network A | network B | combined | plain Keras | served ECE A / B / combined |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        metric = (
            "mean_squared_error"
            if "mean_squared_error" in r["baseline"]
            else "sparse_categorical_accuracy"
        )
        cells = [
            f"{r['metrics'].get(o, {}).get(metric, float('nan')):.4g}"
            for o in ("network_a", "network_b", "combined")
        ]
        ece = " / ".join(f"{v:.3f}" for v in r.get("served_ece", {}).values()) or "-"
        lines.append(
            f"| {r['row']} ({r['mode']}) | {metric} | {' | '.join(cells)} | "
            f"{r['baseline'][metric]:.4g} | {ece} |"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="row names (default: every row)")
    parser.add_argument("--output", help="folder for the runs (default: a temporary one)")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args(argv)
    folder = args.output or tempfile.mkdtemp(prefix="task_matrix_")
    results = []
    for row in ROWS:
        if args.only and row.name not in args.only:
            continue
        output = os.path.join(folder, row.name)
        seconds = run_pipeline(row, materialize(row, folder), output)
        result = measure(row, output)
        result.update(seconds=seconds, mode=report_config(output)["trainer"]["normalization"])
        results.append(result)
        print(json.dumps(result), flush=True)
    print(table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
