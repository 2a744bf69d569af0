"""twinnorm-client: send CSV rows to a TF Serving model over REST or gRPC and print the outputs.

    twinnorm-client --csv rows.csv [--model twinnorm_combined] [--host localhost] [--port 8501]
        [--raw | --grpc | --classify] [--explain] [--schema-from SERVING_ROOT/combined/1]
        [--print-request]

The column types come from the server (`GET /v1/models/NAME/metadata`, the `serving_raw`
signature) unless `--schema-from` names a local copy of the served model. Exit codes: 0 answered,
1 the server could not be reached or refused the request, 2 a bad option or input file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Optional, Sequence

DEFAULT_MODEL = "twinnorm_combined"  # names.served_model_name("twinnorm", "combined")
REST_PORT, GRPC_PORT = 8501, 8500


def feature_spec_of(model_dir: str) -> dict:
    """The raw feature types a served model parses, read from its `serving_raw` signature, keyed
    by the signature's input names (`requests.by_column_names` maps them to the CSV's)."""
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2

    from modules import names
    from serving_client.requests import RAW_DTYPES

    signature = tf.saved_model.load(model_dir).signatures[names.SERVING_RAW]
    return {
        key: RAW_DTYPES[types_pb2.DataType.Name(spec.dtype.as_datatype_enum)]()
        for key, spec in signature.structured_input_signature[1].items()
    }


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="twinnorm-client",
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n\n", 2)[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    result.add_argument("--csv", required=True, help="CSV file with a header (a label is ignored)")
    result.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"model name in models.config: <pipeline>_combined, _network_a or _network_b "
        f"(default: {DEFAULT_MODEL})",
    )
    result.add_argument("--host", default="localhost")
    result.add_argument(
        "--port", type=int, help=f"default: {REST_PORT} (REST) or {GRPC_PORT} (gRPC)"
    )
    result.add_argument(
        "--rest-port",
        type=int,
        default=REST_PORT,
        help=f"with --grpc: the REST port the column types are read from (default: {REST_PORT})",
    )
    result.add_argument(
        "--schema-from",
        metavar="MODEL_DIR",
        help="a local copy of the served model version; default: ask the server",
    )
    mode = result.add_mutually_exclusive_group()
    mode.add_argument(
        "--raw", action="store_true", help="REST with raw feature instances (serving_raw)"
    )
    mode.add_argument("--grpc", action="store_true", help="gRPC PredictRequest of tf.Examples")
    mode.add_argument(
        "--classify", action="store_true", help="REST :classify (classification signature)"
    )
    result.add_argument(
        "--explain",
        action="store_true",
        help="per-column attributions of each prediction (explain signature; REST or --grpc)",
    )
    result.add_argument(
        "--print-request", action="store_true", help="print the request instead of sending it"
    )
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = parser()
    args = options.parse_args(argv)
    if args.explain and (args.raw or args.classify):
        options.error("--explain sends tf.Examples: it goes with REST (the default) or --grpc")
    # TensorFlow only now, and quiet: `--help` and option errors answer at once, and the output
    # is the server's answer or one error line, not TensorFlow's start-up log.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    from modules import names
    from serving_client import requests
    from serving_client.raw_examples import read_rows, serialize

    try:
        rows = read_rows(args.csv)
        if args.schema_from:
            spec = feature_spec_of(args.schema_from)
        else:
            metadata_port = args.rest_port if args.grpc else args.port or REST_PORT
            spec = requests.feature_spec_from_metadata(
                requests.fetch_metadata(args.host, metadata_port, args.model)
            )
        spec = requests.by_column_names(spec, list(rows[0]))
        if args.grpc:
            signature = names.EXPLAIN if args.explain else names.SERVING_DEFAULT
            request = requests.grpc_predict_request(args.model, serialize(rows, spec), signature)
            if args.print_request:
                print(request)
                return 0
            outputs = requests.send_grpc(args.host, args.port or GRPC_PORT, request)
            print(json.dumps({k: v.tolist() for k, v in outputs.items()}, default=bytes.decode))
            return 0
        if args.explain:
            body = requests.rest_explain_body(serialize(rows, spec))
        elif args.classify:
            body = requests.rest_classify_body(rows, spec)
        elif args.raw:
            body = requests.rest_raw_body(rows, spec)
        else:
            body = requests.rest_examples_body(serialize(rows, spec))
        if args.print_request:
            print(json.dumps(body))
            return 0
        verb = "classify" if args.classify else "predict"
        answer = requests.send_rest(args.host, args.port or REST_PORT, args.model, body, verb=verb)
        print(json.dumps(answer))
        return 0
    except requests.ServingError as error:
        print(f"twinnorm-client: error: {error}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as error:
        print(f"twinnorm-client: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
