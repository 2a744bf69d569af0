"""The Evaluator's configuration: the data-relative default bars for each task, absolute bars only
when given."""

import dataclasses
import json

import pytest

from modules import names
from pipeline import evaluation
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve

TASKS = (
    ("data/penguins.csv", "species", names.ACCURACY),
    ("data/binary/breast_cancer.csv", "malignant", names.AUC),
    ("data/regression/diabetes.csv", "progression", names.MSE),
)


def bars(config: PipelineConfig) -> dict:
    """class name -> (config, [(lower, upper, change) of each threshold])."""
    (spec,) = evaluation.gated_specs(config)
    found = {}
    for metric in spec.metrics:
        found[metric.class_name] = (
            metric.config,
            [
                (
                    t.threshold.value_threshold.lower_bound.value
                    if t.threshold.value_threshold.HasField("lower_bound")
                    else None,
                    t.threshold.value_threshold.upper_bound.value
                    if t.threshold.value_threshold.HasField("upper_bound")
                    else None,
                    t.threshold.change_threshold.absolute.value
                    if t.threshold.HasField("change_threshold")
                    else None,
                )
                for t in metric.per_slice_thresholds
            ],
        )
    return found


@pytest.mark.parametrize("data,label,measure", TASKS)
def test_by_default_only_the_skill_bar_gates(data, label, measure):
    config = resolve(PipelineConfig(data=data, label=label, output="/tmp/unused"))
    found = bars(config)
    skill_config, thresholds = found["Skill"]
    assert json.loads(skill_config) == {"measure": measure}
    assert thresholds == [(0.0, None, -0.05)]  # skill >= 0, at most 0.05 below the baseline's
    # and the skill's one-sided p-value below 0.01
    p_value_config, p_value_thresholds = found["SkillPValue"]
    assert json.loads(p_value_config) == {"measure": measure}
    assert p_value_thresholds == [(None, 0.01, None)]
    gated = {"Skill", "SkillPValue"}
    assert all(not t for name, (_, t) in found.items() if name not in gated), found


def test_absolute_bars_apply_when_given():
    config = resolve(
        PipelineConfig(
            data="data/regression/diabetes.csv",
            label="progression",
            output="/tmp/unused",
            max_mse=4000.0,
            max_mae=50.0,
            min_skill=0.3,
        )
    )
    found = bars(config)
    assert found["Skill"][1] == [(0.3, None, -0.05)]
    assert found["MeanSquaredError"][1] == [(None, 4000.0, None)]
    assert found["MeanAbsoluteError"][1] == [(None, 50.0, None)]
    penguins = resolve(PipelineConfig(min_accuracy=0.95, output="/tmp/unused"))
    assert bars(penguins)["SparseCategoricalAccuracy"][1] == [(0.95, None, None)]


def test_slices_bar_only_the_overall_slice_unless_a_slice_bar_is_given(tmp_path):
    from pipeline.evaluation import eval_config

    config = resolve(dataclasses.replace(PipelineConfig(), slice_by=("island",)))
    evaluation = eval_config(config)
    assert [list(s.feature_keys) for s in evaluation.slicing_specs] == [[], ["island"]]
    *skill_bars, accuracy = evaluation.metrics_specs[0].metrics
    for skill in skill_bars:
        assert not skill.HasField("threshold")  # a plain threshold would bar every slice
        assert [len(t.slicing_specs[0].feature_keys) for t in skill.per_slice_thresholds] == [0]
    assert not accuracy.per_slice_thresholds  # no absolute bar unless given
    barred = dataclasses.replace(config, min_slice_accuracy=0.8)
    *_, accuracy = eval_config(barred).metrics_specs[0].metrics
    (island,) = accuracy.per_slice_thresholds
    assert list(island.slicing_specs[0].feature_keys) == ["island"]
    assert island.threshold.value_threshold.lower_bound.value == pytest.approx(0.8)
    for bad, message in (
        (dict(slice_by=("nope",)), "slice column.s. nope not in"),
        (dict(min_slice_accuracy=0.8), "min_slice_accuracy needs slice_by"),
        (dict(slice_by=("island",), min_slice_accuracy=80.0), "min_slice_accuracy is a fraction"),
    ):
        with pytest.raises(ValueError, match=message):
            resolve(dataclasses.replace(PipelineConfig(), **bad))
