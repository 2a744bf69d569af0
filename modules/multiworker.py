"""Multi-worker training on one machine: N processes, MultiWorkerMirroredStrategy, one export.

The strategy must be created before TensorFlow initializes its runtime in a process, and the
Trainer runs inside the orchestrator's process (LocalDagRunner), where TensorFlow is long
initialized. So `run` starts N fresh processes (`python -m modules.multiworker JOB`), each with
its own `TF_CONFIG` naming every worker's 127.0.0.1 port, and waits for all of them.

Worker 0 is the chief. Every worker takes part in every collective (gradients, metrics,
checkpoint saves, the export), as the strategy requires; the chief writes to the job's model_run
and serving folders, the others to scratch folders under model_run that they delete at the end.
On a cluster the same code runs one worker per machine: TF_CONFIG then comes from the platform
(Vertex AI worker pools, a Kubeflow TFJob) and `worker_main` is the entry point.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import List

from modules import paths

WORKER_DIR = "workers"  # under model_run: the job file, each worker's log, non-chief scratch
JOB_FILE = "job.json"
POLL_SECONDS = 0.5


def free_ports(count: int) -> List[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: List[int], index: int) -> str:
    return json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        }
    )


def run(job) -> None:
    """Starts `job.config.train_workers` worker processes and waits; raises with the failing
    worker's log when any fails (the others are stopped, nothing is exported)."""
    count = job.config.train_workers
    if paths.is_uri(job.model_run_dir):
        raise ValueError(
            f"train_workers > 1 runs worker processes beside the Trainer and needs its model_run "
            f"on a local or mounted file system (worker logs are files); got {job.model_run_dir}"
        )
    folder = os.path.join(job.model_run_dir, WORKER_DIR)
    os.makedirs(folder, exist_ok=True)
    job_path = os.path.join(folder, JOB_FILE)
    with open(job_path, "w") as handle:
        json.dump(job.to_dict(), handle)
    ports = free_ports(count)
    import_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `modules` is
    processes, logs = [], []
    for index in range(count):
        env = {**os.environ, "TF_CONFIG": tf_config(ports, index)}
        log_path = os.path.join(folder, f"worker-{index}.log")
        logs.append(log_path)
        with open(log_path, "w") as log:
            # `-m` from import_root: the worker imports the project as this process does.
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "modules.multiworker", job_path],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=import_root,
                )
            )
    try:  # until all end, or one fails (the others would wait for it in a collective forever)
        while any(p.poll() is None for p in processes) and not any(p.returncode for p in processes):
            time.sleep(POLL_SECONDS)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    failed = [i for i, p in enumerate(processes) if p.returncode != 0]
    if failed:
        index = failed[0]
        with open(logs[index]) as handle:
            tail = handle.read()[-3000:]
        raise RuntimeError(
            f"training worker {index} of {count} exited with {processes[index].returncode}; "
            f"log {logs[index]}:\n{tail}"
        )


def worker_main(job_path: str) -> None:
    """One worker: the strategy first, then the same training and export as a single worker.
    Its index comes from TF_CONFIG, set by `run` here or by the platform on a cluster."""
    import tensorflow as tf

    # Before anything else touches the runtime.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

    from absl import logging

    from modules.job import TrainJob, train_and_export

    logging.set_verbosity(logging.INFO)  # progress lines in the worker's log
    with tf.io.gfile.GFile(job_path) as handle:
        job = TrainJob.from_dict(json.load(handle))
    index = strategy.cluster_resolver.task_id
    chief = index == 0
    logging.info(
        "twinnorm worker %d of %d (%s), %d replicas in sync",
        index,
        len(strategy.cluster_resolver.cluster_spec().as_dict()["worker"]),
        "chief" if chief else "not chief",
        strategy.num_replicas_in_sync,
    )
    if chief:
        run_dir, serving_dir, networks_dir = (
            job.model_run_dir,
            job.serving_model_dir,
            job.networks_dir,
        )
    else:
        scratch = os.path.join(job.model_run_dir, WORKER_DIR, f"scratch-{index}")
        run_dir = scratch
        serving_dir, networks_dir = (
            os.path.join(scratch, "serving"),
            os.path.join(scratch, "networks"),
        )
    try:
        train_and_export(job, strategy, run_dir, serving_dir, networks_dir)
    finally:
        if not chief and tf.io.gfile.exists(run_dir):
            tf.io.gfile.rmtree(run_dir)


if __name__ == "__main__":
    worker_main(sys.argv[1])
