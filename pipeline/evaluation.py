"""TFMA configuration: each network and the combined prediction evaluated as one model output.

The TFX Evaluator takes a single candidate model; the networks are its outputs, each with an
absolute bar and a change bar against the blessed baseline, and blessing needs all three
(network A, network B, combined) to pass. The label is read from the `transform_features`
signature (class ids for classification, the label in its own units for regression) and the
predictions from the `evaluation` signature, whose outputs are named after TFMA's outputs. With
several regression targets every output is split per target, each with its own bar in its own
units (an MSE averaged over targets of different scales would only see the largest).
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import tensorflow_model_analysis as tfma

from twinnorm.modules import modes, names
from twinnorm.pipeline.config import PipelineConfig

GATED_OUTPUTS = (*names.NETWORKS, names.COMBINED)


def _threshold(
    lower: Optional[float] = None,
    upper: Optional[float] = None,
    change: Optional[tfma.GenericChangeThreshold] = None,
) -> tfma.MetricThreshold:
    bound = (
        {"lower_bound": {"value": lower}}
        if lower is not None
        else {"upper_bound": {"value": upper}}
    )
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(**bound), change_threshold=change
    )


def _overall(threshold: tfma.MetricThreshold) -> tfma.PerSliceMetricThreshold:
    """A bar of the overall slice only: a MetricConfig's plain `threshold` would hold every slice
    of `--slice-by` to it too, so a 4-example slice could block a blessing."""
    return tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)


def accuracy_metrics(
    min_accuracy: float,
    max_regression: float,
    slice_by: Sequence[str] = (),
    min_slice_accuracy: Optional[float] = None,
) -> List[tfma.MetricConfig]:
    """Accuracy >= min_accuracy, at most `max_regression` below the baseline; with
    `min_slice_accuracy`, also >= that in every slice of each `slice_by` column."""
    change = tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_regression}
    )
    per_slice = [_overall(_threshold(lower=min_accuracy, change=change))]
    if min_slice_accuracy is not None and slice_by:
        per_slice.append(
            tfma.PerSliceMetricThreshold(
                slicing_specs=slicing_specs(slice_by)[1:],
                threshold=_threshold(lower=min_slice_accuracy),
            )
        )
    return [
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy", per_slice_thresholds=per_slice)
    ]


def error_metrics(
    mse_bound: float, mae_bound: Optional[float], max_regression: float
) -> List[tfma.MetricConfig]:
    """MSE (and MAE) under their bounds in label units, MSE at most `max_regression` times the
    baseline's above it (relative, so it means the same for any label scale)."""
    change = tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.LOWER_IS_BETTER, relative={"value": max_regression}
    )
    mae = [_overall(_threshold(upper=mae_bound))] if mae_bound is not None else []
    return [
        tfma.MetricConfig(
            class_name="MeanSquaredError",
            per_slice_thresholds=[_overall(_threshold(upper=mse_bound, change=change))],
        ),
        tfma.MetricConfig(class_name="MeanAbsoluteError", per_slice_thresholds=mae),
    ]


def gated_specs(config: PipelineConfig) -> List[tfma.MetricsSpec]:
    if config.trainer.task == modes.CLASSIFICATION:
        return [
            tfma.MetricsSpec(
                output_names=list(GATED_OUTPUTS),
                metrics=accuracy_metrics(
                    config.min_accuracy,
                    config.max_regression,
                    config.slice_by,
                    config.min_slice_accuracy,
                ),
            )
        ]
    columns = config.label_columns
    if len(columns) == 1:
        return [
            tfma.MetricsSpec(
                output_names=list(GATED_OUTPUTS),
                metrics=error_metrics(*config.regression_bounds(), config.max_regression),
            )
        ]
    return [
        tfma.MetricsSpec(
            output_names=[names.target_output(o, column) for o in GATED_OUTPUTS],
            metrics=error_metrics(*config.regression_bounds(j), config.max_regression),
        )
        for j, column in enumerate(columns)
    ]


def label_keys(config: PipelineConfig) -> dict:
    """TFMA output -> the `transform_features` key of its label."""
    if config.trainer.task == modes.REGRESSION and len(config.label_columns) > 1:
        return {names.target_output(o, c): c for o in GATED_OUTPUTS for c in config.label_columns}
    return {output: config.label_key for output in GATED_OUTPUTS}


def slicing_specs(slice_by: Sequence[str]) -> List[tfma.SlicingSpec]:
    """The overall slice, then one slice per value of each column (raw CSV values)."""
    return [tfma.SlicingSpec(), *(tfma.SlicingSpec(feature_keys=[c]) for c in slice_by)]


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    model_spec = tfma.ModelSpec(
        signature_name=names.EVALUATION,
        preprocessing_function_names=[names.EVALUATION_LABELS],
        label_keys=label_keys(config),
    )
    counts = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")])
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=slicing_specs(config.slice_by),
        metrics_specs=[*gated_specs(config), counts],
    )
