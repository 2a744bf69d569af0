"""The Evaluator's artifact read back: metrics per model and output, and the failed thresholds.

The run report and the local run's console summary both read the evaluation through here.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple


def tfma_metrics(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Overall slice: model (candidate, baseline, or `diff`) -> output -> metric -> value."""
    import tensorflow_model_analysis as tfma

    result: Dict[str, Dict[str, Dict[str, float]]] = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        if metrics.slice_key.single_slice_keys:
            continue
        for entry in metrics.metric_keys_and_values:
            if not entry.value.HasField("double_value"):
                continue
            model = "diff" if entry.key.is_diff else (entry.key.model_name or "candidate")
            output = entry.key.output_name or "all"
            result.setdefault(model, {}).setdefault(output, {})[entry.key.name] = (
                entry.value.double_value.value
            )
    return result


def slice_name(slice_key) -> str:
    """`island=Biscoe` (or `island=Biscoe, sex=male` for a crossed slice); '' for the overall."""
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        parts.append(f"{single.column}={value.decode() if isinstance(value, bytes) else value}")
    return ", ".join(parts)


def slice_metrics(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Every slice but the overall one, candidate model only: slice -> output -> metric -> value."""
    import tensorflow_model_analysis as tfma

    result: Dict[str, Dict[str, Dict[str, float]]] = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        name = slice_name(metrics.slice_key)
        if not name:
            continue
        for entry in metrics.metric_keys_and_values:
            if entry.key.is_diff or entry.key.model_name not in ("", "candidate"):
                continue
            if entry.value.HasField("double_value"):
                result.setdefault(name, {}).setdefault(entry.key.output_name or "all", {})[
                    entry.key.name
                ] = entry.value.double_value.value
    return dict(sorted(result.items()))


def validation(
    evaluation_uri: str, candidate: Optional[Dict[str, Dict[str, float]]] = None
) -> Tuple[bool, List[str]]:
    """Whether every threshold held, and per failed one a line with the measured value and the
    bound it missed (TFMA leaves its own message empty for these thresholds). `candidate`: the
    candidate's overall metrics when the caller has read them already (else read here)."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(evaluation_uri)
    failures = []
    if candidate is None and not result.validation_ok:
        candidate = tfma_metrics(evaluation_uri).get("candidate", {})
    for per_slice in result.metric_validations_per_slice:
        where = slice_name(per_slice.slice_key)
        for failure in per_slice.failures:
            line = failure_line(failure)
            if not where:
                line += against_trivial(failure, candidate)
            failures.append(f"slice {where}: {line}" if where else line)
    return bool(result.validation_ok), failures


def skill_figures(values: Dict[str, float]) -> Optional[Tuple[str, float, float]]:
    """(measure, ours, the best constant predictor's) behind one output's skill bar
    (`modules/skill.py`), or None when its metrics hold no skill figures."""
    from modules import names

    for measure, ours in names.MEASURED_BY.items():
        trivial = values.get(names.trivial_metric(measure))
        if trivial is not None and ours in values:
            return measure, values[ours], trivial
    return None


def against_trivial(failure, candidate: Dict[str, Dict[str, float]]) -> str:
    """For a missed skill or significance bar, our figure beside the best constant predictor's on
    the same rows, and for the latter the test: `: auc 0.52, the best constant predictor's 0.5
    (one-sided Mann-Whitney test on the eval rows)` ('' for any other bar)."""
    from modules import names

    name = failure.metric_key.name
    if name not in (names.SKILL, names.SKILL_P_VALUE) or failure.metric_threshold.HasField(
        "change_threshold"
    ):
        return ""
    found = skill_figures(candidate.get(failure.metric_key.output_name or "all", {}))
    if found is None:
        return ""
    measure, ours, trivial = found
    line = f": {measure} {ours:.4g}, the best constant predictor's {trivial:.4g}"
    if name == names.SKILL_P_VALUE:
        line += f" (one-sided {names.SIGNIFICANCE_TESTS[measure]} test on the eval rows)"
    return line


def failure_line(failure) -> str:
    """`network_a skill = S, below the bar B`, or for a change against the baseline
    `... changed by -D vs the baseline, beyond the allowed change -C`."""
    key, threshold = failure.metric_key, failure.metric_threshold
    value = failure.metric_value.double_value.value
    name = f"{key.output_name or 'all'} {key.name}"
    if threshold.HasField("change_threshold"):
        change = threshold.change_threshold
        bound = change.relative if change.HasField("relative") else change.absolute
        kind = "relative " if change.HasField("relative") else ""
        return (
            f"{name} changed by {value:+.4g} vs the baseline, beyond the allowed {kind}change "
            f"{bound.value:+.4g}"
        )
    bounds = threshold.value_threshold
    if bounds.HasField("lower_bound") and value < bounds.lower_bound.value:
        return f"{name} = {value:.4g}, below the bar {bounds.lower_bound.value:.4g}"
    if bounds.HasField("upper_bound") and value > bounds.upper_bound.value:
        return f"{name} = {value:.4g}, above the bar {bounds.upper_bound.value:.4g}"
    return f"{name} = {value:.4g}: {failure.message or 'threshold not met'}"
