"""The Evaluator's default bar: skill over the best constant predictor against NumPy and
scikit-learn references, merged in any order, and loadable the way TFMA loads it."""

import json

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from sklearn.metrics import roc_auc_score
from tensorflow_model_analysis.metrics import metric_specs, metric_types

from modules import names, skill


def computed(measure: str, labels, predictions, chunks: int = 1) -> dict:
    """The metric's figures over the rows, fed as TFMA feeds it (one example at a time), split
    into `chunks` accumulators merged at the end."""
    instance = metric_specs.metric_instance(
        tfma.MetricConfig(
            class_name="Skill", module=skill.__name__, config=json.dumps({"measure": measure})
        )
    )
    (computation,) = instance.computations()
    combiner = computation.combiner
    parts = []
    for rows in np.array_split(np.arange(len(labels)), chunks):
        accumulator = combiner.create_accumulator()
        for i in rows:
            inputs = metric_types.StandardMetricInputs(
                labels=np.atleast_1d(labels[i]),
                predictions=np.atleast_1d(predictions[i]),
                example_weights=np.array([1.0]),
            )
            accumulator = combiner.add_input(accumulator, inputs)
        parts.append(accumulator)
    return {
        key.name: value
        for key, value in combiner.extract_output(combiner.merge_accumulators(parts)).items()
    }


def test_binary_skill_is_the_gini_of_scikit_learns_auc():
    rng = np.random.default_rng(0)
    labels = (rng.random(4000) < 0.03).astype(int)  # 3 % positives
    p1 = 1 / (1 + np.exp(-(rng.normal(size=4000) + 2.0 * labels - 3.5)))
    figures = computed(names.AUC, labels, np.stack([1 - p1, p1], axis=1), chunks=3)
    expected = roc_auc_score(labels, p1)
    assert figures[names.AUC] == pytest.approx(expected, abs=1e-4)  # 10,000 buckets
    assert figures[names.trivial_metric(names.AUC)] == 0.5
    assert figures[names.SKILL] == pytest.approx(2 * expected - 1, abs=2e-4)


def test_accuracy_skill_is_measured_against_the_majority_class_of_the_rows():
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 2, 2, 2])  # majority 0.5
    predicted = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 0])  # 8 of 10 right
    figures = computed(names.ACCURACY, labels, np.eye(3)[predicted], chunks=4)
    assert figures[names.trivial_metric(names.ACCURACY)] == pytest.approx(0.5)
    assert figures[names.SKILL] == pytest.approx((0.8 - 0.5) / (1 - 0.5))
    # Answering the majority class always has no skill, however high its accuracy.
    always = computed(names.ACCURACY, labels, np.eye(3)[np.zeros(10, int)])
    assert always[names.SKILL] == pytest.approx(0.0)


@pytest.mark.parametrize("mean", [0.0, 1e8, 1e12])
def test_mse_skill_is_r_squared_on_the_rows_even_for_labels_near_1e12(mean):
    rng = np.random.default_rng(1)
    labels = mean + rng.normal(scale=1e3, size=500)
    predictions = labels + rng.normal(scale=5e2, size=500)
    figures = computed(names.MSE, labels, predictions, chunks=5)
    centered = labels - labels.mean()
    r_squared = 1 - np.sum((labels - predictions) ** 2) / np.sum(centered**2)
    # A running mean near 1e12 rounds to ulp(1e12) = 1.2e-4 at each merge: ~5e-8 relative here,
    # where raw sums of squares (1e24 each) would leave no digit of a variance of 1e6.
    assert figures[names.trivial_metric(names.MSE)] == pytest.approx(np.mean(centered**2), rel=1e-6)
    assert figures[names.SKILL] == pytest.approx(r_squared, rel=1e-6)


def test_an_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="measure is one of auc, accuracy, mse"):
        skill.Skill(measure="f1")
