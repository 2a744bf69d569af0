"""The benchmarks' building blocks measure what they claim: the baselines are the same networks and
math as ours, the generated data has the penguin schema, and the measuring tools read real
processes. (Timings themselves are never asserted.)"""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import generate_penguins, generate_tabular
from benchmarks.baselines import ArticleLoop, fit_targets, functional_twin
from benchmarks.common import Comparison, Side, TreeMemory
from benchmarks.report import chart, table
from benchmarks.roofline import BareStep, batches, train_flops_per_example
from benchmarks.train_step import PENGUIN_LAYOUT, penguin_like_batches
from modules import names, network_inputs
from modules.hparams import TrainerConfig
from modules.job import seed_everything
from modules.networks import TwinModel
from modules.training import JointTrainer
from pipeline.config import DEFAULT_DATA


def copy_networks(twin: TwinModel, targets) -> None:
    for source, target in zip(twin.networks.values(), targets, strict=False):
        for s, t in zip(source.weights, target.weights, strict=False):
            t.assign(tf.reshape(s, t.shape))  # one member's [1, d, units] -> Dense's [d, units]


def test_article_loop_takes_the_same_step_as_the_joint_step_on_the_same_networks(monkeypatch):
    """Equal weights, equal batch: the article's two-gradient loop and our one-gradient step give
    the same loss and the same updated weights, so the benchmark compares equal work (our step's
    share of category ids sent to the OOV bucket, which the article lacks, set to none here)."""
    monkeypatch.setattr(network_inputs, "OOV_RATE", 0.0)
    config = TrainerConfig(batch_size=64, members=1)
    seed_everything(config.seed)
    batch = next(iter(penguin_like_batches(64)))
    joint = JointTrainer(TwinModel(PENGUIN_LAYOUT, config), config)
    article = ArticleLoop(PENGUIN_LAYOUT, config)
    article.network1(article.encoder(batch[0]))
    article.network2(article.encoder(batch[0]))
    copy_networks(joint.model, (article.network1, article.network2))
    for _ in range(3):
        ours, theirs = float(joint.train_step(batch)), float(article.train_step(batch))
        assert ours == pytest.approx(theirs, rel=1e-5)
    for network, twin in zip(
        (article.network1, article.network2), joint.model.networks.values(), strict=False
    ):
        for a, b in zip(network.weights, twin.weights, strict=False):
            np.testing.assert_allclose(a.numpy(), b.numpy().reshape(a.shape), rtol=1e-4, atol=1e-6)


def test_functional_fit_model_computes_the_twin_models_normalized_scores():
    config = TrainerConfig(members=1)
    twin = TwinModel(PENGUIN_LAYOUT, config)
    features, labels = next(iter(penguin_like_batches(16)))
    scores = twin(features)
    model = functional_twin(PENGUIN_LAYOUT, config)
    mlps = [layer for layer in model.layers if layer.name.endswith("_mlp")]
    copy_networks(twin, mlps)
    outputs = model(features)
    for name in names.NETWORKS:
        np.testing.assert_allclose(
            outputs[name].numpy(),
            scores[names.output_key(name, names.SCORES)].numpy(),
            rtol=1e-6,
            atol=1e-7,
        )
    _, targets = fit_targets(features, labels, 3)
    np.testing.assert_array_equal(tf.argmax(targets[names.NETWORK_A], -1).numpy(), labels.numpy())


def matmul_flops(graph: tf.Graph) -> int:
    """2*m*k*n summed over every MatMul TensorFlow put in `graph`, from its static shapes."""
    total = 0
    for op in graph.get_operations():
        if op.type == "MatMul":
            a, b = (t.shape.as_list() for t in op.inputs)
            m, k = a[::-1] if op.get_attr("transpose_a") else a
            n = b[0] if op.get_attr("transpose_b") else b[1]
            total += 2 * m * k * n
    return total


@pytest.mark.parametrize("inputs, hidden", [(100, (128, 64)), (256, (512, 256))])
def test_roofline_flops_per_example_match_the_matmuls_in_a_training_steps_graph(inputs, hidden):
    """The FLOPs the roofline divides by are the ones TensorFlow's gradient graph really runs:
    forward, kernel gradients, and input gradients for every layer but the first."""
    bare = BareStep(inputs, hidden, "relu", TrainerConfig())
    network = bare.networks[0]

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(bare.normalize(network(x)))
        return tape.gradient(loss, network.trainable_variables)

    graph = step.get_concrete_function(tf.TensorSpec([64, inputs])).graph
    assert matmul_flops(graph) == 64 * train_flops_per_example(inputs, hidden, 10)
    iterator = iter(batches(inputs, 64))
    assert np.isfinite(float(bare.steps(iterator, tf.constant(2, tf.int64))))


