"""Resuming a killed Trainer from the killed execution's last checkpoint.

TFX gives a re-run Trainer a new execution and with it a new `model_run` folder, so the training
loop's own resume (newest checkpoint in its folder) never sees what the killed execution saved.
Each execution therefore writes its job's fingerprint (inputs and configuration, not its own
output folders) beside its checkpoints; an execution starting with no checkpoint of its own
copies those of the newest sibling execution with the same fingerprint that never finished
training, and the loop continues from there: same step, same input position, same optimizer state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Optional

import tensorflow as tf
from absl import logging as log

from twinnorm.modules import names

FINGERPRINT_FILE = "job_fingerprint.txt"
# Fields that differ between executions of the same job: their own output folders.
PER_EXECUTION = ("serving_model_dir", "model_run_dir")


def fingerprint(job) -> str:
    """sha256 of the job's inputs and configuration (a TrainJob, as JSON with sorted keys)."""
    values = {k: v for k, v in dataclasses.asdict(job).items() if k not in PER_EXECUTION}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def prepare(job) -> Optional[str]:
    """Marks `job.model_run_dir` with the job's fingerprint and, when it holds no checkpoint yet,
    copies in the checkpoints of an unfinished execution of the same job. Returns the folder
    adopted from, or None."""
    run_dir, mark = job.model_run_dir, fingerprint(job)
    tf.io.gfile.makedirs(run_dir)
    with tf.io.gfile.GFile(os.path.join(run_dir, FINGERPRINT_FILE), "w") as handle:
        handle.write(mark)
    if tf.train.latest_checkpoint(os.path.join(run_dir, names.CHECKPOINTS_DIR)):
        return None
    source = killed_sibling(run_dir, mark)
    if source is None:
        return None
    copy_checkpoints(
        os.path.join(source, names.CHECKPOINTS_DIR), os.path.join(run_dir, names.CHECKPOINTS_DIR)
    )
    log.info(
        "resuming the killed execution %s (same inputs and configuration) from its checkpoint %s",
        source,
        tf.train.latest_checkpoint(os.path.join(run_dir, names.CHECKPOINTS_DIR)),
    )
    return source


def killed_sibling(run_dir: str, mark: str) -> Optional[str]:
    """The newest other execution folder with the same fingerprint, a checkpoint, and no
    training record (training never finished there)."""
    parent, own = os.path.split(run_dir.rstrip("/"))
    candidates = []
    for name in tf.io.gfile.listdir(parent):
        name = name.rstrip("/")
        folder = os.path.join(parent, name)
        if name == own or not name.isdigit():
            continue
        marker = os.path.join(folder, FINGERPRINT_FILE)
        if not tf.io.gfile.exists(marker):
            continue
        with tf.io.gfile.GFile(marker) as handle:
            if handle.read().strip() != mark:
                continue
        finished = tf.io.gfile.exists(os.path.join(folder, names.TRAINING_FILE))
        if not finished and tf.train.latest_checkpoint(os.path.join(folder, names.CHECKPOINTS_DIR)):
            candidates.append((int(name), folder))
    return max(candidates)[1] if candidates else None


def copy_checkpoints(source: str, destination: str) -> None:
    """The newest checkpoint's files and a state file naming it (relative, as CheckpointManager
    writes it), so the copy does not point back into the killed execution's folder."""
    newest = os.path.basename(tf.train.latest_checkpoint(source))
    tf.io.gfile.makedirs(destination)
    for path in tf.io.gfile.glob(os.path.join(source, newest + ".*")):
        tf.io.gfile.copy(path, os.path.join(destination, os.path.basename(path)), overwrite=True)
    with tf.io.gfile.GFile(os.path.join(destination, "checkpoint"), "w") as handle:
        handle.write(f'model_checkpoint_path: "{newest}"\nall_model_checkpoint_paths: "{newest}"\n')
