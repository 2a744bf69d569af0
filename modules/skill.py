"""Skill over the best constant predictor: the TFMA metric the Evaluator blesses on by default.

An absolute bar is a number about one dataset (accuracy 0.9 is easy on penguins, unreachable on a
credit file, and met by answering "no" on a 3 %-positive label). Skill is measured against the
trivial predictor on the same eval rows, so one default bar means the same on any CSV:

    skill = (ours - trivial) / (perfect - trivial)

- `auc` (binary): any constant score has AUC 0.5, so skill = 2 AUC - 1 (the Gini coefficient).
- `accuracy` (more classes): trivial is the majority class of the eval rows.
- `mse` (regression): trivial is the mean of the eval rows, so skill = R^2 on those rows.

The trivial predictors use the eval rows' own majority and mean, which score at least as well as the
train split's, so the bar is never easier than one against the train split's constant.

`skill_p_value` says whether ours beats the trivial predictor by more than the eval split's size
leaves to chance (one-sided; the default bar holds it below 0.01, `--max-p-value`):

- `auc`: the Mann-Whitney normal approximation, z = (AUC - 0.5) / sqrt((n1 + n0 + 1) / (12 n1 n0));
- `accuracy`: binomial, P(X >= correct) for X ~ Binomial(rows, majority share): a prediction that
  ignores the label is right at most the majority share of the time;
- `mse`: Pearson's correlation of prediction and label, t = r sqrt(n - 2) / sqrt(1 - r^2) on n - 2
  degrees of freedom (with skill > 0, the default `--min-skill`, that the prediction beats the mean).

Loaded by the Evaluator by module name (`MetricConfig(module=...)`); the accumulators are sums
(counts, a histogram, Chan's mean and M2), so Beam may merge them in any order.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, List, Optional

import apache_beam as beam
import numpy as np
from scipy import stats
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.proto import config_pb2

from modules.names import (
    ACCURACY,
    AUC,
    MSE,
    SKILL,
    SKILL_MEASURES,
    SKILL_P_VALUE,
    trivial_metric,
)

AUC_BUCKETS = 10_000  # as TFMA's own AUC: scores in [0, 1] bucketed, ties within a bucket count 1/2


class Skill(metric_types.Metric):
    """Skill of `measure` (auc | accuracy | mse) over the best constant predictor, with the
    trivial predictor's figure (and AUC itself, which no other configured metric gives)."""

    statistic = SKILL

    def __init__(self, name: str = "", measure: str = ACCURACY, code: str = ""):
        """`code` is the fingerprint of this module (pipeline/code_version.py), carried in the
        Evaluator's config only so an edit here re-runs the Evaluator; it changes nothing."""
        del code
        if measure not in SKILL_MEASURES:
            raise ValueError(f"measure is one of {', '.join(SKILL_MEASURES)}, got {measure!r}")
        super().__init__(
            metric_util.merge_per_key_computations(_computations),
            name=name or self.statistic,
            measure=measure,
            statistic=self.statistic,
        )


class SkillPValue(Skill):
    """The one-sided p-value of the skill (module docstring) as a metric of its own: TFMA holds a
    bar only on a metric config's own key (a `MetricsSpec`-level bar on a sub-metric is looked up
    as example-weighted None and never found)."""

    statistic = SKILL_P_VALUE


metric_types.register_metric(Skill)
metric_types.register_metric(SkillPValue)


