"""TFMA configuration: each network and the combined prediction evaluated as one model output.

The TFX Evaluator takes a single candidate model; the networks are its outputs, each held to the
default bars (better than the best constant predictor on the eval rows beyond chance, and by at
least `--min-skill`; `modules/skill.py`), to a
change bar against the blessed baseline's skill, and to any absolute bar the user gives (accuracy,
MSE, MAE); blessing needs all three (network A, network B, combined) to pass. The label is read
from the `transform_features` signature (class ids for classification, the label in its own
units for regression) and the predictions from the `evaluation` signature, whose outputs are
named after TFMA's outputs. With several regression targets every output is split per target,
each with its own bars in its own units (an MSE averaged over targets of different scales would
only see the largest).
"""

from __future__ import annotations

import json
from typing import List, Optional, Sequence

import tensorflow_model_analysis as tfma

from modules import modes, names, skill
from pipeline.config import PipelineConfig

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


def skill_metrics(
    measure: str, min_skill: float, max_regression: float, max_p_value: float, code: str = ""
) -> List[tfma.MetricConfig]:
    """The default bars: skill over the best constant predictor on the eval rows >= `min_skill`
    with a one-sided p-value below `max_p_value` (better beyond chance), and at most
    `max_regression` below the blessed baseline's (see `modules/skill.py`)."""
    change = tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_regression}
    )
    config = json.dumps({"measure": measure, **({"code": code} if code else {})})
    return [
        tfma.MetricConfig(
            class_name=metric.__name__,
            module=skill.__name__,
            config=config,
            per_slice_thresholds=[_overall(threshold)],
        )
        for metric, threshold in (
            (skill.Skill, _threshold(lower=min_skill, change=change)),
            (skill.SkillPValue, _threshold(upper=max_p_value)),
        )
    ]


def accuracy_metrics(
    min_accuracy: Optional[float],
    slice_by: Sequence[str] = (),
    min_slice_accuracy: Optional[float] = None,
) -> List[tfma.MetricConfig]:
    """Accuracy, shown always and held to `min_accuracy` when one is given; with
    `min_slice_accuracy`, also >= that in every slice of each `slice_by` column."""
    per_slice = [] if min_accuracy is None else [_overall(_threshold(lower=min_accuracy))]
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
    mse_bound: Optional[float], mae_bound: Optional[float]
) -> List[tfma.MetricConfig]:
    """MSE and MAE in label units, each held to its bound when one is given."""
    return [
        tfma.MetricConfig(
            class_name=class_name,
            per_slice_thresholds=[_overall(_threshold(upper=bound))] if bound is not None else [],
        )
        for class_name, bound in (("MeanSquaredError", mse_bound), ("MeanAbsoluteError", mae_bound))
    ]


def skill_measure(config: PipelineConfig) -> str:
    """AUC for two classes, accuracy for more, MSE for regression."""
    if config.trainer.task == modes.REGRESSION:
        return names.MSE
    return names.AUC if config.label_classes == 2 else names.ACCURACY


def gated_specs(config: PipelineConfig, code: str = "") -> List[tfma.MetricsSpec]:
    """`code`: the fingerprint of the metric's module (pipeline/code_version.py), in its config
    so that the Evaluator's properties change, and it re-runs, when that code does."""
    bars = skill_metrics(
        skill_measure(config), config.min_skill, config.max_regression, config.max_p_value, code
    )
    if config.trainer.task == modes.CLASSIFICATION:
        metrics = accuracy_metrics(config.min_accuracy, config.slice_by, config.min_slice_accuracy)
        return [tfma.MetricsSpec(output_names=list(GATED_OUTPUTS), metrics=[*bars, *metrics])]
    errors = error_metrics(config.max_mse, config.max_mae)
    columns = config.label_columns
    outputs = (
        [list(GATED_OUTPUTS)]
        if len(columns) == 1
        else [
            [names.target_output(o, names.internal_key(column)) for o in GATED_OUTPUTS]
            for column in columns
        ]
    )
    return [tfma.MetricsSpec(output_names=o, metrics=[*bars, *errors]) for o in outputs]


def label_keys(config: PipelineConfig) -> dict:
    """TFMA output -> the `transform_features` key of its label."""
    if config.trainer.task == modes.REGRESSION and len(config.label_columns) > 1:
        keys = [names.internal_key(c) for c in config.label_columns]
        return {names.target_output(o, k): k for o in GATED_OUTPUTS for k in keys}
    return {output: config.label_key for output in GATED_OUTPUTS}


def slicing_specs(slice_by: Sequence[str]) -> List[tfma.SlicingSpec]:
    """The overall slice, then one slice per value of each column (raw CSV values)."""
    return [tfma.SlicingSpec(), *(tfma.SlicingSpec(feature_keys=[c]) for c in slice_by)]


def eval_config(config: PipelineConfig, code: str = "") -> tfma.EvalConfig:
    model_spec = tfma.ModelSpec(
        signature_name=names.EVALUATION,
        preprocessing_function_names=[names.EVALUATION_LABELS],
        label_keys=label_keys(config),
    )
    counts = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")])
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=slicing_specs(config.slice_by),
        metrics_specs=[*gated_specs(config, code), counts],
    )
