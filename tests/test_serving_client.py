"""The client's command line (serving_client/__main__.py): column types from the server's
metadata, one-line errors, a --help that does not import TensorFlow."""

import csv
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from pipeline.config import REPO_ROOT
from serving_client import __main__ as client


@pytest.mark.parametrize("mode", [[], ["--raw"]])
def test_client_reads_column_types_from_the_servers_metadata(
    served, loopback, mode, tmp_path, capsys
):
    """No local model files: the client asks GET /v1/models/NAME/metadata for serving_raw's types."""
    csv_path = tmp_path / "rows.csv"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(served["rows"][0]))
        writer.writeheader()
        writer.writerows(served["rows"])
    code = client.main(
        ["--csv", str(csv_path), "--host", "127.0.0.1", "--port", str(loopback), *mode]
    )
    assert code == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    np.testing.assert_allclose(
        [p["probabilities"] for p in predictions], served["expected"]["probabilities"], atol=1e-6
    )


def test_client_errors_are_one_line_with_a_nonzero_exit(served, loopback, capsys):
    rows = os.path.join(REPO_ROOT, "data", "unlabelled", "penguins.csv")
    code = client.main(
        ["--csv", rows, "--host", "127.0.0.1", "--port", str(loopback), "--model", "nope"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "TF Serving answered 404" in err[0], err
    assert "Servable not found for request: Latest(nope)" in err[0]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    code = client.main(["--csv", rows, "--host", "127.0.0.1", "--port", str(port)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "cannot reach TF Serving at" in err[0], err


def test_client_help_answers_without_importing_tensorflow():
    """Start-up: `--help` must not pay TensorFlow's import (seconds); -X importtime lists every
    module the interpreter imported."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "serving_client", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0 and "--csv" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("tensorflow", "tfx", "numpy")}, seconds
    print(f"twinnorm-client --help: {seconds:.2f} s")