def _computations(
    name: str = SKILL,
    measure: str = ACCURACY,
    statistic: str = SKILL,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    def key(metric: str) -> metric_types.MetricKey:
        return metric_types.MetricKey(
            name=metric,
            model_name=model_name,
            output_name=output_name,
            example_weighted=example_weighted,
        )

    if statistic == SKILL_P_VALUE:
        keys = {SKILL_P_VALUE: key(name)}
    else:
        keys = {SKILL: key(name), trivial_metric(measure): key(trivial_metric(measure))}
        if measure == AUC:
            keys[AUC] = key(AUC)
    return [
        metric_types.MetricComputation(
            keys=list(keys.values()),
            preprocessors=None,
            combiner=_SkillCombiner(keys, measure, eval_config, model_name, output_name),
        )
    ]


@dataclasses.dataclass
class _Accumulator:
    # auc: weight of positives and negatives per score bucket
    positives: Optional[np.ndarray] = None
    negatives: Optional[np.ndarray] = None
    # accuracy: label weight per class and weight of correct answers
    classes: Dict[int, float] = dataclasses.field(default_factory=dict)
    correct: float = 0.0
    # mse: weight, mean and M2 of the label (Chan et al.: no raw sums of squares, so labels near
    # 1e12 keep their variance to ~1e-7 relative), the weighted squared error, and the mean and
    # M2 of the prediction with the co-moment of the two (for the correlation test)
    weight: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    squared_error: float = 0.0
    predicted_mean: float = 0.0
    predicted_m2: float = 0.0
    comoment: float = 0.0

    def merge(self, other: "_Accumulator") -> None:
        if other.positives is not None:
            if self.positives is None:
                self.positives, self.negatives = np.zeros(AUC_BUCKETS), np.zeros(AUC_BUCKETS)
            self.positives += other.positives
            self.negatives += other.negatives
        for label, weight in other.classes.items():
            self.classes[label] = self.classes.get(label, 0.0) + weight
        self.correct += other.correct
        total = self.weight + other.weight
        if other.weight:
            share = self.weight * other.weight / total
            delta = other.mean - self.mean
            predicted_delta = other.predicted_mean - self.predicted_mean
            self.m2 += other.m2 + delta * delta * share
            self.predicted_m2 += other.predicted_m2 + predicted_delta * predicted_delta * share
            self.comoment += other.comoment + delta * predicted_delta * share
            self.mean += delta * other.weight / total
            self.predicted_mean += predicted_delta * other.weight / total
        self.weight = total
        self.squared_error += other.squared_error


class _SkillCombiner(beam.CombineFn):
    def __init__(
        self,
        keys: Dict[str, metric_types.MetricKey],
        measure: str,
        eval_config: Optional[config_pb2.EvalConfig],
        model_name: str,
        output_name: str,
    ):
        self._keys, self._measure = keys, measure
        self._eval_config, self._model_name, self._output_name = (
            eval_config,
            model_name,
            output_name,
        )

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator()

    def add_input(
        self, accumulator: _Accumulator, element: metric_types.StandardMetricInputs
    ) -> _Accumulator:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._model_name,
            output_name=self._output_name,
            flatten=False,
        ):
            w = float(metric_util.safe_to_scalar(weight))
            if self._measure == MSE:
                y, p = float(np.asarray(label).item()), float(np.asarray(prediction).item())
                accumulator.merge(
                    _Accumulator(weight=w, mean=y, predicted_mean=p, squared_error=w * (y - p) ** 2)
                )
                continue
            truth, scores = int(np.asarray(label).item()), np.asarray(prediction).ravel()
            if self._measure == AUC:
                if accumulator.positives is None:
                    accumulator.positives = np.zeros(AUC_BUCKETS)
                    accumulator.negatives = np.zeros(AUC_BUCKETS)
                bucket = min(max(int(float(scores[-1]) * AUC_BUCKETS), 0), AUC_BUCKETS - 1)
                (accumulator.positives if truth == 1 else accumulator.negatives)[bucket] += w
            else:
                accumulator.classes[truth] = accumulator.classes.get(truth, 0.0) + w
                accumulator.correct += w * float(int(np.argmax(scores)) == truth)
            accumulator.weight += w
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[_Accumulator]) -> _Accumulator:
        accumulators = iter(accumulators)
        result = next(accumulators)
        for accumulator in accumulators:
            result.merge(accumulator)
        return result

    def extract_output(self, accumulator: _Accumulator) -> metric_types.MetricsDict:
        if SKILL_P_VALUE in self._keys:
            return {self._keys[SKILL_P_VALUE]: p_value(accumulator, self._measure)}
        ours, trivial, perfect = figures(accumulator, self._measure)
        skill = (ours - trivial) / (perfect - trivial) if perfect != trivial else float("nan")
        result = {
            self._keys[SKILL]: skill,
            self._keys[trivial_metric(self._measure)]: trivial,
        }
        if self._measure == AUC:
            result[self._keys[AUC]] = ours
        return result


def figures(accumulator: _Accumulator, measure: str) -> List[float]:
    """(ours, trivial, perfect) of `measure`; NaN where the rows cannot define it (one class only,
    a constant label)."""
    if measure == AUC:
        pos, neg = accumulator.positives, accumulator.negatives
        if pos is None or not pos.sum() or not neg.sum():
            return [float("nan"), 0.5, 1.0]
        below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])  # negatives in lower buckets
        auc = float(np.sum(pos * (below + neg / 2)) / (pos.sum() * neg.sum()))
        return [auc, 0.5, 1.0]
    if measure == ACCURACY:
        if not accumulator.weight:
            return [float("nan"), float("nan"), 1.0]
        majority = max(accumulator.classes.values()) / accumulator.weight
        return [accumulator.correct / accumulator.weight, majority, 1.0]
    if not accumulator.weight:
        return [float("nan"), float("nan"), 0.0]
    return [
        accumulator.squared_error / accumulator.weight,
        accumulator.m2 / accumulator.weight,
        0.0,
    ]


def p_value(accumulator: _Accumulator, measure: str) -> float:
    """One-sided p-value of ours beating the best constant predictor on these rows (module
    docstring); 1.0 where the rows cannot show it (one class only, a constant label or
    prediction, fewer than 3 rows)."""
    if measure == AUC:
        auc = figures(accumulator, AUC)[0]
        if np.isnan(auc):
            return 1.0
        n1, n0 = float(accumulator.positives.sum()), float(accumulator.negatives.sum())
        spread = np.sqrt((n1 + n0 + 1.0) / (12.0 * n1 * n0))
        return float(stats.norm.sf((auc - 0.5) / spread))
    rows = int(round(accumulator.weight))
    if measure == ACCURACY:
        if not rows:
            return 1.0
        majority = max(accumulator.classes.values()) / accumulator.weight
        correct = int(round(accumulator.correct))
        return float(stats.binom.sf(correct - 1, rows, majority))
    spread = accumulator.m2 * accumulator.predicted_m2
    if rows < 3 or spread <= 0:
        return 1.0
    r = min(accumulator.comoment / np.sqrt(spread), 1.0 - 1e-15)
    return float(stats.t.sf(r * np.sqrt((rows - 2) / (1.0 - r * r)), rows - 2))
