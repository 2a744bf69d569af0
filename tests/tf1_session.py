"""Runs a SavedModel signature through a TF1 session, the way TF Serving's C++ loader does.

Run as a script in a fresh process that imports only TensorFlow:
    python tests/tf1_session.py MODEL_DIR SIGNATURE INPUT_KEY EXAMPLES.tfrecord OUT.npz
"""
import sys

import numpy as np
import tensorflow as tf


def main(model_dir: str, signature: str, input_key: str, records: str, out: str) -> None:
    examples = [r.numpy() for r in tf.data.TFRecordDataset(records)]
    with tf.compat.v1.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], model_dir)
        sig = meta.signature_def[signature]
        fetches = {key: info.name for key, info in sig.outputs.items()}
        values = session.run(fetches, feed_dict={sig.inputs[input_key].name: examples})
    np.savez(out, **values)


if __name__ == "__main__":
    main(*sys.argv[1:])
