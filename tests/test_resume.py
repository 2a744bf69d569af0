"""Which killed execution a new Trainer execution adopts: the same job and the same code only."""

import dataclasses
import logging
import os

import tensorflow as tf

from modules import names, resume
from modules.columns import CATEGORICAL, ONE_HOT, ColumnSpec
from modules.hparams import TrainerConfig
from modules.job import TrainJob


def job(run_dir: str, code: str) -> TrainJob:
    return TrainJob(
        transform_output="/t",
        train_files=["/t/train"],
        validation_files=["/t/validation"],
        serving_model_dir=os.path.join(run_dir, "model"),
        model_run_dir=run_dir,
        label_key="species",
        columns=[ColumnSpec("island", CATEGORICAL, encoding=ONE_HOT).to_dict()],
        trainer=TrainerConfig(),
        code=code,
    )


def killed_execution(parent: str, name: str, of: TrainJob) -> str:
    """An execution folder with the job's fingerprint and a checkpoint at step 300, unfinished."""
    folder = os.path.join(parent, name)
    os.makedirs(folder)
    with open(os.path.join(folder, resume.FINGERPRINT_FILE), "w") as handle:
        handle.write(resume.fingerprint(dataclasses.replace(of, model_run_dir=folder)))
    checkpoint = tf.train.Checkpoint(step=tf.Variable(300, dtype=tf.int64))
    tf.train.CheckpointManager(checkpoint, os.path.join(folder, names.CHECKPOINTS_DIR), 1).save(300)
    return folder


def test_the_same_job_and_code_resumes_and_changed_code_starts_over_saying_why(tmp_path, caplog):
    parent = str(tmp_path)
    killed = killed_execution(parent, "5", job(os.path.join(parent, "5"), "code-sha256:aa"))
    same = job(os.path.join(parent, "6"), "code-sha256:aa")
    assert resume.prepare(same) == killed
    assert tf.train.latest_checkpoint(os.path.join(same.model_run_dir, names.CHECKPOINTS_DIR))
    edited = job(os.path.join(parent, "7"), "code-sha256:bb")
    with caplog.at_level(logging.WARNING):
        assert resume.prepare(edited) is None
    assert not tf.train.latest_checkpoint(os.path.join(edited.model_run_dir, names.CHECKPOINTS_DIR))
    assert f"not resuming the killed execution {killed}: the code changed" in caplog.text
    other_data = dataclasses.replace(
        job(os.path.join(parent, "8"), "code-sha256:aa"), train_files=["/x"]
    )
    assert resume.prepare(other_data) is None


def test_an_execution_whose_process_still_runs_is_never_adopted(tmp_path, caplog):
    import fcntl

    parent = str(tmp_path)
    alive = killed_execution(parent, "5", job(os.path.join(parent, "5"), "code-sha256:aa"))
    with open(os.path.join(alive, resume.LOCK_FILE), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as its training process holds it
        with caplog.at_level(logging.WARNING):
            assert resume.prepare(job(os.path.join(parent, "6"), "code-sha256:aa")) is None
        assert (
            f"not resuming execution {alive}: its training process is still running" in caplog.text
        )
    # Once that process is gone (the kernel drops its lock), the next execution adopts it.
    assert resume.prepare(job(os.path.join(parent, "7"), "code-sha256:aa")) == alive
