"""Every task x every mode the table allows x every signature, on exported SavedModels.

Generated rows with the edge cases users bring (missing numbers, integers and categories, a
column empty in every row, a constant column, magnitudes near 1e30) go through the real
preprocessing_fn (tft_beam), the real training job (train, calibrate, export) and the exported
SavedModels run in a TF1 session. Checked per model and signature: served outputs equal the
trained model's on the same rows to 1e-5, serving_raw equals serving_default on every row
(missing values included), probabilities are probabilities, regression values are in the
label's units, and each mode's invariant holds between `*_raw` and `*_scores`.
"""

import dataclasses
import glob
import json
import os
from typing import Optional

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from modules import modes, names
from modules.calibration import served_map, softmax
from modules.columns import (
    BOOLEAN,
    CATEGORICAL,
    DATE,
    EMBEDDING,
    NUMERIC,
    ONE_HOT,
    TEXT,
    ColumnSpec,
    internal_key,
)
from modules.export import raw_input_dtype
from modules.hparams import TrainerConfig
from modules.job import TrainJob, train_and_export_here
from modules.layout import feature_layout
from modules.networks import TwinModel
from tests import tf1_session
from tests.transform_fixture import serialize, write_transform_output

pytestmark = pytest.mark.slow

ROWS, TRAIN_ROWS = 120, 80
# Every column kind, under headers a spreadsheet writes (spaces, brackets, accents, a "?").
SPECS = (
    ColumnSpec("X value (mm)", NUMERIC),
    ColumnSpec("big", NUMERIC),
    ColumnSpec("count", NUMERIC),
    ColumnSpec("Farbe", CATEGORICAL, encoding=ONE_HOT),
    ColumnSpec("empty", NUMERIC),
    ColumnSpec("constant", NUMERIC),
    ColumnSpec("Zip Code", CATEGORICAL, encoding=EMBEDDING),
    ColumnSpec("Notes", TEXT),
    ColumnSpec("Signed up", DATE, times=True),
    ColumnSpec("member?", BOOLEAN, true_value="yes"),
)
FEATURES = tuple(spec.name for spec in SPECS)
COLUMN_DICTS = [spec.to_dict() for spec in SPECS]
FEATURE_SPEC = {
    "X value (mm)": tf.io.VarLenFeature(tf.float32),
    "big": tf.io.VarLenFeature(tf.float32),
    "count": tf.io.VarLenFeature(tf.int64),
    "Farbe": tf.io.VarLenFeature(tf.string),
    "empty": tf.io.VarLenFeature(tf.float32),
    "constant": tf.io.VarLenFeature(tf.float32),
    "Zip Code": tf.io.VarLenFeature(tf.string),
    "Notes": tf.io.VarLenFeature(tf.string),
    "Signed up": tf.io.VarLenFeature(tf.string),
    "member?": tf.io.VarLenFeature(tf.string),
}
WORDS = ("great", "value", "late", "delivery", "friendly", "staff", "never", "again")
TASKS = {  # name -> (label columns, task, outputs per network)
    "binary": (("answer",), modes.CLASSIFICATION, 2),
    "multiclass": (("kind",), modes.CLASSIFICATION, 3),
    "regression": (("amount",), modes.REGRESSION, 1),
    "multitarget": (("amount", "weight", "height"), modes.REGRESSION, 3),
    # Labels far from 0: a float around 1e8 and an integer around 1e12 (INT_LABELS).
    "huge": (("total", "tally"), modes.REGRESSION, 2),
}
INT_LABELS = ("tally",)
CASES = [(task, mode) for task, (_, kind, n) in TASKS.items() for mode in modes.modes_for(kind, n)]
# Cases trained with one member per network (the rest take the default ensemble), so the
# matrix serves both paths and checks the modes' exact invariants on one member.
ONE_MEMBER = (("multiclass", "range"), ("binary", "shared"), ("regression", "population"))


def label_spec(task: str) -> dict:
    columns, kind, _ = TASKS[task]
    dtype = tf.string if kind == modes.CLASSIFICATION else tf.float32
    return {
        column: tf.io.FixedLenFeature([], tf.int64 if column in INT_LABELS else dtype)
        for column in columns
    }


