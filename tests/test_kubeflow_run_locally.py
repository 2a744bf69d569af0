"""kubeflow/run_locally.py: a task that fails stops the run with exit code 1, a first line naming
the task and its log, then the log's last lines (the whole run on the embedded data:
tests/e2e/test_spec_runner.py)."""

import os
import shutil

from pipeline.config import DEFAULT_DATA
from tests.project_copies import compile_cli, run_locally


def test_a_failing_task_stops_the_run_naming_the_task_its_log_and_the_cause(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DEFAULT_DATA, data / "penguins.csv")
    spec = str(tmp_path / "pipeline.yaml")
    done = compile_cli(
        spec, "--target", "kfp", "--pipeline-root", str(tmp_path / "root"), "--data", str(data)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    os.remove(data / "penguins.csv")  # the data moved after the compile
    done = run_locally(spec, str(tmp_path / "run"))
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    log = str(tmp_path / "run" / "logs" / "CsvExampleGen.log")
    assert lines[0].startswith("run_locally.py: task CsvExampleGen exited with 1; log " + log)
    assert "does not match any files" in lines[-1] and os.path.isfile(log)
