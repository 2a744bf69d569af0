"""A loopback stand-in for TF Serving's REST API: request bodies decoded as TF Serving decodes
them, run through a loaded model's signature, answered in TF Serving's formats."""

import base64
import json
from http.server import BaseHTTPRequestHandler

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from modules import names


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


def decode_rest_inputs(body: dict, signature) -> dict:
    """TF Serving's columnar format: inputs -> one tensor per input, typed by the signature."""
    inputs = signature.structured_input_signature[1]
    return {
        key: tf.constant(
            [base64.b64decode(v["b64"]) if isinstance(v, dict) else v for v in body["inputs"][key]],
            dtype=inputs[key].dtype,
        )
        for key in inputs
    }


def run_rest_body(model, body) -> dict:
    signature = model.signatures[body["signature_name"]]
    body = json.loads(json.dumps(body))  # what crosses the wire
    decode = decode_rest_inputs if "inputs" in body else decode_rest_instances
    return {k: v.numpy() for k, v in signature(**decode(body, signature)).items()}


class RestHandler(BaseHTTPRequestHandler):
    """Answers /v1/models/<name>:predict like TF Serving, by running the loaded SavedModel."""

    model = None

    def do_POST(self):  # noqa: N802 (http.server's handler name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        outputs = run_rest_body(self.model, body)
        if "inputs" in body:  # the columnar format's answer: one entry per output
            self.answer(200, {"outputs": {k: _json_value(v) for k, v in outputs.items()}})
            return
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


def _json_value(value: np.ndarray):
    return [v.decode() for v in value] if value.dtype == object else value.tolist()


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