def generated_rows(seed: int = 0) -> list:
    """Raw rows as TFT instance dicts: lists for the optional features, a value for each label."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(ROWS):
        x, count, colour = rng.normal(), int(rng.integers(0, 50)), ["red", "green", "blue"][i % 3]
        signal = x + (count - 25) / 15 + (colour == "red")
        words = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), int(rng.integers(1, 6))))
        stamp = f"2016-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:30:00"
        rows.append(
            {
                "X value (mm)": [] if i % 7 == 3 else [x],
                "big": [float(rng.normal() * 1e30)],
                "count": [] if i % 5 == 2 else [count],
                "Farbe": [] if i % 6 == 4 else [colour.encode()],
                "empty": [],
                "constant": [3.0],
                "Zip Code": [] if i % 9 == 1 else [f"Z{i % 37:05d}".encode()],
                "Notes": [] if i % 8 == 5 else [f"{words.title()}!".encode()],
                "Signed up": [b"not a date"]
                if i % 11 == 0
                else [stamp[: 10 + 9 * (i % 2)].encode()],
                "member?": [] if i % 10 == 7 else [[b"Yes", b"no"][i % 2]],
                "answer": b"yes" if signal > 0.3 else b"no",
                "kind": b"a" if signal < -0.4 else b"b" if signal < 0.9 else b"c",
                "amount": float(1000 + 300 * signal + rng.normal() * 20),
                "weight": float(-4 + 0.2 * x - 0.05 * count + rng.normal() * 0.05),
                "height": float(2e6 * (colour == "red") + 1e5 * x + rng.normal() * 1e4),
                "total": float(1e8 + 400 * signal + rng.normal() * 40),
                "tally": int(10**12 + 10**6 * signal + int(rng.integers(0, 10**4))),
            }
        )
    return rows


@pytest.fixture(scope="module")
def transformed(tmp_path_factory) -> dict:
    """task -> (Transform output folder, train file, eval file, raw eval examples) for one set of rows."""
    rows, result = generated_rows(), {}
    for task, (columns, kind, _) in TASKS.items():
        folder = str(tmp_path_factory.mktemp(task))
        spec = {**FEATURE_SPEC, **label_spec(task)}
        raw = [{k: row[k] for k in spec} for row in rows]
        config = {
            names.CONFIG_FEATURES: COLUMN_DICTS,
            names.CONFIG_LABEL: names.label_key(columns),
            names.CONFIG_LABEL_COLUMNS: list(columns),
            names.CONFIG_TASK: kind,
        }
        write_transform_output(
            folder, {"train": raw[:TRAIN_ROWS], "eval": raw[TRAIN_ROWS:]}, spec, config
        )
        files = {
            split: glob.glob(os.path.join(folder, "transformed_examples", f"Split-{split}", "*"))[0]
            for split in ("train", "eval")
        }
        result[task] = (
            os.path.join(folder, "transform_graph"),
            files["train"],
            files["eval"],
            serialize(raw[TRAIN_ROWS:], spec),
            raw[TRAIN_ROWS:],
        )
    return result


@pytest.fixture(scope="module")
def trained(transformed, tmp_path_factory) -> dict:
    """(task, mode) -> the job's folders, its resolved config and layout, after a short real training."""
    result = {}
    for task, mode in CASES:
        columns, kind, _ = TASKS[task]
        label = names.label_key(columns)
        folder, train_file, eval_file, _, _ = transformed[task]
        layout = feature_layout(tft.TFTransformOutput(folder), SPECS, label, kind, columns)
        config = TrainerConfig(
            normalization=mode,
            members=1 if (task, mode) in ONE_MEMBER else TrainerConfig.members,
            batch_size=16,
            train_steps=120,
            log_every=60,
            checkpoint_every=120,
            validation_steps=5,
        ).resolved(kind, layout.n_outputs)
        out = str(tmp_path_factory.mktemp(f"{task}-{mode}"))
        job = TrainJob(
            transform_output=folder,
            train_files=[train_file],
            validation_files=[eval_file],
            serving_model_dir=os.path.join(out, "model", "Format-Serving"),
            model_run_dir=os.path.join(out, "run"),
            label_key=label,
            columns=COLUMN_DICTS,
            trainer=config,
            label_columns=list(columns),
        )
        train_and_export_here(job)
        result[(task, mode)] = (job, config, layout)
    return result


