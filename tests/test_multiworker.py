"""Multi-worker training: global-batch loss scaling, two worker processes through the pipeline,
and a failing worker stopping the run with its log."""

import dataclasses
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from modules import multiworker, names
from modules.hparams import TrainerConfig
from modules.job import TrainJob
from pipeline.config import REPO_ROOT
from pipeline.summary import open_store, summarize
from tests.pipeline_runs import PipelineRun


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
        feature_keys=["island"],
        trainer=dataclasses.replace(TrainerConfig(), train_workers=2),
    )
    with pytest.raises(
        RuntimeError, match=r"training worker \d of 2 exited with 1; log .*worker-\d\.log"
    ) as error:
        multiworker.run(job)
    assert "no-transform-output" in str(error.value)  # the worker's own traceback, tail of its log
    assert not os.path.exists(job.serving_model_dir)


def trainer_seconds(metadata_path: str) -> float:
    store = open_store(metadata_path)
    (context,) = [c for c in store.get_contexts_by_type("node") if c.name.endswith(".Trainer")]
    execution = min(
        (
            e
            for e in store.get_executions_by_context(context.id)
            if e.last_known_state == e.COMPLETE
        ),
        key=lambda e: e.id,
    )
    return (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000


@pytest.mark.slow
def test_two_training_workers_train_the_pipeline_model_with_one_export(penguin_run, tmp_path):
    run = PipelineRun(str(tmp_path / "tfx_runs"), [])
    # `population`: its batch statistics are all-reduced in training and its moving statistics
    # are mirrored variables, which the export must be able to save.
    run.run("--train-workers", "2", "--normalization", "population", "--inference-data", "none")
    summary = summarize(run.metadata_path)
    assert summary.blessed and summary.pushed_to
    single = penguin_run.first_summary.metrics
    for output in (*names.NETWORKS, names.COMBINED):
        accuracy = summary.metrics[output]["sparse_categorical_accuracy"]
        assert abs(accuracy - single[output]["sparse_categorical_accuracy"]) <= 0.02, (
            output,
            accuracy,
            single,
        )

    model = run.artifact_dir("Trainer", "model")
    assert sorted(os.listdir(model)) == ["Format-Serving", names.NETWORK_MODELS_DIR]
    assert sorted(os.listdir(os.path.join(model, names.NETWORK_MODELS_DIR))) == sorted(
        names.NETWORKS
    )
    trainer_outputs = run.outputs.component_dir("Trainer")
    assert (
        len(glob.glob(os.path.join(trainer_outputs, "**", "saved_model.pb"), recursive=True)) == 3
    )  # one export

    model_run = run.artifact_dir("Trainer", "model_run")
    workers = os.path.join(model_run, multiworker.WORKER_DIR)
    assert sorted(os.listdir(workers)) == [
        multiworker.JOB_FILE,
        "worker-0.log",
        "worker-1.log",
    ]  # scratch removed
    with open(os.path.join(model_run, names.TRAINING_FILE)) as handle:
        steps = json.load(handle)["steps"]
    for index in range(2):
        with open(os.path.join(workers, f"worker-{index}.log")) as handle:
            log = handle.read()
        assert (
            f"twinnorm worker {index} of 2 ({'chief' if index == 0 else 'not chief'}), 2 replicas in sync"
            in log
        )
        assert f"step {steps}:" in log  # every worker ran every step
    assert os.path.exists(os.path.join(model_run, "checkpoints", f"ckpt-{steps}.index"))
    print(
        f"\nTrainer: 2 workers {trainer_seconds(run.metadata_path):.1f} s, "
        f"1 worker {trainer_seconds(penguin_run.metadata_path):.1f} s"
    )
