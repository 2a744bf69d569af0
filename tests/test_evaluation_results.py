"""The Evaluator's results read back (components/evaluation_results.py): a failed bar as one line
with the measured value, the bound it missed and, for the skill bar, the constant predictor's."""

from tensorflow_model_analysis.proto import metrics_for_slice_pb2, validation_result_pb2

from components.evaluation_results import against_trivial, failure_line, skill_figures, slice_name
from modules import names


def failure(name: str, output: str, value: float, lower=None, change=None):
    result = validation_result_pb2.ValidationFailure()
    result.metric_key.name, result.metric_key.output_name = name, output
    result.metric_value.double_value.value = value
    if lower is not None:
        result.metric_threshold.value_threshold.lower_bound.value = lower
    if change is not None:
        result.metric_threshold.change_threshold.absolute.value = change
    return result


def test_a_missed_bar_and_a_missed_change_are_one_line_each():
    assert failure_line(failure("accuracy", "network_a", 0.8, lower=0.9)) == (
        "network_a accuracy = 0.8, below the bar 0.9"
    )
    assert failure_line(failure("accuracy", "", -0.05, change=-0.01)) == (
        "all accuracy changed by -0.05 vs the baseline, beyond the allowed change -0.01"
    )


def test_a_missed_skill_bar_names_the_constant_predictors_figure():
    measure, ours = next(iter(names.MEASURED_BY.items()))
    candidate = {"network_a": {ours: 0.52, names.trivial_metric(measure): 0.5}}
    assert skill_figures(candidate["network_a"]) == (measure, 0.52, 0.5)
    missed = failure(names.SKILL, "network_a", 0.04, lower=0.1)
    assert against_trivial(missed, candidate) == (
        f": {measure} 0.52, the best constant predictor's 0.5"
    )
    assert against_trivial(failure("accuracy", "network_a", 0.5, lower=0.9), candidate) == ""
    assert skill_figures({}) is None


def test_a_missed_significance_bar_names_the_test_and_the_figures():
    candidate = {"combined": {names.AUC: 0.53, names.trivial_metric(names.AUC): 0.5}}
    missed = failure(names.SKILL_P_VALUE, "combined", 0.2)
    missed.metric_threshold.value_threshold.upper_bound.value = 0.01
    line = failure_line(missed) + against_trivial(missed, candidate)
    assert line == (
        "combined skill_p_value = 0.2, above the bar 0.01: auc 0.53, the best constant "
        "predictor's 0.5 (one-sided Mann-Whitney test on the eval rows)"
    )


def test_slice_names_read_as_column_equals_value():
    key = metrics_for_slice_pb2.SliceKey()
    assert slice_name(key) == ""
    island = key.single_slice_keys.add()
    island.column, island.bytes_value = "island", b"Biscoe"
    year = key.single_slice_keys.add()
    year.column, year.int64_value = "year", 2008
    assert slice_name(key) == "island=Biscoe, year=2008"
