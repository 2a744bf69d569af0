"""TFMA configuration: each network (and the combined prediction) evaluated as one model output.

The TFX Evaluator takes a single candidate model; the networks are its outputs, each with an
absolute bar and a change bar against the blessed baseline. The label is read from the
`transform_features` signature, so string labels are compared as Transform's class ids, and
predictions from the `evaluation` signature, whose outputs are named after TFMA's outputs.
"""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from modules import names

GATED_OUTPUTS = names.NETWORKS  # blessing requires both networks to pass


def eval_config(label_key: str, task: str, min_accuracy: float, max_mse: float,
                max_regression: float) -> tfma.EvalConfig:
    model_spec = tfma.ModelSpec(
        signature_name=names.EVALUATION,
        preprocessing_function_names=[names.TRANSFORM_FEATURES],
        label_keys={output: label_key for output in (*names.NETWORKS, names.COMBINED)},
    )
    if task == "classification":
        metric, bound, direction = "SparseCategoricalAccuracy", {"lower_bound": {"value": min_accuracy}}, \
            tfma.MetricDirection.HIGHER_IS_BETTER
        change = -max_regression
    else:
        metric, bound, direction = "MeanSquaredError", {"upper_bound": {"value": max_mse}}, \
            tfma.MetricDirection.LOWER_IS_BETTER
        change = max_regression
    threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(**bound),
        change_threshold=tfma.GenericChangeThreshold(direction=direction, absolute={"value": change}))
    gated = tfma.MetricsSpec(output_names=list(GATED_OUTPUTS),
                             metrics=[tfma.MetricConfig(class_name=metric, threshold=threshold)])
    reported = tfma.MetricsSpec(output_names=[names.COMBINED],
                                metrics=[tfma.MetricConfig(class_name=metric)])
    counts = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")])
    return tfma.EvalConfig(model_specs=[model_spec], slicing_specs=[tfma.SlicingSpec()],
                           metrics_specs=[gated, reported, counts])
