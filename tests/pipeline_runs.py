"""Running the local pipeline from the command line as a user does, killing it at a chosen
moment, and reading what it left: artifacts, checkpoints, the serving root."""

import dataclasses
import glob
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

import tensorflow as tf

from modules import names
from modules.paths import OutputLayout
from pipeline.project import REPO_ROOT


@dataclasses.dataclass
class PipelineRun:
    output_dir: str
    stdout: List[str]  # one per invocation

    @property
    def outputs(self) -> OutputLayout:
        return OutputLayout(self.output_dir)

    @property
    def metadata_path(self) -> str:
        return self.outputs.metadata_path

    @property
    def serving_root(self) -> str:
        return self.outputs.serving_root

    def artifact_dir(self, component: str, output: str) -> str:
        """Newest artifact folder of a component output."""
        return self.outputs.newest_artifact(component, output)

    def newest_log(self) -> str:
        """The text of the newest local run's log (`<output>/runs/<name>/<stamp>/run.log`)."""
        logs = sorted(glob.glob(os.path.join(self.outputs.runs_dir, "*", "run.log")))
        with open(logs[-1]) as handle:
            return handle.read()

    def run(self, *args: str) -> str:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        result = subprocess.run(
            [sys.executable, "local_runner.py", "--output", self.output_dir, *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        self.stdout.append(result.stdout)
        return result.stdout

    def split_examples(self, split: str) -> List[bytes]:
        """ExampleGen's raw rows of one split, labels included."""
        files = sorted(  # in the order the report reads them
            glob.glob(
                os.path.join(self.artifact_dir("CsvExampleGen", "examples"), f"Split-{split}", "*")
            )
        )
        return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]

    def eval_examples(self) -> List[bytes]:
        """ExampleGen's eval split: the raw rows the Evaluator sees, labels included."""
        return self.split_examples("eval")


def snapshot(serving_root: str) -> dict:
    """Every served file -> its sha256: what TF Serving would load."""
    result = {}
    for path in sorted(glob.glob(os.path.join(serving_root, "**"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                result[os.path.relpath(path, serving_root)] = hashlib.sha256(
                    handle.read()
                ).hexdigest()
    return result


def run_cli(output_dir: str, *args: str) -> subprocess.CompletedProcess:
    """`local_runner.py --output OUTPUT_DIR ARGS...` as a user runs it; any exit code."""
    return subprocess.run(
        [sys.executable, "local_runner.py", "--output", output_dir, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=1200,
    )


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float = 900
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the run ended before {what}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def kill_when(
    output_dir: str,
    condition: Callable[[], bool],
    what: str,
    project: str = REPO_ROOT,
    env: Optional[Dict[str, str]] = None,
) -> None:
    """Starts `local_runner.py` of `project` into `output_dir` and SIGKILLs its whole process group
    once `condition()` holds; its console goes to `killed-<what>.log` there."""
    with open(os.path.join(output_dir, f"killed-{what}.log"), "w") as log:
        process = subprocess.Popen(
            [sys.executable, "local_runner.py", "--output", output_dir],
            cwd=project,
            env=env or {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(condition, process, what)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def checkpoint_steps(output_dir: str) -> List[int]:
    """Steps of the Trainer's checkpoints on disk, over every execution."""
    pattern = os.path.join(
        OutputLayout(output_dir).component_dir("Trainer", "model_run"),
        "*",
        names.CHECKPOINTS_DIR,
        "*.index",
    )
    return [int(os.path.basename(p)[len("ckpt-") : -len(".index")]) for p in glob.glob(pattern)]


def recorded_checkpoint_steps(output_dir: str) -> Dict[str, int]:
    """Trainer execution folder -> the newest checkpoint its state file records: what a resume
    may trust (a kill between a checkpoint's files and its state file leaves the files unrecorded)."""
    pattern = os.path.join(OutputLayout(output_dir).component_dir("Trainer", "model_run"), "*")
    recorded = {
        folder: tf.train.latest_checkpoint(os.path.join(folder, names.CHECKPOINTS_DIR))
        for folder in glob.glob(pattern)
    }
    return {folder: int(path.rsplit("-", 1)[1]) for folder, path in recorded.items() if path}


def logged_steps(log_text: str) -> List[int]:
    """Training steps a run's log reports (`step N: network_a_train_loss=...`)."""
    return [int(m) for m in re.findall(r"\bstep (\d+): network_a_train_loss=", log_text)]
