"""The client's REST JSON and gRPC PredictRequest (serving_client/requests.py), decoded as TF
Serving decodes them, drive the published signatures to the same outputs; and the send path over
loopback."""

import json
import threading
from concurrent import futures
from http.server import HTTPServer

import numpy as np
import tensorflow as tf

from modules import names
from pipeline.config import DEFAULT_DATA
from serving_client import requests
from serving_client.raw_examples import read_rows, serialize
from tests import rest_stand_in


def assert_same(outputs: dict, expected: dict):
    for key in ("network_a_scores", "network_b_scores", "probabilities", names.CLASS_IDS):
        np.testing.assert_allclose(outputs[key], expected[key], atol=1e-6, err_msg=key)


def test_rest_examples_body_gives_the_signature_outputs(served):
    body = requests.rest_examples_body(serialize(served["rows"], served["spec"]))
    assert_same(rest_stand_in.run_rest_body(served["model"], body), served["expected"])


def test_rest_raw_body_types_floats_as_json_floats_and_gives_the_same_outputs(served):
    body = requests.rest_raw_body(served["rows"], served["spec"])
    text = json.dumps(body)
    assert (
        '"bill_depth_mm": 18.0' in text or '"bill_depth_mm": 18.7' in text
    )  # a JSON float, never 18
    first = body["instances"][0]
    assert isinstance(first["bill_length_mm"], float) and isinstance(first["body_mass_g"], float)
    assert_same(rest_stand_in.run_rest_body(served["model"], body), served["expected"])


def test_rest_raw_body_sends_missing_values_and_gets_the_serving_default_answer(served):
    rows = [r for r in read_rows(DEFAULT_DATA) if not all(r.values())]
    assert any(r["body_mass_g"] == "" for r in rows) and any(r["sex"] == "" for r in rows)
    body = requests.rest_raw_body(rows, served["spec"])
    missing_mass = next(i for i, r in enumerate(rows) if r["body_mass_g"] == "")
    assert np.isnan(body["instances"][missing_mass]["body_mass_g"])
    expected = served["model"].signatures[names.SERVING_DEFAULT](
        examples=tf.constant(serialize(rows, served["spec"]))
    )
    assert_same(
        rest_stand_in.run_rest_body(served["model"], body),
        {k: v.numpy() for k, v in expected.items()},
    )


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


def test_client_sends_rest_to_a_loopback_server(served):
    rest_stand_in.RestHandler.model = served["model"]
    server = HTTPServer(("127.0.0.1", 0), rest_stand_in.RestHandler)
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


def test_explain_goes_as_columnar_rest_and_as_grpc_and_gets_the_signatures_attributions(served):
    examples = serialize(served["rows"], served["spec"])
    expected = served["model"].signatures[names.EXPLAIN](examples=tf.constant(examples))
    rest = rest_stand_in.run_rest_body(served["model"], requests.rest_explain_body(examples))
    request = requests.grpc_predict_request(names.COMBINED, examples, names.EXPLAIN)
    grpc = served["model"].signatures[request.model_spec.signature_name](
        examples=tf.constant(tf.make_ndarray(request.inputs[names.EXAMPLES_INPUT]))
    )
    for outputs in (rest, {k: v.numpy() for k, v in grpc.items()}):
        np.testing.assert_allclose(
            outputs[names.ATTRIBUTIONS], expected[names.ATTRIBUTIONS].numpy(), atol=1e-6
        )
    columns = [c.decode() for c in rest[names.ATTRIBUTED_COLUMNS]]
    assert len(columns) == len(served["spec"]) and set(columns) <= set(served["rows"][0])
    assert rest[names.ATTRIBUTIONS].shape == (len(examples), len(columns))


def test_client_explain_prints_attributions_from_a_loopback_server(served, capsys, tmp_path):
    from serving_client.__main__ import main

    rest_stand_in.RestHandler.model = served["model"]
    server = HTTPServer(("127.0.0.1", 0), rest_stand_in.RestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code = main(
            ["--csv", DEFAULT_DATA, "--model", "twinnorm_combined", "--host", "127.0.0.1"]
            + ["--port", str(server.server_port), "--explain"]
        )
    finally:
        server.shutdown()
    assert code == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    rows = len(read_rows(DEFAULT_DATA))
    assert np.array(outputs[names.ATTRIBUTIONS]).shape == (
        rows,
        len(outputs[names.ATTRIBUTED_COLUMNS]),
    )
