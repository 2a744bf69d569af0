"""Builds TF Serving requests for the twinnorm signatures and sends them.

REST `:classify` bodies list the examples as JSON objects (`classification` signature).
REST `:predict` bodies use the row ("instances") format:
- `serving_default`: each instance is `{"examples": {"b64": <serialized tf.Example>}}`;
- `serving_raw`: each instance maps the signature's input name -> value, typed by the feature
  spec (floats are sent as JSON floats such as 3.0, since TF Serving turns a JSON integer into
  int64). An input's name is its CSV column's internal key (`modules.columns.internal_key`): the
  header itself when it is a plain lower-case name, else a slug with a short hash; this client
  maps the user's own column names to them.
gRPC uses `tensorflow_serving.apis.predict_pb2.PredictRequest` with a DT_STRING `examples` tensor.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Dict, List, Mapping, Sequence

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from modules import names
from modules.columns import internal_key, keys_to_names
from serving_client.raw_examples import typed_cells


def _b64(example: bytes) -> dict:
    """A serialized tf.Example as REST's JSON carries binary strings."""
    return {"b64": base64.b64encode(example).decode("ascii")}


def rest_examples_body(examples: Sequence[bytes], signature: str = names.SERVING_DEFAULT) -> dict:
    instances = [{names.EXAMPLES_INPUT: _b64(e)} for e in examples]
    return {"signature_name": signature, "instances": instances}


def rest_explain_body(examples: Sequence[bytes]) -> dict:
    """`explain` in REST's columnar format ("inputs"): its `columns` output holds one name per
    column, not one value per example, which the row format ("instances") cannot answer."""
    return {
        "signature_name": names.EXPLAIN,
        "inputs": {names.EXAMPLES_INPUT: list(map(_b64, examples))},
    }


def rest_raw_body(rows: Sequence[Mapping[str, str]], feature_spec: Mapping[str, object]) -> dict:
    """Typed raw instances. A missing cell is sent as NaN (numbers; JSON `NaN`, which TF Serving's
    REST parser accepts) or "" (strings), so that each row gets the answer `serving_default` gives
    it; an integer column that may be missing (a VarLenFeature here) is a float64 input, so its
    values go as JSON floats. A column the model requires (a FixedLenFeature int) is refused."""
    instances = []
    for number, row in enumerate(rows, start=1):
        cells = typed_cells(row, feature_spec)
        instance = {}
        for key, spec in feature_spec.items():
            may_be_missing = isinstance(spec, tf.io.VarLenFeature)
            name = internal_key(key)
            if key in cells:
                instance[name] = (
                    float(cells[key]) if may_be_missing and spec.dtype == tf.int64 else cells[key]
                )
            elif spec.dtype == tf.string:
                instance[name] = ""
            elif spec.dtype == tf.int64 and not may_be_missing:
                raise ValueError(
                    f"row {number}: integer feature {key!r} is missing and the model requires it"
                )
            else:
                instance[name] = float("nan")
        instances.append(instance)
    return {"signature_name": names.SERVING_RAW, "instances": instances}


def rest_classify_body(
    rows: Sequence[Mapping[str, str]], feature_spec: Mapping[str, object]
) -> dict:
    """`:classify` body: one JSON object per tf.Example, a missing cell simply left out.
    TF Serving builds each tf.Example from JSON types, so floats must stay JSON floats."""
    examples = [typed_cells(row, feature_spec) for row in rows]
    return {"signature_name": names.CLASSIFICATION, "examples": examples}


def grpc_predict_request(
    model: str, examples: Sequence[bytes], signature: str = names.SERVING_DEFAULT
) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    request.inputs[names.EXAMPLES_INPUT].CopyFrom(
        tf.make_tensor_proto(list(examples), dtype=tf.string)
    )
    return request


class ServingError(RuntimeError):
    """The server could not be reached, or it refused the request; one line, with its reason."""


