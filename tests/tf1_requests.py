"""Sends several requests, one after another, to one loaded SavedModel in one TF1 session.

    python tests/tf1_requests.py MODEL_DIR SIGNATURE REQUESTS_DIR OUT.json
REQUESTS_DIR holds folders 0, 1, ... in tf1_session.py's input format. OUT.json gets, per
request, {"ok": true, "shapes": {...}} or {"ok": false, "error": "..."}: a model server keeps its
session across requests, so a failed request must leave it able to answer the next one.
"""

import json
import os
import sys

import tensorflow as tf
from tf1_session import read_inputs


def main(model_dir: str, signature: str, requests_dir: str, out: str) -> None:
    results = []
    # Read eagerly, before the graph scope: tf.data cannot iterate inside a TF1 graph.
    requests = [
        read_inputs(os.path.join(requests_dir, index))
        for index in sorted(os.listdir(requests_dir), key=int)
    ]
    with tf.compat.v1.Graph().as_default(), tf.compat.v1.Session() as session:
        sig = tf.compat.v1.saved_model.loader.load(session, ["serve"], model_dir).signature_def[
            signature
        ]
        fetches = {key: info.name for key, info in sig.outputs.items()}
        for inputs in requests:
            try:
                feed = {sig.inputs[k].name: v for k, v in inputs.items()}
                values = session.run(fetches, feed_dict=feed)
                results.append(
                    {"ok": True, "shapes": {k: list(v.shape) for k, v in values.items()}}
                )
            except (tf.errors.OpError, ValueError) as error:
                results.append({"ok": False, "error": str(error)[:20000]})
    with open(out, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
