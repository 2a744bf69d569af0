"""Resuming a killed Trainer from the killed execution's last checkpoint.

TFX gives a re-run Trainer a new execution and with it a new `model_run` folder, so the training
loop's own resume (newest checkpoint in its folder) never sees what the killed execution saved.
Each execution therefore writes its job's fingerprint (inputs, configuration and the code's
fingerprint, not its own output folders) beside its checkpoints; an execution starting with no
checkpoint of its own copies those of the newest sibling execution with the same fingerprint that
never finished training and whose process is gone, and the loop continues from there: same step,
same input position, same optimizer state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Optional

import tensorflow as tf
from absl import logging as log

from modules import names, paths

FINGERPRINT_FILE = "job_fingerprint.txt"
# Held (flock) by the execution training in the folder for as long as its process lives: the
# kernel drops it when the process dies, however it dies, so a held lock means "still running".
LOCK_FILE = "training.lock"
_held = []  # this process's lock handles, open until it exits
# Fields that differ between executions of the same job: their own output folders.
PER_EXECUTION = ("serving_model_dir", "model_run_dir")


def fingerprint(job) -> str:
    """`<sha256 of the job's inputs and configuration> <code fingerprint>` (a TrainJob, as JSON
    with sorted keys): the code part lets a refusal say that the code, not the data, changed."""
    values = {k: v for k, v in dataclasses.asdict(job).items() if k not in (*PER_EXECUTION, "code")}
    job_hash = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
    return f"{job_hash} {job.code or '-'}"


def prepare(job) -> Optional[str]:
    """Marks `job.model_run_dir` with the job's fingerprint and, when it holds no checkpoint yet,
    copies in the checkpoints of an unfinished execution of the same job. Returns the folder
    adopted from, or None."""
    run_dir, mark = job.model_run_dir, fingerprint(job)
    tf.io.gfile.makedirs(run_dir)
    hold_lock(run_dir)
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
            theirs = handle.read().strip()
        finished = tf.io.gfile.exists(os.path.join(folder, names.TRAINING_FILE))
        if finished or not tf.train.latest_checkpoint(os.path.join(folder, names.CHECKPOINTS_DIR)):
            continue
        if theirs == mark and running(folder):
            log.warning("not resuming execution %s: its training process is still running", folder)
        elif theirs == mark:
            candidates.append((int(name), folder))
        elif theirs.split(" ")[0] == mark.split(" ")[0]:
            log.warning(
                "not resuming the killed execution %s: the code changed since (%s, now %s); "
                "training starts at step 0",
                folder,
                theirs.split(" ")[-1],
                mark.split(" ")[-1],
            )
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


def hold_lock(run_dir: str) -> None:
    """Takes this execution's lock (local folders; object stores have no locks: see `running`)."""
    if paths.is_uri(run_dir):
        return
    import fcntl

    handle = open(os.path.join(run_dir, LOCK_FILE), "w")  # noqa: SIM115 (held until exit)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held.append(handle)


def running(folder: str) -> bool:
    """Whether another process holds the folder's lock. On an object store (gs://, s3://) this
    cannot be known and is taken as not running."""
    path = os.path.join(folder, LOCK_FILE)
    if paths.is_uri(folder) or not os.path.exists(path):
        return False
    import fcntl

    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