def test_generated_penguins_keep_the_schema_categories_and_missing_cells(tmp_path):
    path = str(tmp_path / "generated.csv")
    assert generate_penguins.generate(3000, path, seed=1) == [path]
    with open(DEFAULT_DATA) as handle:
        source = list(csv.DictReader(handle))
    with open(path) as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == list(source[0].keys()) and len(rows) == 3000
    for column in ("species", "island", "sex", "year"):
        assert {r[column] for r in rows} <= {r[column] for r in source}, column
    for column, decimals in generate_penguins.MEASUREMENTS.items():
        values = [r[column] for r in rows if r[column]]
        assert all(float(v) > 0 and len(v.partition(".")[2]) == decimals for v in values), column
        missing = 1 - len(values) / len(rows)
        assert abs(missing - sum(not r[column] for r in source) / len(source)) < 0.02, column
        # noise, not copies: most values differ from every source value of their species
        assert len({v for v in values}) > len({r[column] for r in source})
    again = str(tmp_path / "again.csv")
    generate_penguins.generate(3000, again, seed=1)
    assert open(path).read() == open(again).read()
    shards = generate_penguins.generate(3000, str(tmp_path / "sharded"), seed=1, shards=4)
    assert [os.path.basename(f) for f in shards] == [f"part-0000{i}-of-00004.csv" for i in range(4)]
    lines = [line for f in shards for line in open(f).read().splitlines()[1:]]
    assert lines == open(path).read().splitlines()[1:]  # the same rows, split in order


def test_the_generated_customer_table_has_a_real_files_shape(tmp_path):
    """Numbers with missing cells, categories, a binary and a regression label a model can learn
    something from, an id per row; unlabelled, the same columns without the labels."""
    import pandas as pd

    files = generate_tabular.generate(30_000, str(tmp_path / "t"), shards=3, seed=2)
    frame = pd.concat(pd.read_csv(f, keep_default_na=False, na_values=[""]) for f in files)
    assert list(frame.columns) == [generate_tabular.KEY, *generate_tabular.FEATURES,
                                   *generate_tabular.LABELS]  # fmt: skip
    assert frame[generate_tabular.KEY].is_unique and len(frame) == 30_000
    assert frame[["age", "monthly_charges", "days_since_login"]].isna().mean().min() > 0.02
    assert frame["device"].isna().mean() > 0.02
    for column, values in generate_tabular.CATEGORIES.items():
        assert set(frame[column].dropna()) == set(values), column
    positives = frame[generate_tabular.BINARY_LABEL]
    assert set(positives) == {0, 1} and 0.1 < positives.mean() < 0.4
    # learnable, not perfect: support calls raise the churn rate; spend follows the plan
    assert (
        frame.groupby("support_calls")[generate_tabular.BINARY_LABEL]
        .mean()
        .iloc[:4]
        .is_monotonic_increasing
    )
    spend = frame.groupby("plan")[generate_tabular.REGRESSION_LABEL].mean()
    assert spend["basic"] < spend["standard"] < spend["premium"] < spend["enterprise"]
    (unlabelled,) = generate_tabular.generate(100, str(tmp_path / "u"), 1, labelled=False)
    assert list(pd.read_csv(unlabelled).columns) == [
        generate_tabular.KEY,
        *generate_tabular.FEATURES,
    ]


def test_comparison_ratio_target_table_and_chart(tmp_path):
    faster = Comparison(
        "g",
        "more is better",
        Side("ours", 300.0, "examples/s", [300.0]),
        Side("theirs", 200.0, "examples/s", [200.0]),
        ">= 1.2",
    )
    slower = Comparison(
        "g",
        "less is better",
        Side("ours", 90.0, "s", [90.0]),
        Side("theirs", 100.0, "s", [100.0]),
        "<= 0.8",
    )
    info = Comparison("g", "no target", Side("a", 1.0, "ms", [1.0]), Side("b", 2.0, "ms", [2.0]))
    assert (faster.ratio, faster.met) == (1.5, True)
    assert (slower.ratio, slower.met) == (0.9, False)
    assert info.met is None
    assert Comparison.from_dict(faster.to_dict()).to_dict() == faster.to_dict()
    text = table([faster, slower, info])
    assert "| 1.50 | >= 1.2 | yes |" in text and "| 0.90 | <= 0.8 | **no** |" in text
    png = str(tmp_path / "chart.png")
    chart([faster, slower, info], png, "title")
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_tree_memory_counts_child_processes_memory_and_cpu():
    """A child that holds 300 MB and spins one core must show in the parent's process-tree figures."""
    code = "import time, numpy; a = numpy.ones(300 * 2**20 // 8); t = time.time()\nwhile time.time() < t + 1.5: pass"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])",
        ]
    )
    with TreeMemory(parent.pid, interval=0.05) as memory:
        parent.wait()
    assert memory.peak() > 300 * 2**20
    assert 0.5 < memory.cores() < 1.5  # the child spins one core for 1.5 s


def test_the_batch_explain_table_gives_each_choice_against_no_explain_at_the_same_size(tmp_path):
    from benchmarks import batch_explain

    path = batch_explain.write_inference(25, str(tmp_path / "new.csv"))
    with open(path) as handle:
        assert len(handle.read().splitlines()) == 26  # the header, then 25 rows
    payload = {
        "date": "D",
        "command": "C",
        "commit": "K",
        "machine": {"cores": 2, "cpu": "cpu", "memory_gib": 1.0},
        "runs": [
            {"explain": e, "rows": n, "seconds": s, "rows_per_s": n / s, "peak_rss_gib": 1.25}
            for n, times in ((100, (2.0, 5.0)), (400, (4.0, 12.0)))
            for e, s in zip(("none", "all"), times, strict=True)
        ],
    }
    text = batch_explain.section(payload)
    assert "| 100 | all | 5.0 s | 20 | 2.5x | 1.25 GiB |" in text
    assert "| 400 | all | 12.0 s | 33 | 3.0x | 1.25 GiB |" in text
