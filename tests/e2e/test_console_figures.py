"""The console's figure per component (pipeline/console_figures.py), read from the run's ML
Metadata, and the summary after them, on the default run."""

import json
import os
import re

from modules import names
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve
from tests.console_lines import CONSOLE_ORDER, component_lines


def test_a_default_run_prints_one_line_per_component_then_the_summary(penguin_run):
    first = penguin_run.stdout[0]
    lines = first.splitlines()
    columns = [line for line in lines if line.startswith("  ") and ": " in line and " - " in line]
    features = resolve(PipelineConfig()).features
    assert [line.split(":")[0].strip() for line in columns] == list(features)  # what each became
    assert len(lines) <= 30 + len(columns), first  # was ~115 lines of library logs before
    assert (
        lines[0].startswith("twinnorm: pipeline 'twinnorm' (classification") and "log: " in lines[0]
    )
    figures = component_lines(first)
    assert tuple(figures) == CONSOLE_ORDER, figures  # every component once, in the order they ran
    assert re.fullmatch(r"rows: train \d+, validation \d+, eval \d+", figures["StatisticsGen"])
    assert figures["DataGate"] == "no anomalies"
    with open(os.path.join(penguin_run.first_summary.model_run, names.TRAINING_FILE)) as handle:
        record = json.load(handle)
    assert record["steps"] <= record["max_steps"] and 0 < record["best_step"] <= record["steps"]
    assert figures["Trainer"] == (
        f"{record['steps']} steps ({record['epochs']:g} epochs), "
        f"{record['stopped'].split(';')[0]}; validation loss: "
        f"network_a {record['exported_network_a_loss']:.3g}, "
        f"network_b {record['exported_network_b_loss']:.3g}"
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
    assert "Component Trainer is running." in text and "step 100:" in text
    # The second run is cached up to the Trainer and says so.
    second = component_lines(penguin_run.stdout[1])
    assert second["Transform"] == "cached" and second["Trainer"].endswith(", cached")
