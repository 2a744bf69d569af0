"""TFMA configuration: each network and the combined prediction evaluated as one model output.

The TFX Evaluator takes a single candidate model; the networks are its outputs, each with an
absolute bar and a change bar against the blessed baseline, and blessing needs all three
(network A, network B, combined) to pass. The label is read from the `transform_features`
signature (class ids for classification, the label in its own units for regression) and the
predictions from the `evaluation` signature, whose outputs are named after TFMA's outputs.
"""
from __future__ import annotations

from typing import List, Optional

import tensorflow_model_analysis as tfma

from modules import modes, names

GATED_OUTPUTS = (*names.NETWORKS, names.COMBINED)


def _threshold(lower: Optional[float] = None, upper: Optional[float] = None,
               change: Optional[tfma.GenericChangeThreshold] = None) -> tfma.MetricThreshold:
    bound = {"lower_bound": {"value": lower}} if lower is not None else {"upper_bound": {"value": upper}}
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(**bound), change_threshold=change)


def gated_metrics(task: str, min_accuracy: float, mse_bound: float, mae_bound: Optional[float],
                  max_regression: float) -> List[tfma.MetricConfig]:
    """Classification: accuracy >= min_accuracy, at most `max_regression` below the baseline.
    Regression: MSE (and MAE) under their bounds in label units, MSE at most `max_regression`
    times the baseline's above it (relative, so it means the same for any label scale)."""
    if task == modes.CLASSIFICATION:
        change = tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                             absolute={"value": -max_regression})
        return [tfma.MetricConfig(class_name="SparseCategoricalAccuracy", threshold=_threshold(lower=min_accuracy,
                                                                                              change=change))]
    change = tfma.GenericChangeThreshold(direction=tfma.MetricDirection.LOWER_IS_BETTER,
                                         relative={"value": max_regression})
    metrics = [tfma.MetricConfig(class_name="MeanSquaredError", threshold=_threshold(upper=mse_bound, change=change))]
    mae = _threshold(upper=mae_bound) if mae_bound is not None else None
    metrics.append(tfma.MetricConfig(class_name="MeanAbsoluteError", threshold=mae))
    return metrics


def eval_config(label_key: str, task: str, min_accuracy: float, mse_bound: float, mae_bound: Optional[float],
                max_regression: float) -> tfma.EvalConfig:
    model_spec = tfma.ModelSpec(
        signature_name=names.EVALUATION,
        preprocessing_function_names=[names.TRANSFORM_FEATURES],
        label_keys={output: label_key for output in GATED_OUTPUTS},
    )
    gated = tfma.MetricsSpec(output_names=list(GATED_OUTPUTS),
                             metrics=gated_metrics(task, min_accuracy, mse_bound, mae_bound, max_regression))
    counts = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")])
    return tfma.EvalConfig(model_specs=[model_spec], slicing_specs=[tfma.SlicingSpec()],
                           metrics_specs=[gated, counts])
