"""The client's REST JSON and gRPC PredictRequest, decoded as TF Serving decodes them, drive the
published signatures to the same outputs; and the client's own send path over loopback."""

import base64
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from modules import names
from pipeline.config import DEFAULT_DATA, REPO_ROOT
from serving_client import __main__ as client
from serving_client import requests
from serving_client.__main__ import feature_spec_of
from serving_client.raw_examples import read_rows, serialize

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(penguin_run):
    model_dir = penguin_run.first_summary.pushed_to
    rows = [r for r in read_rows(DEFAULT_DATA) if all(r.values())][:12]
    spec = feature_spec_of(model_dir)
    model = tf.saved_model.load(model_dir)
    expected = model.signatures[names.SERVING_DEFAULT](examples=tf.constant(serialize(rows, spec)))
    return {
        "model": model,
        "rows": rows,
        "spec": spec,
        "expected": {k: v.numpy() for k, v in expected.items()},
    }


def decode_rest_instances(body: dict, signature) -> dict:
    """TF Serving's row format: instances -> one tensor per input, typed by the signature."""
    inputs = signature.structured_input_signature[1]
    columns = {key: [] for key in inputs}
    for instance in body["instances"]:
        for key in inputs:
            value = instance[key]
            columns[key].append(
                base64.b64decode(value["b64"]) if isinstance(value, dict) else value
            )
    return {k: tf.constant(v, dtype=inputs[k].dtype) for k, v in columns.items()}


def run(model, body) -> dict:
    signature = model.signatures[body["signature_name"]]
    return {
        k: v.numpy()
        for k, v in signature(
            **decode_rest_instances(json.loads(json.dumps(body)), signature)
        ).items()
    }


def assert_same(outputs: dict, expected: dict):
    for key in ("network_a_scores", "network_b_scores", "probabilities", names.CLASS_IDS):
        np.testing.assert_allclose(outputs[key], expected[key], atol=1e-6, err_msg=key)


def test_rest_examples_body_gives_the_signature_outputs(served):
    body = requests.rest_examples_body(serialize(served["rows"], served["spec"]))
    assert_same(run(served["model"], body), served["expected"])


def test_rest_raw_body_types_floats_as_json_floats_and_gives_the_same_outputs(served):
    body = requests.rest_raw_body(served["rows"], served["spec"])
    text = json.dumps(body)
    assert (
        '"bill_depth_mm": 18.0' in text or '"bill_depth_mm": 18.7' in text
    )  # a JSON float, never 18
    first = body["instances"][0]
    assert isinstance(first["bill_length_mm"], float) and isinstance(first["body_mass_g"], float)
    assert_same(run(served["model"], body), served["expected"])


def test_rest_raw_body_sends_missing_values_and_gets_the_serving_default_answer(served):
    rows = [r for r in read_rows(DEFAULT_DATA) if not all(r.values())]
    assert any(r["body_mass_g"] == "" for r in rows) and any(r["sex"] == "" for r in rows)
    body = requests.rest_raw_body(rows, served["spec"])
    missing_mass = next(i for i, r in enumerate(rows) if r["body_mass_g"] == "")
    assert np.isnan(body["instances"][missing_mass]["body_mass_g"])
    expected = served["model"].signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(rows, served["spec"]))
    )
    assert_same(run(served["model"], body), {k: v.numpy() for k, v in expected.items()})


def json_to_example(features: dict) -> bytes:
    """TF Serving's :classify decoding: JSON float -> float_list, integer -> int64_list, text -> bytes."""
    feature = {}
    for key, value in features.items():
        if isinstance(value, float):
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        elif isinstance(value, int):
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_rest_classify_body_gives_classes_and_scores_even_with_missing_cells(served):
    rows = served["rows"] + [dict(served["rows"][0], sex="", bill_length_mm="")]
    body = json.loads(json.dumps(requests.rest_classify_body(rows, served["spec"])))
    assert "sex" not in body["examples"][-1]
    signature = served["model"].signatures[body["signature_name"]]
    outputs = signature(inputs=tf.constant([json_to_example(e) for e in body["examples"]]))
    scores = outputs[names.CLASSIFY_SCORES].numpy()
    np.testing.assert_allclose(scores[:-1], served["expected"]["probabilities"], atol=1e-6)
    assert np.isfinite(scores).all()
    classes = outputs[names.CLASSIFY_CLASSES].numpy()
    assert classes.shape == scores.shape and {c.decode() for c in classes[0]} == {
        "Adelie",
        "Gentoo",
        "Chinstrap",
    }


def test_grpc_request_decodes_to_the_same_outputs(served):
    request = requests.grpc_predict_request(
        names.COMBINED, serialize(served["rows"], served["spec"])
    )
    assert request.model_spec.signature_name == names.SERVING_DEFAULT
    tensor = tf.make_ndarray(request.inputs[names.EXAMPLES_INPUT])
    outputs = served["model"].signatures[names.SERVING_DEFAULT](examples=tf.constant(tensor))
    assert_same({k: v.numpy() for k, v in outputs.items()}, served["expected"])


