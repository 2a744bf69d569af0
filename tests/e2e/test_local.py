"""The local run's console: one line per component as it finishes, then the summary; the rest
goes to the run's log file."""

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from modules.paths import OutputLayout
from pipeline import config_file
from pipeline.config import REPO_ROOT
from tests.console_lines import component_lines

pytestmark = pytest.mark.slow


def test_quiet_prints_only_the_summary(penguin_run, tmp_path):
    folder = str(tmp_path / "tfx_runs")
    shutil.copytree(penguin_run.output_dir, folder)  # cached: the copy re-runs nothing
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", folder, "--quiet"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and not component_lines(result.stdout), result.stdout
    assert re.match(r"twinnorm: pipeline 'twinnorm' finished in \d+\.\d s: blessed", lines[0])
    assert len(lines) <= 12 and result.stderr == "", (lines, result.stderr)


def test_a_failing_component_is_one_line_naming_it_the_cause_and_the_log(penguin_run, tmp_path):
    """The serving root replaced by a file: the Pusher (re-run: its serving base changed) fails."""
    folder = str(tmp_path / "tfx_runs")
    shutil.copytree(penguin_run.output_dir, folder)
    serving_root = OutputLayout(folder).serving_root
    shutil.rmtree(serving_root)
    with open(serving_root, "w") as handle:
        handle.write("not a folder")
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", folder, "--serving-base", "/models"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    (line,) = result.stderr.strip().splitlines()
    match = re.fullmatch(r"twinnorm: component Pusher failed: (\w+): (.+); full log: (\S+)", line)
    assert match, line
    with open(match.group(3)) as handle:
        assert "Traceback" in handle.read()  # the whole story is in the log
    assert "Evaluator" in component_lines(result.stdout)  # the components before it printed


@pytest.mark.slow
def test_every_run_keeps_its_effective_config_and_log_in_the_output_folder(penguin_run):
    (folder,) = glob.glob(os.path.join(penguin_run.outputs.runs_dir, "*"))[:1]
    saved = config_file.read(os.path.join(folder, "config.yaml"))
    assert saved.output == penguin_run.output_dir and saved.trainer.normalization == "range"
    assert os.path.getsize(os.path.join(folder, "run.log")) > 0
