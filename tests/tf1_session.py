"""Runs a SavedModel signature through a TF1 session, the way TF Serving's C++ loader does.

Run as a script in a fresh process that imports only TensorFlow and NumPy:
    python tests/tf1_session.py MODEL_DIR SIGNATURE INPUTS.npz OUT.npz
INPUTS.npz holds one array per signature input key.
"""
import sys

import numpy as np
import tensorflow as tf


def main(model_dir: str, signature: str, inputs_path: str, out: str) -> None:
    inputs = {k: v.astype(object) if v.dtype.kind == "S" else v for k, v in np.load(inputs_path).items()}
    with tf.compat.v1.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], model_dir)
        sig = meta.signature_def[signature]
        missing = set(sig.inputs) - set(inputs)
        if missing:
            raise SystemExit(f"inputs missing for {signature}: {sorted(missing)}")
        fetches = {key: info.name for key, info in sig.outputs.items()}
        feed = {sig.inputs[key].name: value for key, value in inputs.items()}
        values = session.run(fetches, feed_dict=feed)
    # Strings come back as object arrays; bytes arrays load without pickle.
    np.savez(out, **{k: v.astype(np.bytes_) if v.dtype == object else v for k, v in values.items()})


if __name__ == "__main__":
    main(*sys.argv[1:])
