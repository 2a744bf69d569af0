"""The published models as TF Serving runs them: every model, every signature, through a TF1
session in a process that imports only TensorFlow; plus training/serving skew and models.config."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components.pusher import versions
from modules import names
from modules.calibration import served_map, softmax
from modules.export import raw_input_dtype
from modules.layout import feature_layout
from modules.networks import TwinModel
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve
from tests.tf1_subprocess import run_tf1_session

pytestmark = pytest.mark.slow


def version_dir(run, model: str) -> str:
    return os.path.join(
        run.serving_root, model, str(versions(os.path.join(run.serving_root, model))[-1])
    )


def raw_columns(examples, spec) -> dict:
    """Dense columns for serving_raw from serialized examples: NaN / "" where a value is missing,
    integer columns that may be missing as float64 (serving_raw's own dtype for them)."""
    parsed = tf.io.parse_example(
        examples, {k: tf.io.VarLenFeature(v.dtype) for k, v in spec.items()}
    )
    columns = {}
    for key, value in parsed.items():
        dtype = raw_input_dtype(spec[key])
        value = tf.sparse.reset_shape(
            tf.cast(value, dtype) if dtype != value.dtype else value, [len(examples), 1]
        )
        default = "" if dtype == tf.string else np.nan if dtype.is_floating else -1
        columns[key] = tf.sparse.to_dense(value, default_value=default).numpy()[:, 0]
    return columns


@pytest.fixture(scope="module")
def served(penguin_run):
    transform_dir = penguin_run.artifact_dir("Transform", "transform_graph")
    output = tft.TFTransformOutput(transform_dir)
    spec = {k: v for k, v in output.raw_feature_spec().items() if k != "species"}
    examples = penguin_run.eval_examples()
    return {
        "examples": examples,
        "columns": raw_columns(examples, spec),
        "spec": spec,
        "vocabulary": [
            v.decode() for v in output.vocabulary_by_name(names.vocabulary_name("species"))
        ],
    }


def calibration(run) -> dict:
    with open(
        os.path.join(run.artifact_dir("Trainer", "model_run"), names.CALIBRATION_FILE)
    ) as handle:
        return json.load(handle)


def test_classification_signature_has_the_method_tf_serving_classify_requires(penguin_run):
    from tensorflow.core.protobuf import saved_model_pb2

    for model in names.SERVED_MODELS:
        with open(os.path.join(version_dir(penguin_run, model), "saved_model.pb"), "rb") as handle:
            signature = (
                saved_model_pb2.SavedModel.FromString(handle.read()).meta_graphs[0].signature_def
            )
        classify = signature[names.CLASSIFICATION]
        assert classify.method_name == names.CLASSIFY_METHOD
        assert set(classify.inputs) == {names.CLASSIFY_INPUTS}
        assert set(classify.outputs) == {names.CLASSIFY_CLASSES, names.CLASSIFY_SCORES}
        assert signature[names.SERVING_DEFAULT].method_name == "tensorflow/serving/predict"


def test_models_config_lists_every_model_with_integer_versions(penguin_run):
    with open(os.path.join(penguin_run.serving_root, "models.config")) as handle:
        config = text_format.Parse(handle.read(), model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert set(entries) == {names.served_model_name("twinnorm", m) for m in names.SERVED_MODELS}
    for entry in entries.values():
        assert entry.model_platform == "tensorflow" and os.path.isabs(entry.base_path)
        found = os.listdir(entry.base_path)
        assert found and all(v.isdigit() for v in found), found
        assert all(
            os.path.isfile(os.path.join(entry.base_path, v, "saved_model.pb")) for v in found
        )


@pytest.mark.parametrize("model", names.SERVED_MODELS)
def test_every_signature_runs_in_a_tf1_session_with_the_normalization_invariants(
    penguin_run, served, model, tmp_path
):
    folder = version_dir(penguin_run, model)
    n = len(served["examples"])
    out = run_tf1_session(
        folder, names.SERVING_DEFAULT, {"examples": served["examples"]}, str(tmp_path)
    )
    networks = names.NETWORKS if model == names.COMBINED else (model,)
    for network in networks:
        raw, scores = out[f"{network}_raw"], out[f"{network}_scores"]
        assert raw.shape == scores.shape == (n, 3)
        assert np.isfinite(raw).all() and np.isfinite(scores).all()
        # Each member's row is range-normalized exactly (tests/test_mlp.py; one member against
        # this reference in test_export.py); a network serves its members' mean, in [0, 1].
        assert scores.min() >= 0 and scores.max() <= 1 + 1e-6
        assert (scores.max(axis=1) > scores.min(axis=1)).all()
        fitted = calibration(penguin_run)[network]
        np.testing.assert_allclose(
            out[f"{network}_probabilities"], softmax(scores, *served_map(fitted)), atol=1e-5
        )
    assert set(p.decode() for p in out[names.PREDICTED_LABEL]) <= set(served["vocabulary"])
    np.testing.assert_array_equal(out[names.CLASS_IDS], out[names.PROBABILITIES].argmax(axis=1))

    raw_inputs = {
        k: (list(v) if served["spec"][k].dtype == tf.string else v)
        for k, v in served["columns"].items()
    }
    raw_out = run_tf1_session(folder, names.SERVING_RAW, raw_inputs, str(tmp_path))
    for key, value in raw_out.items():  # every row, those with missing values included
        if value.dtype.kind == "f":
            np.testing.assert_allclose(value, out[key], atol=1e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(value, out[key], err_msg=key)

    classified = run_tf1_session(
        folder, names.CLASSIFICATION, {names.CLASSIFY_INPUTS: served["examples"]}, str(tmp_path)
    )
    np.testing.assert_allclose(
        classified[names.CLASSIFY_SCORES], out[names.PROBABILITIES], atol=1e-6
    )
    assert classified[names.CLASSIFY_CLASSES].shape == (n, 3)

    transformed = run_tf1_session(
        folder, names.TRANSFORM_FEATURES, {"examples": served["examples"]}, str(tmp_path)
    )
    assert set(served["spec"]) <= set(transformed) and transformed["species"].min() >= 0


def test_serving_equals_what_the_trainer_computes_to_1e_5(penguin_run, served, tmp_path):
    """Trainer side: the trained model (from its checkpoint) on Transform's materialized eval
    examples. Serving side: the published model on the raw eval rows, through a TF1 session."""
    transform_dir = penguin_run.artifact_dir("Transform", "transform_graph")
    output = tft.TFTransformOutput(transform_dir)
    config = resolve(PipelineConfig())
    model = TwinModel(
        feature_layout(output, config.feature_specs, "species", "classification"),
        resolve(PipelineConfig()).trainer,
    )
    model(model.example_inputs())
    checkpoints = os.path.join(penguin_run.artifact_dir("Trainer", "model_run"), "checkpoints")
    tf.train.Checkpoint(model=model).restore(
        tf.train.latest_checkpoint(checkpoints)
    ).expect_partial()

    files = tf.io.gfile.glob(
        os.path.join(
            penguin_run.artifact_dir("Transform", "transformed_examples"), "Split-eval", "*"
        )
    )
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    materialized = tf.io.parse_example(records, output.transformed_feature_spec())
    materialized = {k: v.numpy() for k, v in materialized.items()}
    # every transformed feature the networks read: the columns and their parts (numeric bins)
    trainer_side = model({k: materialized[k] for k in model.example_inputs()}, training=False)

    serving_side = run_tf1_session(
        version_dir(penguin_run, names.COMBINED),
        names.SERVING_DEFAULT,
        {"examples": served["examples"]},
        str(tmp_path),
    )
    serving_transformed = run_tf1_session(
        version_dir(penguin_run, names.COMBINED),
        names.TRANSFORM_FEATURES,
        {"examples": served["examples"]},
        str(tmp_path),
    )
    keys = sorted(materialized)
    rows = len(records)
    beam = np.concatenate(
        [materialized[k].astype(np.float64).reshape(rows, -1) for k in keys], axis=1
    )
    graph = np.concatenate(
        [serving_transformed[k].astype(np.float64).reshape(rows, -1) for k in keys], axis=1
    )
    assert len(beam) == len(graph)
    for row, values in enumerate(graph):  # pair each raw row with its materialized twin
        distance = np.abs(beam - values).max(axis=1)
        match = int(distance.argmin())
        assert distance[match] <= 1e-5, f"Transform skew on eval row {row}: {distance[match]}"
        for key in (
            "network_a_raw",
            "network_b_raw",
            "network_a_scores",
            "network_b_scores",
            "probabilities",
        ):
            np.testing.assert_allclose(
                serving_side[key][row],
                trainer_side[key].numpy()[match],
                atol=1e-5,
                rtol=0,
                err_msg=f"{key}, eval row {row}",
            )
