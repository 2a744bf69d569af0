"""The local run's console: one line per component as it finishes, then the summary; the rest
goes to the run's log file."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from modules import names
from modules.paths import OutputLayout
from pipeline.config import REPO_ROOT

pytestmark = pytest.mark.slow

COMPONENTS = (
    "CsvExampleGen",
    "ImportSchemaGen",
    "InferenceExampleGen",
    "latest_blessed_model_resolver",
    "StatisticsGen",
    "ExampleValidator",
    "DataGate",
    "Transform",
    "Trainer",
    "Evaluator",
    "BulkInferrer",
    "Pusher",
    "RunReport",
)


def component_lines(stdout: str) -> dict:
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^  (\S+)\s+(\d+\.\d) s(?:  (.*))?$", line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} printed twice"
            found[match.group(1)] = match.group(3) or ""
    return found


def test_a_default_run_prints_one_line_per_component_then_the_summary(penguin_run):
    first = penguin_run.stdout[0]
    lines = first.splitlines()
    assert len(lines) <= 30, first  # was ~115 lines of library logs before
    assert (
        lines[0].startswith("twinnorm: pipeline 'twinnorm' (classification") and "log: " in lines[0]
    )
    figures = component_lines(first)
    assert tuple(figures) == COMPONENTS, figures  # every component once, in the order they ran
    assert re.fullmatch(r"rows: train \d+, validation \d+, eval \d+", figures["StatisticsGen"])
    assert figures["DataGate"] == "no anomalies"
    with open(os.path.join(penguin_run.first_summary.model_run, names.TRAINING_FILE)) as handle:
        record = json.load(handle)
    assert record["steps"] <= record["max_steps"] and 0 < record["best_step"] <= record["steps"]
    assert figures["Trainer"] == (
        f"{record['steps']} steps ({record['epochs']:g} epochs), "
        f"{record['stopped'].split(';')[0]}; validation loss: "
        f"network_a {record['eval_network_a_loss']:.3g}, "
        f"network_b {record['eval_network_b_loss']:.3g}"
    )
    metrics = penguin_run.first_summary.metrics
    for output in (*names.NETWORKS, names.COMBINED):  # TFMA's figures, rounded, over the bar
        accuracy = metrics[output]["sparse_categorical_accuracy"]
        assert f"{output} accuracy {accuracy:.4g}" in figures["Evaluator"], figures["Evaluator"]
        assert accuracy >= 0.95, metrics
    assert figures["Evaluator"].endswith("; blessed") and figures["Pusher"] == "pushed version 1"
    verdict = r"twinnorm: pipeline 'twinnorm' finished in \d+\.\d s: blessed, pushed version 1$"
    assert any(re.match(verdict, line) for line in lines), lines
    assert f"tensorboard: tensorboard --logdir {penguin_run.first_summary.model_run}" in lines
    serve = (
        "serve: tensorflow_model_server --port=8500 --rest_api_port=8501 "
        f"--model_config_file={penguin_run.serving_root}/models.config"
    )
    assert serve in lines
    log = lines[0].split("log: ")[1]
    assert lines[-1].startswith(f"log: {log}; effective config: ")
    with open(log) as handle:
        text = handle.read()  # what the console no longer shows
    assert "Component Trainer is running." in text and "step 500:" in text
    # The second run is cached up to the Trainer and says so.
    second = component_lines(penguin_run.stdout[1])
    assert second["Transform"] == "cached" and second["Trainer"].endswith(", cached")


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
