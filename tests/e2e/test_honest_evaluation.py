"""Honest evaluation through the whole pipeline: nothing is fitted on the split the Evaluator
blesses on, and a 3 %-positive label gets probabilities that match its base rate on rows the
pipeline never saw."""

import json
import os

import numpy as np
import pytest

from modules import names
from pipeline.summary import open_store
from serving_client.__main__ import feature_spec_of
from serving_client.raw_examples import read_rows, serialize
from tests.pipeline_runs import PipelineRun
from tests.tf1_subprocess import run_tf1_session

pytestmark = pytest.mark.slow

LABEL = "churned"


def execution_properties(metadata_path: str, component: str) -> dict:
    """The first execution of `component` (its node context in ML Metadata): its execution
    properties, as strings."""
    store = open_store(metadata_path)
    context = store.get_context_by_type_and_name("node", f"twinnorm.{component}")
    first = min(store.get_executions_by_context(context.id), key=lambda e: e.id)
    merged = {**first.custom_properties, **first.properties}
    return {key: value.string_value for key, value in merged.items()}


def test_the_blessing_split_is_disjoint_from_every_fitted_split(penguin_run):
    trainer = execution_properties(penguin_run.metadata_path, "Trainer")
    evaluator = execution_properties(penguin_run.metadata_path, "Evaluator")
    train = json.loads(trainer["train_args"])["splits"]
    validation = json.loads(trainer["eval_args"])["splits"]
    blessed_on = json.loads(evaluator["example_splits"])
    assert train == [names.TRAIN_SPLIT] and validation == [names.VALIDATION_SPLIT]
    assert blessed_on == [names.EVAL_SPLIT]
    assert not set(blessed_on) & (set(train) | set(validation))
    # The calibration record counts the validation rows, which ExampleGen wrote apart from eval.
    model_run = penguin_run.artifact_dir("Trainer", "model_run")
    with open(os.path.join(model_run, names.CALIBRATION_FILE)) as handle:
        fitted_rows = json.load(handle)[names.COMBINED]["examples"]
    examples = penguin_run.artifact_dir("CsvExampleGen", "examples")
    assert sorted(os.listdir(examples)) == sorted(f"Split-{s}" for s in names.SPLITS)
    assert fitted_rows == len(penguin_run.split_examples(names.VALIDATION_SPLIT))


def imbalanced_rows(rows: int, seed: int) -> list:
    """A churn-like table: 3 % positives, driven by two numbers and a category; one number is
    sometimes missing."""
    rng = np.random.default_rng(seed)
    tenure, spend = rng.normal(size=rows), rng.normal(size=rows)
    plan = rng.choice(["basic", "plus", "pro"], size=rows)
    logit = -5.0 - 1.4 * tenure + 0.9 * spend + np.where(plan == "basic", 0.8, 0.0)
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    table = []
    for i in range(rows):
        missing = rng.random() < 0.05
        table.append(
            {
                "tenure": "" if missing else f"{tenure[i]:.4f}",
                "spend": f"{spend[i]:.4f}",
                "plan": plan[i],
                LABEL: "yes" if churned[i] else "no",
            }
        )
    return table


def write_csv(path: str, table: list) -> None:
    columns = list(table[0])
    with open(path, "w") as handle:
        handle.write(",".join(columns) + "\n")
        for row in table:
            handle.write(",".join(row[c] for c in columns) + "\n")


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def test_a_three_percent_label_gets_its_base_rate_on_rows_never_seen(tmp_path):
    data, held_out = str(tmp_path / "churn.csv"), str(tmp_path / "held_out.csv")
    write_csv(data, imbalanced_rows(6000, seed=1))
    write_csv(held_out, imbalanced_rows(8000, seed=2))
    run = PipelineRun(str(tmp_path / "runs"), [])
    output = run.run("--data", data, "--label", LABEL, "--quiet")
    assert "blessed, pushed version 1" in output, output
    served = os.path.join(run.serving_root, names.COMBINED, "1")
    rows = read_rows(held_out)
    examples = serialize(rows, feature_spec_of(served))  # as the client sends them
    outputs = run_tf1_session(
        served, names.SERVING_DEFAULT, {names.EXAMPLES_INPUT: examples}, str(tmp_path)
    )
    with open(
        os.path.join(
            run.artifact_dir("Transform", "transform_graph"),
            "transform_fn",
            "assets",
            names.vocabulary_name(LABEL),
        )
    ) as handle:
        classes = handle.read().split()
    probability = outputs[names.PROBABILITIES][:, classes.index("yes")]
    positive = np.array([row[LABEL] == "yes" for row in rows])
    assert 0.02 < positive.mean() < 0.04
    measured = (auc(probability, positive), probability.mean(), positive.mean())
    assert measured[0] > 0.8, measured  # the majority class scores 0.5
    assert abs(measured[1] - measured[2]) < 0.01, measured
