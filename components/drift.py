"""Drift against the last blessed run: its statistics, found by lineage, and the comparators.

TFX's DistributionValidator compares this run's statistics with a baseline's, per split, with
TFDV's drift comparators (L-infinity distance for categorical columns, approximate Jensen-Shannon
divergence for numeric ones). The baseline is the statistics of the data the latest blessed model
was evaluated on: `BlessedRunStatistics` walks ML Metadata from that ModelBlessing to its
Evaluator execution, to the Examples it read, to the StatisticsGen output of those Examples.
Before the first blessing there is no baseline and the validator does not run.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.components.evaluator.constants import ARTIFACT_PROPERTY_BLESSED_KEY as BLESSED
from tfx.components.evaluator.constants import BLESSED_VALUE
from tfx.dsl.components.common import resolver
from tfx.proto import distribution_validator_pb2
from tfx.types import standard_artifacts

STATISTICS = "statistics"
BLESSING = "model_blessing"
STATISTICS_GEN_OUTPUT = "statistics"  # StatisticsGen's output key (Transform's differ)


class BlessedRunStatistics(resolver.ResolverStrategy):
    """Resolves the ExampleStatistics of the examples the latest blessed model was evaluated on."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]):
        blessings = [
            b
            for b in input_dict.get(BLESSING, [])
            if b.get_int_custom_property(BLESSED) == BLESSED_VALUE
        ]
        if not blessings:
            return {STATISTICS: [], BLESSING: []}
        blessing = max(blessings, key=lambda b: b.id)
        statistics = {s.id: s for s in input_dict.get(STATISTICS, [])}
        found = _statistics_of_blessed(store, blessing.id, statistics)
        return {STATISTICS: [found] if found else [], BLESSING: [blessing]}


def linked_artifacts(store, artifact_ids: List[int], via: int, to: int, key: str) -> List[int]:
    """One lineage hop in ML Metadata: the executions that have `artifact_ids` as `via` events
    (Event.OUTPUT: that produced them; Event.INPUT: that read them), then those executions'
    `to` artifacts under `key`."""
    executions = [
        e.execution_id for e in store.get_events_by_artifact_ids(artifact_ids) if e.type == via
    ]
    return [
        e.artifact_id
        for e in store.get_events_by_execution_ids(executions)
        if e.type == to and e.path.steps and e.path.steps[0].key == key
    ]


def _statistics_of_blessed(store, blessing_id: int, statistics: Dict[int, types.Artifact]):
    output, read = metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.INPUT
    examples = linked_artifacts(store, [blessing_id], output, read, "examples")  # the Evaluator's
    # StatisticsGen's `statistics` of those examples, not Transform's pre-/post-transform ones
    produced = linked_artifacts(store, examples, read, output, STATISTICS_GEN_OUTPUT)
    produced = [a for a in produced if a in statistics]
    return statistics[max(produced)] if produced else None


def baseline_statistics_resolver():
    from components import tfx_api as tfx

    return tfx.dsl.Resolver(
        strategy_class=BlessedRunStatistics,
        **{
            STATISTICS: tfx.dsl.Channel(type=standard_artifacts.ExampleStatistics),
            BLESSING: tfx.dsl.Channel(type=standard_artifacts.ModelBlessing),
        },
    ).with_id("blessed_statistics_resolver")


def validator_config(
    columns: Sequence[str], numeric: Sequence[str], max_jsd: float, max_linf: float
) -> distribution_validator_pb2.DistributionValidatorConfig:
    """A comparator per column: Jensen-Shannon divergence above `max_jsd` (numeric) or
    L-infinity distance above `max_linf` (categorical) is an anomaly."""
    config = distribution_validator_pb2.DistributionValidatorConfig()
    for column in columns:
        feature = config.default_slice_config.feature.add()
        feature.path.step.append(column)
        comparator = feature.distribution_comparator
        if column in numeric:
            comparator.jensen_shannon_divergence.threshold = max_jsd
        else:
            comparator.infinity_norm.threshold = max_linf
    return config


def measurements(anomalies) -> Dict[str, Dict[str, float]]:
    """column -> {comparator: measured distance, `<comparator>_threshold`: its bar}."""
    result: Dict[str, Dict[str, float]] = {}
    for info in anomalies.drift_skew_info:
        column = ".".join(info.path.step)
        for measured in info.drift_measurements:
            kind = measured.Type.Name(measured.type).lower()
            result.setdefault(column, {})[kind] = measured.value
            result[column][f"{kind}_threshold"] = measured.threshold
    return result


def drift_validator(statistics, baseline, config):
    """TFX's DistributionValidator over the train and eval splits of both runs."""
    from tfx.components import DistributionValidator

    return DistributionValidator(statistics=statistics, baseline_statistics=baseline, config=config)
