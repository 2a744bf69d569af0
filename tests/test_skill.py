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
    """The figures of both metrics (skill and its p-value) over the rows."""
    return {
        name: value
        for metric in (skill.Skill, skill.SkillPValue)
        for name, value in computed_by(metric, measure, labels, predictions, chunks).items()
    }


def computed_by(metric: type, measure: str, labels, predictions, chunks: int) -> dict:
    """`metric`'s figures over the rows, fed as TFMA feeds it (one example at a time), split
    into `chunks` accumulators merged at the end."""
    instance = metric_specs.metric_instance(
        tfma.MetricConfig(
            class_name=metric.__name__,
            module=skill.__name__,
            config=json.dumps({"measure": measure}),
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


def test_p_values_match_scipys_tests():
    from scipy import stats

    rng = np.random.default_rng(11)
    labels = rng.integers(0, 3, 400)
    predicted = np.where(rng.random(400) < 0.45, labels, rng.integers(0, 3, 400))
    figures = computed(names.ACCURACY, labels, np.eye(3)[predicted], chunks=3)
    majority = np.bincount(labels).max() / 400
    expected = stats.binomtest(int((predicted == labels).sum()), 400, majority, "greater").pvalue
    assert figures[names.SKILL_P_VALUE] == pytest.approx(expected, rel=1e-9)

    y = rng.normal(size=300)
    p = 0.15 * y + rng.normal(size=300)
    figures = computed(names.MSE, y, p, chunks=4)
    expected = stats.pearsonr(p, y, alternative="greater").pvalue
    assert figures[names.SKILL_P_VALUE] == pytest.approx(expected, rel=1e-6)

    binary = (rng.random(500) < 0.3).astype(int)
    p1 = rng.random(500) * 0.6 + 0.4 * binary * rng.random(500)
    figures = computed(names.AUC, binary, np.stack([1 - p1, p1], axis=1), chunks=2)
    expected = stats.mannwhitneyu(
        p1[binary == 1],
        p1[binary == 0],
        alternative="greater",
        use_continuity=False,
        method="asymptotic",
    ).pvalue
    assert figures[names.SKILL_P_VALUE] == pytest.approx(expected, rel=0.02)  # 10,000 buckets


def blessed(figures: dict) -> bool:
    """The default bars: the p-value below 0.01 and skill >= 0 (pipeline/config.py)."""
    return figures[names.SKILL_P_VALUE] < 0.01 and figures[names.SKILL] >= 0.0


def noisy_table(rng: np.random.Generator, rows: int, classes: int = 6, signal: float = 1.0):
    """Six numeric columns, a label of `classes` unbalanced classes that the first two columns
    move (the rest is noise)."""
    x = rng.normal(size=(rows, 6))
    logits = signal * np.stack(
        [x[:, 0] * (k - 2.5) / 2 + x[:, 1] * (k % 2) for k in range(classes)], 1
    )
    logits += np.log(np.linspace(1.0, 2.0, classes))  # unbalanced priors
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return x, np.array([rng.choice(classes, p=row) for row in p])


@pytest.mark.parametrize("measure", [names.ACCURACY, names.AUC, names.MSE])
def test_shuffled_labels_are_blessed_in_at_most_5_percent_of_seeds(measure):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    passed = 0
    seeds = 200
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x, label = noisy_table(rng, 900)
        if measure == names.AUC:
            label = (label >= 3).astype(int)
        label = rng.permutation(label)  # no column says anything about it
        train, test = slice(0, 600), slice(600, 900)
        if measure == names.MSE:
            y = label + rng.normal(size=900)
            predicted = LinearRegression().fit(x[train], y[train]).predict(x[test])
            figures = computed(measure, y[test], predicted)
        else:
            model = LogisticRegression(max_iter=200).fit(x[train], label[train])
            figures = computed(measure, label[test], model.predict_proba(x[test]))
        passed += blessed(figures)
    assert passed <= 0.05 * seeds, passed


def test_a_noisy_six_class_model_at_one_and_a_half_times_the_majority_is_blessed():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x, label = noisy_table(rng, 6000, signal=0.6)
    model = LogisticRegression(max_iter=500).fit(x[:4800], label[:4800])
    figures = computed(names.ACCURACY, label[4800:], model.predict_proba(x[4800:]))
    accuracy = (
        figures[names.SKILL] * (1 - figures["trivial_accuracy"]) + figures["trivial_accuracy"]
    )
    majority = figures["trivial_accuracy"]
    assert accuracy / majority == pytest.approx(1.5, abs=0.15), (accuracy, majority)
    assert figures[names.SKILL] < 0.2  # the old default bar refused it
    assert blessed(figures), figures
