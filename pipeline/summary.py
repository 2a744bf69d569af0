"""What a finished run produced, read back from ML Metadata: pushed models and metrics."""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

from twinnorm.components import HtmlReport
from twinnorm.components.evaluation_results import tfma_metrics


@dataclasses.dataclass
class RunSummary:
    blessed: Optional[bool]
    pushed_to: Optional[str]  # the combined model's version folder; None when nothing was pushed
    serving_root: Optional[str]
    metrics: Dict[str, Dict[str, float]]  # output name -> metric name -> value
    executions: Dict[str, List[str]]  # component id -> state of each execution, oldest first
    inference_result: Optional[str] = None  # BulkInferrer's PredictionLog folder
    report: Optional[str] = None  # the RunReport's HTML file

    def lines(self) -> List[str]:
        out = [
            f"blessed: {self.blessed}",
            f"pushed model: {self.pushed_to}"
            if self.pushed_to
            else "pushed model: none (not blessed)",
        ]
        if self.serving_root:
            out.append(
                f"serving root: {self.serving_root} (models.config lists every served model)"
            )
        if self.inference_result:
            out.append(
                f"batch inference (PredictionLogs of both networks' outputs): {self.inference_result}"
            )
        for output, values in sorted(self.metrics.items()):
            out.append(
                f"  {output}: " + ", ".join(f"{k}={v:.6g}" for k, v in sorted(values.items()))
            )
        return out


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    return metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))


def latest_artifact(store, type_name: str) -> Optional[metadata_store_pb2.Artifact]:
    artifacts = [
        a
        for a in store.get_artifacts_by_type(type_name)
        if a.state == metadata_store_pb2.Artifact.LIVE
    ]
    return max(artifacts, key=lambda a: a.id) if artifacts else None


def evaluation_metrics(uri: str) -> Dict[str, Dict[str, float]]:
    """Overall-slice metrics of the candidate model per output ("all" for example_count)."""
    return tfma_metrics(uri).get("candidate", {})


def executions_by_component(store) -> Dict[str, List[str]]:
    """Component id -> the state (COMPLETE, CACHED, FAILED, ...) of each of its executions."""
    states = metadata_store_pb2.Execution.State
    result: Dict[str, List[str]] = {}
    for context in store.get_contexts_by_type("node"):
        executions = sorted(store.get_executions_by_context(context.id), key=lambda e: e.id)
        result[context.name.split(".")[-1]] = [states.Name(e.last_known_state) for e in executions]
    return result


def summarize(metadata_path: str) -> RunSummary:
    store = open_store(metadata_path)
    blessing = latest_artifact(store, "ModelBlessing")
    pushed = latest_artifact(store, "PushedModel")
    evaluation = latest_artifact(store, "ModelEvaluation")
    executions = executions_by_component(store)
    inference = latest_artifact(store, "InferenceResult")
    report = latest_artifact(store, HtmlReport.TYPE_NAME)
    pushed_to = serving_root = None
    if pushed and pushed.custom_properties["pushed"].int_value == 1:
        pushed_to = pushed.custom_properties["pushed_destination"].string_value
        serving_root = pushed.custom_properties["serving_root"].string_value
    return RunSummary(
        blessed=bool(blessing.custom_properties["blessed"].int_value) if blessing else None,
        pushed_to=pushed_to,
        serving_root=serving_root,
        metrics=evaluation_metrics(evaluation.uri) if evaluation else {},
        executions=executions,
        inference_result=inference.uri if inference else None,
        report=report.custom_properties["html"].string_value if report else None,
    )
