"""Multi-worker training (modules/multiworker.py): global-batch loss scaling, and a failing worker
stopping every worker with its log."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from modules import multiworker
from modules.columns import CATEGORICAL, ONE_HOT, ColumnSpec
from modules.hparams import TrainerConfig
from modules.job import TrainJob
from pipeline.config import REPO_ROOT


@pytest.fixture(scope="module")
def replica_steps(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("replicas") / "step.json"
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "tests", "replica_scaling.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("mode", ["range", "population"])
def test_two_replicas_take_the_same_step_as_one_on_the_same_global_batch(replica_steps, mode):
    """With SGD (scale-sensitive), a loss averaged per replica instead of over the global batch
    would move the weights by a different amount; in `population`, statistics of each replica's
    half batch instead of the global batch would give other outputs and moving statistics."""
    single, double = replica_steps[mode]["single"], replica_steps[mode]["double"]
    assert (single["replicas"], double["replicas"]) == (1, 2)
    assert single["moved"] > 0.05  # the step is large enough for a 2x error to show
    for a, b in zip(single["weights"], double["weights"], strict=False):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=0, atol=1e-5)
    assert double["total"] == pytest.approx(single["total"], rel=1e-6)
    assert double["losses"] == pytest.approx(single["losses"], rel=1e-6)


def test_a_failing_worker_stops_every_worker_and_names_its_log(tmp_path):
    job = TrainJob(
        transform_output=str(tmp_path / "no-transform-output"),
        train_files=[],
        validation_files=[],
        serving_model_dir=str(tmp_path / "model" / "Format-Serving"),
        model_run_dir=str(tmp_path / "run"),
        label_key="species",
        columns=[ColumnSpec("island", CATEGORICAL, encoding=ONE_HOT).to_dict()],
        trainer=dataclasses.replace(TrainerConfig(), train_workers=2),
    )
    with pytest.raises(
        RuntimeError, match=r"training worker \d of 2 exited with 1; log .*worker-\d\.log"
    ) as error:
        multiworker.run(job)
    assert "no-transform-output" in str(error.value)  # the worker's own traceback, tail of its log
    assert not os.path.exists(job.serving_model_dir)
