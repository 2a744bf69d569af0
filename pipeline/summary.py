"""What a finished run produced, read back from ML Metadata: pushed models and metrics."""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator.constants import ARTIFACT_PROPERTY_BLESSED_KEY as BLESSED
from tfx.components.evaluator.constants import BLESSED_VALUE
from tfx.orchestration import metadata

from components import HTML_PROPERTY, HtmlReport, PredictionTable, pusher
from components.drift import linked_artifacts
from components.evaluation_results import tfma_metrics, validation
from components.predictions import CSV_PATTERN


@dataclasses.dataclass
class RunSummary:
    blessed: Optional[bool]
    pushed_to: Optional[str]  # the combined model's version folder; None when nothing was pushed
    serving_root: Optional[str]
    metrics: Dict[str, Dict[str, float]]  # output name -> metric name -> value
    executions: Dict[str, List[str]]  # component id -> state of each execution, oldest first
    inference_result: Optional[str] = None  # BulkInferrer's PredictionLog folder
    predictions: Optional[str] = None  # BatchPredictions' CSV shards (a glob pattern)
    report: Optional[str] = None  # the RunReport's HTML file
    model_run: Optional[str] = None  # the Trainer's TensorBoard logs, checkpoints, calibration
    failed_thresholds: List[str] = dataclasses.field(default_factory=list)  # with bound and value
    pushed_version: Optional[int] = None
    repaired: str = ""  # what the Pusher finished or undid of an interrupted push first

    def verdict(self) -> str:
        if self.blessed:
            return f"blessed, pushed version {self.pushed_version}" if self.pushed_to else "blessed"
        return "NOT blessed, nothing pushed" if self.blessed is False else "not evaluated"

    def lines(self, serving_base: str = "") -> List[str]:
        out = [f"  failed: {line}" for line in self.failed_thresholds]
        if self.repaired:
            out.append(f"  push: {self.repaired}")
        for output, values in sorted(self.metrics.items()):
            out.append(
                f"  {output}: " + ", ".join(f"{k}={_number(v)}" for k, v in sorted(values.items()))
            )
        if self.serving_root:
            out.append(f"serve: {serve_command(self.serving_root, serving_base)}")
        if self.predictions and self.blessed:  # BulkInferrer runs on a blessed model only
            out.append(f"batch inference: {self.predictions} (and .parquet)")
        if self.report:
            out.append(f"run report: {self.report}")
        if self.model_run:
            out.append(f"tensorboard: tensorboard --logdir {self.model_run}")
        return out


def serve_command(serving_root: str, serving_base: str = "") -> str:
    """The TF Serving command for the published models.config (its paths are the server's)."""
    ports = "--port=8500 --rest_api_port=8501"
    if not serving_base:
        return f"tensorflow_model_server {ports} --model_config_file={serving_root}/models.config"
    return (
        f"docker run -p 8500:8500 -p 8501:8501 -v {serving_root}:{serving_base} "
        f"tensorflow/serving --model_config_file={serving_base}/models.config"
    )


def _number(value: float) -> str:
    """Counts as integers, other figures to 6 significant digits."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.6g}"


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


def unfed_baseline_columns(metadata_path: str, columns: List[str]) -> List[str]:
    """Columns the latest blessed model parses that `columns` (this run's CSV header) lacks: the
    Evaluator could not feed this run's examples to it. Read from the raw schema of the
    Transform output that model was trained on; [] when nothing is blessed yet."""
    import os

    if not os.path.exists(metadata_path):
        return []
    store = open_store(metadata_path)
    blessings = [
        b
        for b in store.get_artifacts_by_type("ModelBlessing")
        if b.custom_properties[BLESSED].int_value == BLESSED_VALUE
    ]
    if not blessings:
        return []
    blessing = max(blessings, key=lambda b: b.id)
    output, read = metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.INPUT
    models = linked_artifacts(store, [blessing.id], output, read, "model")  # the Evaluator's
    graphs = linked_artifacts(store, models, output, read, "transform_graph")  # the Trainer's
    if not graphs:
        return []
    import tensorflow_transform as tft

    uri = store.get_artifacts_by_id([max(graphs)])[0].uri
    parsed = tft.TFTransformOutput(uri).raw_feature_spec()
    return sorted(c for c in parsed if c not in columns)


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
    inference = latest_artifact(store, "InferenceResult")
    table = latest_artifact(store, PredictionTable.TYPE_NAME)
    report = latest_artifact(store, HtmlReport.TYPE_NAME)
    model_run = latest_artifact(store, "ModelRun")
    pushed_to = serving_root = version = None
    repaired = pushed.custom_properties[pusher.REPAIRED].string_value if pushed else ""
    if pushed and pushed.custom_properties[pusher.PUSHED].int_value == 1:
        pushed_to = pushed.custom_properties[pusher.PUSHED_DESTINATION].string_value
        serving_root = pushed.custom_properties[pusher.SERVING_ROOT].string_value
        version = pushed.custom_properties[pusher.PUSHED_VERSION].int_value
    blessed = bool(blessing.custom_properties[BLESSED].int_value) if blessing else None
    metrics = evaluation_metrics(evaluation.uri) if evaluation else {}
    return RunSummary(
        blessed=blessed,
        pushed_to=pushed_to,
        serving_root=serving_root,
        metrics=metrics,
        executions=executions_by_component(store),
        inference_result=inference.uri if inference else None,
        predictions=table.custom_properties[CSV_PATTERN].string_value if table else None,
        report=report.custom_properties[HTML_PROPERTY].string_value if report else None,
        model_run=model_run.uri if model_run else None,
        failed_thresholds=validation(evaluation.uri, metrics)[1]
        if evaluation and not blessed
        else [],
        pushed_version=version,
        repaired=repaired,
    )