def trainer_outputs(
    job: TrainJob, config: TrainerConfig, layout, eval_file: str, ids: Optional[dict] = None
) -> dict:
    """The trained model, restored from its last checkpoint, on Transform's output of the eval
    rows; `ids` (input key -> id) sets those inputs of every row to one id."""
    model = TwinModel(layout, config)
    model(model.example_inputs())
    checkpoint = tf.train.latest_checkpoint(os.path.join(job.model_run_dir, "checkpoints"))
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    spec = tft.TFTransformOutput(job.transform_output).transformed_feature_spec()
    records = [r.numpy() for r in tf.data.TFRecordDataset([eval_file], "GZIP")]
    features = tf.io.parse_example(records, spec)
    for key, value in (ids or {}).items():
        features[key] = tf.fill(tf.shape(features[key]), tf.constant(value, tf.int64))
    return {k: v.numpy() for k, v in model(features, training=False).items()}


def raw_columns(rows: list, spec: dict) -> dict:
    """serving_raw's inputs: one dense column per feature, NaN / "" where a value is missing."""
    columns = {}
    for key, feature_spec in spec.items():
        dtype = raw_input_dtype(feature_spec)
        missing = b"" if dtype == tf.string else np.nan
        values = [row[key][0] if row[key] else missing for row in rows]
        columns[internal_key(key)] = np.array(
            values, dtype=object if dtype == tf.string else dtype.as_numpy_dtype
        )
    return columns


def assert_skew_free(served: np.ndarray, trained: np.ndarray, what: str, layout) -> None:
    """1e-5 apart; values in the label's units are compared in units of each target's standard
    deviation (a float32 step at 2e6 is already 0.25)."""
    if what.endswith(names.VALUES):
        scale = np.array(layout.label_scale)
        served, trained = served / scale, trained / scale
    np.testing.assert_allclose(served, trained, atol=1e-5, rtol=0, err_msg=what)


def model_dirs(job: TrainJob) -> dict:
    return {
        names.COMBINED: job.serving_model_dir,
        **{n: os.path.join(job.networks_dir, n) for n in names.NETWORKS},
    }


