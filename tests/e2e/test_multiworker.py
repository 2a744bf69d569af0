"""Two training workers (modules/multiworker.py) through the default pipeline: one export, the
same quality as one worker."""

import glob
import json
import os

import pytest

from modules import multiworker, names
from pipeline.summary import open_store, summarize
from tests.pipeline_runs import PipelineRun


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
