"""A signature run in a fresh process through a TF1 session (tests/tf1_session.py), the way TF
Serving's C++ loader runs it."""

import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from pipeline.project import REPO_ROOT


def run_tf1_session(model_dir: str, signature: str, inputs: dict, tmp_dir: str) -> dict:
    """Outputs of `signature` computed in a fresh process through a TF1 session; `inputs`: input
    key -> NumPy array, or a list of bytes for a string input."""
    input_dir, out = tempfile.mkdtemp(dir=tmp_dir), os.path.join(tmp_dir, "out.npz")
    numeric = {}
    for key, value in inputs.items():
        if isinstance(value, list) or np.asarray(value).dtype.kind in "SOU":
            with tf.io.TFRecordWriter(os.path.join(input_dir, f"{key}.tfrecord")) as writer:
                for item in value:
                    writer.write(item if isinstance(item, bytes) else str(item).encode())
        else:
            numeric[key] = value
    np.savez(os.path.join(input_dir, "numeric.npz"), **numeric)
    script = os.path.join(REPO_ROOT, "tests", "tf1_session.py")
    result = subprocess.run(
        [sys.executable, script, model_dir, signature, input_dir, out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(out))
