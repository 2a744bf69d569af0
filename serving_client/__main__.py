"""twinnorm-client: send CSV rows to a TF Serving model over REST or gRPC and print the outputs.

    python -m twinnorm.serving_client --csv rows.csv --schema-from SERVING_ROOT/combined/1 \
        [--model combined] [--host localhost] [--port 8501] [--raw | --grpc]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from twinnorm.serving_client import requests


def feature_spec_of(model_dir: str) -> dict:
    """The raw feature types a served model parses, read from its `serving_raw` signature."""
    import tensorflow as tf

    from twinnorm.modules import names

    signature = tf.saved_model.load(model_dir).signatures[names.SERVING_RAW]
    # serving_raw takes an integer column that may be missing as float64 (NaN = missing).
    return {
        key: tf.io.VarLenFeature(tf.int64)
        if spec.dtype == tf.float64
        else tf.io.FixedLenFeature([], spec.dtype)
        for key, spec in signature.structured_input_signature[1].items()
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="twinnorm-client", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--csv", required=True, help="CSV file with a header (a label column is ignored)"
    )
    parser.add_argument(
        "--schema-from", required=True, help="a served model version folder (types of the columns)"
    )
    parser.add_argument("--model", default="combined", help="combined, network_a or network_b")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, help="default: 8501 (REST) or 8500 (gRPC)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--raw", action="store_true", help="REST with raw feature instances (serving_raw)"
    )
    mode.add_argument("--grpc", action="store_true", help="gRPC PredictRequest of tf.Examples")
    mode.add_argument(
        "--classify", action="store_true", help="REST :classify (classification signature)"
    )
    parser.add_argument(
        "--print-request", action="store_true", help="print the request instead of sending it"
    )
    args = parser.parse_args(argv)

    from twinnorm.serving_client.raw_examples import read_rows, serialize

    rows = read_rows(args.csv)
    spec = feature_spec_of(args.schema_from)
    try:
        if args.grpc:
            request = requests.grpc_predict_request(args.model, serialize(rows, spec))
            if args.print_request:
                print(request)
                return 0
            outputs = requests.send_grpc(args.host, args.port or 8500, request)
            print(
                json.dumps(
                    {k: v.tolist() for k, v in outputs.items()}, default=lambda b: b.decode()
                )
            )
            return 0
        if args.classify:
            body = requests.rest_classify_body(rows, spec)
        elif args.raw:
            body = requests.rest_raw_body(rows, spec)
        else:
            body = requests.rest_examples_body(serialize(rows, spec))
    except ValueError as error:
        parser.exit(2, f"twinnorm-client: error: {error}\n")
    if args.print_request:
        print(json.dumps(body))
        return 0
    verb = "classify" if args.classify else "predict"
    print(json.dumps(requests.send_rest(args.host, args.port or 8501, args.model, body, verb=verb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