@pytest.mark.parametrize("task, mode", CASES)
def test_every_model_and_signature_serves_what_the_trainer_computes(
    trained, transformed, task, mode
):
    job, config, layout = trained[(task, mode)]
    _, _, eval_file, examples, rows = transformed[task]
    expected = trainer_outputs(job, config, layout, eval_file)
    kind = TASKS[task][1]
    for model, folder in model_dirs(job).items():
        served = tf1_session.run(
            folder, names.SERVING_DEFAULT, {names.EXAMPLES_INPUT: np.array(examples, object)}
        )
        networks = names.NETWORKS if model == names.COMBINED else (model,)
        for network in networks:
            for key in served:
                if key.startswith(network):
                    assert_skew_free(served[key], expected[key], f"{model} {key}", layout)
        prediction = names.PROBABILITIES if kind == modes.CLASSIFICATION else names.VALUES
        source = prediction if model == names.COMBINED else names.output_key(model, prediction)
        assert_skew_free(served[prediction], expected[source], f"{model} {prediction}", layout)
        for value in served.values():
            assert value.dtype == object or np.isfinite(value).all(), model

        raw = tf1_session.run(folder, names.SERVING_RAW, raw_columns(rows, FEATURE_SPEC))
        assert set(raw) == set(served)
        for key, value in raw.items():  # every row, missing values included
            if value.dtype == object:
                np.testing.assert_array_equal(value, served[key], err_msg=key)
            else:
                np.testing.assert_allclose(
                    value, served[key], atol=1e-6, rtol=0, err_msg=f"{model} serving_raw {key}"
                )

        if kind == modes.CLASSIFICATION:
            classified = tf1_session.run(
                folder, names.CLASSIFICATION, {names.CLASSIFY_INPUTS: np.array(examples, object)}
            )
            np.testing.assert_allclose(
                classified[names.CLASSIFY_SCORES], served[names.PROBABILITIES], atol=1e-6
            )
            np.testing.assert_allclose(served[names.PROBABILITIES].sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("task, mode", CASES)
def test_each_mode_keeps_its_invariant_between_raw_and_scores(trained, transformed, task, mode):
    job, config, _ = trained[(task, mode)]
    examples = np.array(transformed[task][3], object)
    served = tf1_session.run(
        job.serving_model_dir, names.SERVING_DEFAULT, {names.EXAMPLES_INPUT: examples}
    )
    scores = {
        n: served[names.output_key(n, names.SCORES)].astype(np.float64) for n in names.NETWORKS
    }
    # Each member's scores keep the mode's invariant exactly (tests/test_mlp.py); a network
    # serves its members' mean, which keeps what averaging keeps.
    if mode == "range":
        for value in scores.values():
            assert value.min() >= 0 and value.max() <= 1
            if config.members == 1:
                np.testing.assert_allclose(value.min(axis=1), 0, atol=1e-6)
                np.testing.assert_allclose(value.max(axis=1), 1, atol=1e-5)
    elif mode in ("standardize", "shared"):
        # Each row (of both networks together, for shared) has mean 0 and variance
        # v / (v + eps), v the raw row's variance: 1 but for rows whose raw spread is near eps.
        # A mean of members' rows spreads no wider than they do.
        raw = {n: served[names.output_key(n, names.RAW)].astype(np.float64) for n in names.NETWORKS}
        rows = (
            [(np.concatenate(list(scores.values()), 1), np.concatenate(list(raw.values()), 1))]
            if mode == "shared"
            else [(scores[n], raw[n]) for n in names.NETWORKS]
        )
        for value, before in rows:
            np.testing.assert_allclose(value.mean(axis=1), 0, atol=1e-5)
            v = before.var(axis=1)
            if config.members == 1:
                np.testing.assert_allclose(value.var(axis=1), v / (v + config.epsilon), atol=1e-4)
            else:
                assert value.var(axis=1).max() <= 1 + 1e-5
    else:  # population: frozen statistics, so a row alone gets what it gets inside any batch
        for row in (0, 5, 17):
            alone = tf1_session.run(
                job.serving_model_dir,
                names.SERVING_DEFAULT,
                {names.EXAMPLES_INPUT: examples[row : row + 1]},
            )
            for network in names.NETWORKS:
                key = names.output_key(network, names.SCORES)
                np.testing.assert_allclose(alone[key][0], served[key][row], atol=1e-6)


@pytest.mark.parametrize("task, mode", CASES)
def test_predictions_are_probabilities_or_values_in_the_label_units(
    trained, transformed, task, mode
):
    job, _, layout = trained[(task, mode)]
    columns, kind, _ = TASKS[task]
    label = names.label_key(columns)
    examples, rows = np.array(transformed[task][3], object), transformed[task][4]
    served = tf1_session.run(
        job.serving_model_dir, names.SERVING_DEFAULT, {names.EXAMPLES_INPUT: examples}
    )
    truth = tf1_session.run(
        job.serving_model_dir, names.TRANSFORM_FEATURES, {names.EXAMPLES_INPUT: examples}
    )[label]
    if kind == modes.REGRESSION:
        truth = truth.reshape(len(rows), -1)
        raw = np.array(
            [[row[c] for c in columns] for row in rows]
        )  # the Evaluator's label, in units
        # The Evaluator's label is the raw one to 1e-6 of a standard deviation, or to float32's
        # resolution relative to the value where that is coarser (a label around 1e8 or 1e12).
        resolution = 1e-6 * np.array(layout.label_scale) + 2**-23 * np.abs(raw)
        np.testing.assert_array_less(np.abs(truth - raw), resolution)
        values = served[names.VALUES]
        assert values.shape == truth.shape
        for j, column in enumerate(
            columns
        ):  # each target in its own units, not on the standardized scale
            error = np.mean((values[:, j] - truth[:, j]) ** 2)
            assert error < 0.5 * np.var(truth[:, j]), (column, error, np.var(truth[:, j]))
            assert abs(values[:, j].mean() - truth[:, j].mean()) < 0.5 * truth[:, j].std(), column
    else:
        accuracy = np.mean(served[names.PROBABILITIES].argmax(axis=1) == truth)
        assert accuracy >= 0.7, accuracy
        with open(os.path.join(job.model_run_dir, names.CALIBRATION_FILE)) as handle:
            record = json.load(handle)
        assert set(record) == {*names.NETWORKS, names.COMBINED}
        for name, key in (
            (names.NETWORK_A, "network_a_probabilities"),
            (names.NETWORK_B, "network_b_probabilities"),
            (names.COMBINED, names.PROBABILITIES),
        ):
            scores = served[
                names.SCORES if name == names.COMBINED else names.output_key(name, names.SCORES)
            ]
            # The served probabilities are softmax((scores @ W) / T + b) with the fitted map,
            # not softmax(scores), and the map was fitted on the validation rows.
            fitted = record[name]
            np.testing.assert_allclose(served[key], softmax(scores, *served_map(fitted)), atol=1e-5)
            assert fitted["examples"] == ROWS - TRAIN_ROWS


@pytest.mark.parametrize("task, mode", CASES)
def test_every_model_explains_its_prediction_with_one_attribution_per_column(
    trained, transformed, task, mode
):
    """`explain` in a TF1 session: one attribution per raw column under the user's name (numbers,
    a one-hot and an embedded category, text, a date with times, a boolean), summing to prediction
    - baseline_prediction (completeness: within 2 % + 2e-3, in standard deviations of the label
    for regression), and `prediction` is what serving_default serves for the same rows."""
    job, _, layout = trained[(task, mode)]
    examples = {names.EXAMPLES_INPUT: np.array(transformed[task][3], object)}
    for model, folder in model_dirs(job).items():
        explained = tf1_session.run(folder, names.EXPLAIN, examples)
        served = tf1_session.run(folder, names.SERVING_DEFAULT, examples)
        assert [c.decode() for c in explained[names.ATTRIBUTED_COLUMNS]] == list(FEATURES)
        attributions = explained[names.ATTRIBUTIONS]
        assert attributions.shape == (len(examples[names.EXAMPLES_INPUT]), len(FEATURES))
        assert np.isfinite(attributions).all(), model
        prediction = explained[names.PREDICTION].astype(np.float64)
        difference = prediction - explained[names.BASELINE_PREDICTION]
        if TASKS[task][1] == modes.CLASSIFICATION:
            unit, expected = 1.0, served[names.PROBABILITIES].max(axis=1)
            tolerance = 1e-5
        else:  # float64 in the label's units; the served float32 value is as close as it can be
            unit, expected = layout.label_scale[0], served[names.VALUES][:, 0].astype(np.float64)
            tolerance = 1e-5 * unit + np.spacing(np.abs(expected).astype(np.float32))
        np.testing.assert_array_less(np.abs(prediction - expected), tolerance, err_msg=model)
        gap = np.abs(attributions.sum(axis=1) - difference)
        np.testing.assert_array_less(gap, 0.02 * np.abs(difference) + 2e-3 * unit, err_msg=model)
        assert np.abs(difference).max() > 1e-3 * unit, model  # something to explain


def test_an_eval_label_unseen_in_training_is_refused_not_folded_into_a_class(transformed, tmp_path):
    """The Evaluator's split, laid out beside train and validation as Transform writes them."""
    from modules.calibration import UnseenLabelError

    folder, train_file, _, _, _ = transformed["multiclass"]
    records = [r.numpy() for r in tf.data.TFRecordDataset([train_file], "GZIP")]
    for split in names.SPLITS:
        os.makedirs(tmp_path / "examples" / f"Split-{split}")
        with tf.io.TFRecordWriter(
            str(tmp_path / "examples" / f"Split-{split}" / "data.gz"), "GZIP"
        ) as writer:
            for i, record in enumerate(records[:8] if split == names.EVAL_SPLIT else records):
                example = tf.train.Example.FromString(record)
                if split == names.EVAL_SPLIT and i == 3:  # Transform's id for an unseen value
                    example.features.feature["kind"].int64_list.value[:] = [-1]
                writer.write(example.SerializeToString())
    config = dataclasses.replace(
        TrainerConfig(normalization="range", train_steps=2, batch_size=4), task=modes.CLASSIFICATION
    )
    job = TrainJob(
        transform_output=folder,
        train_files=[str(tmp_path / "examples" / "Split-train" / "*")],
        validation_files=[str(tmp_path / "examples" / "Split-validation" / "*")],
        serving_model_dir=str(tmp_path / "model"),
        model_run_dir=str(tmp_path / "run"),
        label_key="kind",
        columns=COLUMN_DICTS,
        trainer=config,
    )
    with pytest.raises(UnseenLabelError, match="^1 eval example"):
        train_and_export_here(job)
    assert not os.path.exists(job.serving_model_dir)


def test_a_column_left_out_of_the_features_is_not_asked_of_a_client(tiny_penguins):
    """`--features` without `year`: the served model parses examples that lack it (an id or a
    second label a user left out) and returns what the model computes from the other columns."""
    from modules.export import ServingModule

    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    config = tiny_penguins.config
    specs = [spec for spec in config.feature_specs if spec.name != "year"]
    features = [spec.name for spec in specs]
    layout = feature_layout(output, specs, config.label, modes.CLASSIFICATION)
    model = TwinModel(layout, TrainerConfig().for_layout(modes.CLASSIFICATION, layout.width, 3))
    module = ServingModule(model, output, config.label, [config.label])
    assert sorted(module.feature_spec) == sorted(features)
    rows = [{k: v for k, v in row.items() if k != "year"} for row in tiny_penguins.splits["eval"]]
    spec = {k: v for k, v in tiny_penguins.spec.items() if k != "year"}
    served = module.serve_examples(tf.constant(serialize(rows, spec)))
    transformed = output.transform_raw_features(
        tf.io.parse_example(tf.constant(tiny_penguins.raw_examples("eval")), tiny_penguins.spec)
    )
    expected = model(transformed, training=False)
    np.testing.assert_allclose(
        served[names.PROBABILITIES], expected[names.PROBABILITIES], atol=1e-6
    )


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_a_never_seen_category_is_served_as_the_trained_oov_bucket_predicts(
    trained, transformed, task
):
    """Values no row ever had, in a one-hot and an embedded column: served through serving_raw,
    they give what the trained model gives for the OOV bucket's id, finite (no skew, 1e-5)."""
    job, config, layout = next(v for (t, _), v in trained.items() if t == task)
    _, _, eval_file, _, rows = transformed[task]
    unseen = [{**row, "Farbe": [b"purple"], "Zip Code": [b"Q-never"]} for row in rows]
    buckets = layout.category_buckets
    keys = [internal_key("Farbe"), internal_key("Zip Code")]
    assert set(keys) <= set(buckets)
    oov = {key: buckets[key] - 1 for key in keys}  # the OOV bucket is the last one
    expected = trainer_outputs(job, config, layout, eval_file, oov)
    served = tf1_session.run(
        job.serving_model_dir, names.SERVING_RAW, raw_columns(unseen, FEATURE_SPEC)
    )
    kind = TASKS[task][1]
    prediction = names.PROBABILITIES if kind == modes.CLASSIFICATION else names.VALUES
    assert np.isfinite(served[prediction]).all()
    assert_skew_free(served[prediction], expected[prediction], f"unseen {prediction}", layout)


def test_the_fingerprint_matches_the_saved_model_after_the_classify_method_is_set(trained):
    """saved_model.pb is edited after saving (TF Serving's :classify needs the method name);
    fingerprint.pb, which hashes it, is written again to match."""
    from tensorflow.core.protobuf import fingerprint_pb2
    from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

    job, _, _ = trained[("multiclass", "range")]
    for folder in model_dirs(job).values():
        with open(os.path.join(folder, "fingerprint.pb"), "rb") as handle:
            written = fingerprint_pb2.FingerprintDef.FromString(handle.read())
        fresh = fingerprint_pb2.FingerprintDef.FromString(
            fingerprinting.CreateFingerprintDef(folder)
        )
        assert written.saved_model_checksum == fresh.saved_model_checksum, folder
        assert written == fresh
