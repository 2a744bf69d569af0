"""The Evaluator's artifact read back: metrics per model and output, and the failed thresholds.

The run report and the local run's console summary both read the evaluation through here.
"""

from __future__ import annotations

from typing import Dict, List, Tuple


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


def validation(evaluation_uri: str) -> Tuple[bool, List[str]]:
    """Whether every threshold held, and a line per failed one."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(evaluation_uri)
    failures = []
    for failure in result.metric_validations_per_slice:
        for threshold in failure.failures:
            failures.append(
                f"{threshold.metric_key.output_name or 'all'} {threshold.metric_key.name}"
                f"{' (change vs baseline)' if threshold.metric_key.is_diff else ''}: "
                f"{threshold.message}"
            )
    return bool(result.validation_ok), failures