class _RestHandler(BaseHTTPRequestHandler):
    """Answers /v1/models/<name>:predict like TF Serving, by running the loaded SavedModel."""

    model = None

    def do_POST(self):  # noqa: N802 (http.server's handler name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        outputs = run(self.model, body)
        predictions = [
            {
                k: (v[i].decode() if isinstance(v[i], bytes) else v[i].tolist())
                for k, v in outputs.items()
            }
            for i in range(len(body["instances"]))
        ]
        payload = json.dumps({"predictions": predictions}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 (http.server's handler name)
        """GET /v1/models/<name>/metadata as TF Serving answers it (signature defs as JSON)."""
        name = self.path.split("/v1/models/")[-1].split("/")[0]
        if name != names.served_model_name("twinnorm", names.COMBINED):
            self.answer(404, {"error": f"Servable not found for request: Latest({name})"})
            return
        self.answer(200, metadata_of(self.model, name))

    def answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def metadata_of(model, name: str) -> dict:
    """GetModelMetadata's REST answer: every signature's inputs with their DataType names."""

    def tensors(specs) -> dict:
        return {
            key: {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum), "name": key}
            for key, spec in specs.items()
        }

    signatures = {
        key: {
            "inputs": tensors(function.structured_input_signature[1]),
            "outputs": tensors(function.structured_outputs),
            "method_name": "tensorflow/serving/predict",
        }
        for key, function in model.signatures.items()
    }
    return {
        "model_spec": {"name": name, "signature_name": "", "version": "1"},
        "metadata": {"signature_def": {"signature_def": signatures}},
    }


@pytest.fixture
def loopback(served):
    """A loopback stand-in for TF Serving's REST API (predict and metadata) on a free port."""
    _RestHandler.model = served["model"]
    server = HTTPServer(("127.0.0.1", 0), _RestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


@pytest.mark.parametrize("mode", [[], ["--raw"]])
def test_client_reads_column_types_from_the_servers_metadata(
    served, loopback, mode, tmp_path, capsys
):
    """No local model files: the client asks GET /v1/models/NAME/metadata for serving_raw's types."""
    csv_path = tmp_path / "rows.csv"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(served["rows"][0]))
        writer.writeheader()
        writer.writerows(served["rows"])
    code = client.main(
        ["--csv", str(csv_path), "--host", "127.0.0.1", "--port", str(loopback), *mode]
    )
    assert code == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    np.testing.assert_allclose(
        [p["probabilities"] for p in predictions], served["expected"]["probabilities"], atol=1e-6
    )


def test_client_errors_are_one_line_with_a_nonzero_exit(served, loopback, capsys):
    rows = os.path.join(REPO_ROOT, "data", "unlabelled", "penguins.csv")
    code = client.main(
        ["--csv", rows, "--host", "127.0.0.1", "--port", str(loopback), "--model", "nope"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "TF Serving answered 404" in err[0], err
    assert "Servable not found for request: Latest(nope)" in err[0]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    code = client.main(["--csv", rows, "--host", "127.0.0.1", "--port", str(port)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "cannot reach TF Serving at" in err[0], err


def test_client_help_answers_without_importing_tensorflow():
    """Start-up: `--help` must not pay TensorFlow's import (seconds); -X importtime lists every
    module the interpreter imported."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "serving_client", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0 and "--csv" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("tensorflow", "tfx", "numpy")}, seconds
    print(f"twinnorm-client --help: {seconds:.2f} s")


def test_client_sends_rest_to_a_loopback_server(served):
    _RestHandler.model = served["model"]
    server = HTTPServer(("127.0.0.1", 0), _RestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = requests.rest_examples_body(serialize(served["rows"], served["spec"]))
        response = requests.send_rest(
            "127.0.0.1", server.server_port, names.COMBINED, body, timeout=60
        )
    finally:
        server.shutdown()
    predictions = requests.predictions_from_rest(response)
    np.testing.assert_allclose(
        [p["probabilities"] for p in predictions], served["expected"]["probabilities"], atol=1e-6
    )


def test_client_sends_grpc_to_a_loopback_server(served):
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (the gRPC service's method name)
            signature = served["model"].signatures[request.model_spec.signature_name]
            inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            response = predict_pb2.PredictResponse()
            for key, value in signature(**inputs).items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        request = requests.grpc_predict_request(
            names.COMBINED, serialize(served["rows"], served["spec"])
        )
        outputs = requests.send_grpc("127.0.0.1", port, request, timeout=60)
    finally:
        server.stop(0)
    assert_same(outputs, served["expected"])