def _open(request, timeout: float, what: str):
    """urlopen with TF Serving's answer to a bad request (its JSON `error`) or the network's
    reason as one ServingError line."""
    url = request if isinstance(request, str) else request.full_url
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read()).get("error", "")
        except ValueError:
            reason = ""
        raise ServingError(
            f"{what}: TF Serving answered {error.code} {error.reason} at {url}"
            + (f": {' '.join(reason.split())[:500]}" if reason else "")
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ServingError(f"{what}: cannot reach TF Serving at {url} ({reason})") from None


def rest_url(host: str, port: int, model: str, verb: str = "predict") -> str:
    return f"http://{host}:{port}/v1/models/{model}:{verb}"


def send_rest(
    host: str, port: int, model: str, body: dict, timeout: float = 30.0, verb: str = "predict"
) -> dict:
    request = urllib.request.Request(
        rest_url(host, port, model, verb),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with _open(request, timeout, verb) as response:
        return json.loads(response.read())


def send_grpc(
    host: str, port: int, request: predict_pb2.PredictRequest, timeout: float = 30.0
) -> Dict[str, object]:
    """Returns output name -> NumPy array."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(f"{host}:{port}") as channel:
        try:
            response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
                request, timeout=timeout
            )
        except grpc.RpcError as error:
            details = " ".join((error.details() or "").split())[:500]
            raise ServingError(
                f"gRPC Predict at {host}:{port}: {error.code().name}: {details}"
            ) from None
    return {key: tf.make_ndarray(value) for key, value in response.outputs.items()}


def metadata_url(host: str, port: int, model: str) -> str:
    return f"http://{host}:{port}/v1/models/{model}/metadata"


def fetch_metadata(host: str, port: int, model: str, timeout: float = 30.0) -> dict:
    """TF Serving's GetModelMetadata over REST: the served version's signatures."""
    with _open(metadata_url(host, port, model), timeout, "model metadata") as response:
        return json.loads(response.read())


# serving_raw's input dtypes -> the tf.Example feature each raw column becomes. An integer column
# that may be missing is served as DT_DOUBLE (NaN = missing) but is an int64 feature.
RAW_DTYPES = {
    "DT_STRING": lambda: tf.io.FixedLenFeature([], tf.string),
    "DT_INT64": lambda: tf.io.FixedLenFeature([], tf.int64),
    "DT_FLOAT": lambda: tf.io.FixedLenFeature([], tf.float32),
    "DT_DOUBLE": lambda: tf.io.VarLenFeature(tf.int64),
}


def feature_spec_from_metadata(metadata: dict) -> dict:
    """The raw feature types, from the `serving_raw` signature in a model's metadata."""
    signatures = metadata.get("metadata", {}).get("signature_def", {}).get("signature_def", {})
    if names.SERVING_RAW not in signatures:
        raise ValueError(
            f"the served model has no {names.SERVING_RAW!r} signature "
            f"(signatures: {', '.join(sorted(signatures)) or 'none'}); is it a twinnorm model?"
        )
    inputs = signatures[names.SERVING_RAW]["inputs"]
    unknown = {k: v["dtype"] for k, v in inputs.items() if v["dtype"] not in RAW_DTYPES}
    if unknown:
        raise ValueError(f"unexpected input types in {names.SERVING_RAW}: {unknown}")
    return {key: RAW_DTYPES[value["dtype"]]() for key, value in inputs.items()}


def predictions_from_rest(response: dict) -> List[dict]:
    return response["predictions"]


def by_column_names(spec_by_key: Mapping[str, object], header: Sequence[str]) -> dict:
    """A spec keyed by serving_raw's input names (internal keys) -> keyed by the CSV's own column
    names, which the rows use; a column the model needs and the CSV lacks is refused by name."""
    names_of = keys_to_names(header)
    missing = sorted(key for key in spec_by_key if key not in names_of)
    if missing:
        raise ValueError(
            f"the CSV lacks the model's input(s) {', '.join(missing)} (serving_raw names: a "
            "column's header when it is a plain lower-case name, else a slug of it with a hash)"
        )
    return {names_of[key]: spec for key, spec in spec_by_key.items()}
