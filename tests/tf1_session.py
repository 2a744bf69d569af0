"""Runs a SavedModel signature through a TF1 session, the way TF Serving's C++ loader does.

Run as a script in a fresh process that imports only TensorFlow and NumPy:
    python tests/tf1_session.py MODEL_DIR SIGNATURE INPUT_DIR OUT.npz
INPUT_DIR holds `numeric.npz` (numeric inputs) and one `<input>.tfrecord` per string input, so
serialized protos keep every byte (NumPy's fixed-width bytes would drop trailing NULs).
"""

import glob
import os
import sys

import numpy as np
import tensorflow as tf


def read_inputs(input_dir: str) -> dict:
    inputs = dict(np.load(os.path.join(input_dir, "numeric.npz")))
    for path in glob.glob(os.path.join(input_dir, "*.tfrecord")):
        key = os.path.basename(path)[: -len(".tfrecord")]
        inputs[key] = np.array([r.numpy() for r in tf.data.TFRecordDataset(path)], dtype=object)
    return inputs


def run(model_dir: str, signature: str, inputs: dict) -> dict:
    """The signature's outputs for `inputs` (input key -> array), computed in a TF1 session."""
    with tf.compat.v1.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], model_dir)
        sig = meta.signature_def[signature]
        missing = set(sig.inputs) - set(inputs)
        if missing:
            raise SystemExit(f"inputs missing for {signature}: {sorted(missing)}")
        fetches = {key: info.name for key, info in sig.outputs.items()}
        return session.run(fetches, feed_dict={sig.inputs[k].name: v for k, v in inputs.items()})


def main(model_dir: str, signature: str, input_dir: str, out: str) -> None:
    values = run(model_dir, signature, read_inputs(input_dir))
    # Strings come back as object arrays; save them as lists of bytes without pickling.
    np.savez(out, **{k: v.astype(np.bytes_) if v.dtype == object else v for k, v in values.items()})


if __name__ == "__main__":
    main(*sys.argv[1:])
