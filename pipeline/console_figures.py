"""The key figure of each finished component for its console line (rows per split, anomalies,
trained steps and losses, the Evaluator's figures, what was pushed) and why a component re-ran,
read from ML Metadata as the run goes."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator.constants import ARTIFACT_PROPERTY_BLESSED_KEY as BLESSED
from tfx.components.evaluator.constants import BLESSED_VALUE

from components import data_gate, pusher
from components.evaluation_results import skill_figures
from pipeline.summary import evaluation_metrics, open_store


def node_outputs(
    store, pipeline_name: str, node: str
) -> Tuple[str, Dict[str, List[metadata_store_pb2.Artifact]]]:
    """The state of a component's newest execution and its output artifacts by output key."""
    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node}")
    executions = store.get_executions_by_context(context.id) if context else []
    if not executions:
        return "", {}
    execution = max(executions, key=lambda e: e.id)
    events = [
        e
        for e in store.get_events_by_execution_ids([execution.id])
        if e.type == metadata_store_pb2.Event.OUTPUT
    ]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    outputs: Dict[str, List[metadata_store_pb2.Artifact]] = {}
    for event in events:
        key = event.path.steps[0].key if event.path.steps else ""
        outputs.setdefault(key, []).append(artifacts[event.artifact_id])
    state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
    return state, outputs


class FigureReader:
    """The one figure worth a console line for each finished component ('' when it has none),
    read through one ML Metadata connection per run, opened at the first finished component (by
    then TFX has created the database)."""

    def __init__(self, metadata_path: str, pipeline_name: str):
        self.metadata_path, self.pipeline_name = metadata_path, pipeline_name
        self._store: Optional[metadata_store.MetadataStore] = None

    def __call__(self, node: str) -> str:
        if self._store is None:
            self._store = open_store(self.metadata_path)
        return component_figure(self._store, self.pipeline_name, node)


def component_figure(store, pipeline_name: str, node: str) -> str:
    """The one figure worth a console line for a finished component ('' when it has none)."""
    state, outputs = node_outputs(store, pipeline_name, node)
    figure = FIGURES.get(node)
    if not state and node in NOT_RUN:
        return NOT_RUN[node]
    text = figure(outputs) if figure and outputs else ""
    cached = "cached" if state == "CACHED" else rerun_reason(store, pipeline_name, node)
    return ", ".join(part for part in (text, cached) if part)


DATA_FINGERPRINT = "input_fingerprint"  # ExampleGen's property: the input files' sizes and times


def rerun_reason(store, pipeline_name: str, node: str) -> str:
    """Why the newest execution ran instead of reusing the one before it: `code changed`
    (the fingerprint in its properties, pipeline/code_version.py), `inputs changed` (other
    input artifacts), `data changed` (ExampleGen's files), `options changed` (other
    properties); '' for a first execution."""
    from pipeline import code_version

    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node}")
    executions = sorted(store.get_executions_by_context(context.id), key=lambda e: e.id)
    states = metadata_store_pb2.Execution.State
    done = [e for e in executions[:-1] if e.last_known_state in (states.COMPLETE, states.CACHED)]
    if not done:  # a first execution (or only killed ones before it)
        return ""
    newest, before = executions[-1], done[-1]

    def properties(execution) -> Dict[str, str]:
        return {
            k: str(v.string_value or v.int_value or v.double_value)
            for k, v in execution.custom_properties.items()
            if not k.startswith("__")
        }

    def inputs(execution) -> List[int]:
        events = store.get_events_by_execution_ids([execution.id])
        return sorted(e.artifact_id for e in events if e.type == metadata_store_pb2.Event.INPUT)

    new, old = properties(newest), properties(before)

    def fingerprints(values: Dict[str, str]) -> set:
        return {f for v in values.values() for f in code_version.PATTERN.findall(v)}

    reasons = []
    if fingerprints(new) != fingerprints(old):
        reasons.append("code changed")
    if inputs(newest) != inputs(before):
        reasons.append("inputs changed")
    if new.pop(DATA_FINGERPRINT, None) != old.pop(DATA_FINGERPRINT, None):
        reasons.append("data changed")
    masked = {k: code_version.masked(v) for k, v in new.items()}
    if masked != {k: code_version.masked(v) for k, v in old.items()}:
        reasons.append("options changed")
    return " and ".join(reasons)


def _first(outputs, key: str) -> Optional[metadata_store_pb2.Artifact]:
    found = outputs.get(key) or []
    return found[0] if found else None


def _rows(outputs) -> str:
    from tensorflow_metadata.proto.v0 import statistics_pb2
    from tfx.dsl.io import fileio
    from tfx.types import artifact_utils

    statistics = _first(outputs, "statistics")
    counts = []
    for split in artifact_utils.decode_split_names(
        statistics.properties["split_names"].string_value
    ):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        with fileio.open(f"{statistics.uri}/Split-{split}/FeatureStats.pb", "rb") as handle:
            stats.ParseFromString(handle.read())
        counts.append(f"{split} {sum(d.num_examples for d in stats.datasets):,}")
    return "rows: " + ", ".join(counts)


def _anomalies(outputs) -> str:
    checked = _first(outputs, "checked")
    count = checked.custom_properties[data_gate.ANOMALY_COUNT].int_value if checked else 0
    text = f"{count} anomal{'y' if count == 1 else 'ies'}" if count else "no anomalies"
    kept = checked.custom_properties[data_gate.KEPT_SCHEMA].string_value if checked else ""
    return f"{text}; schema kept: {kept}" if kept else text


def _losses(outputs) -> str:
    import json

    from tfx.dsl.io import fileio

    from modules import names

    model_run = _first(outputs, "model_run")
    with fileio.open(f"{model_run.uri}/{names.TRAINING_FILE}") as handle:
        history = json.load(handle)
    losses = ", ".join(
        f"{n} {history[f'{names.EXPORTED_RUN}_{n}_loss']:.3g}"
        for n in names.NETWORKS
        if f"{names.EXPORTED_RUN}_{n}_loss" in history
    )
    epochs = f" ({history['epochs']:g} epochs)" if history.get("epochs") is not None else ""
    stopped = history.get("stopped", "").split(";")[0]
    return f"{history['steps']} steps{epochs}, {stopped}; validation loss: {losses}"


def _evaluation(outputs) -> str:
    """`combined auc A, network_a auc A, ... (best constant predictor T); blessed`: the
    figure each output's skill bar is measured on, beside the trivial predictor's."""
    evaluation, blessing = _first(outputs, "evaluation"), _first(outputs, "blessing")
    shown, trivial = [], set()
    for output, values in sorted(evaluation_metrics(evaluation.uri).items()):
        found = skill_figures(values)
        if found:
            shown.append(f"{output} {found[0]} {found[1]:.4g}")
            trivial.add(f"{found[2]:.4g}")
    against = f" (best constant predictor {', '.join(sorted(trivial))})" if trivial else ""
    blessed = blessing and blessing.custom_properties[BLESSED].int_value == BLESSED_VALUE
    return ", ".join(shown) + against + ("; blessed" if blessed else "; NOT blessed")


def _drift(outputs) -> str:
    from google.protobuf import json_format

    blessed = _first(outputs, "anomalies").custom_properties[BLESSED]
    verdicts = json_format.MessageToDict(blessed.struct_value) if blessed.struct_value else {}
    verdicts = verdicts.get("__value__", verdicts)  # TFX may wrap a JSON value
    drifted = [pair.split("_")[0] for pair, ok in sorted(verdicts.items()) if ok == 0]
    if drifted:
        return f"drift beyond the bars in {', '.join(drifted)} (details: DataGate)"
    return "compared with the last blessed run: within the bars"


def _tuned(outputs) -> str:
    import json

    from tfx.dsl.io import fileio

    results = _first(outputs, "tuner_results")
    with fileio.open(f"{results.uri}/tuner_results.json") as handle:
        trials = json.load(handle)
    best = min(trials, key=lambda t: t["score"])
    values = ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in best.items()
        if k not in ("trial_id", "score")
    )
    return f"best of {len(trials)} trials (validation loss {best['score']:.3g}): {values}"


def _pushed(outputs) -> str:
    pushed = _first(outputs, "pushed_model")
    if pushed and pushed.custom_properties[pusher.PUSHED].int_value == 1:
        return f"pushed version {pushed.custom_properties[pusher.PUSHED_VERSION].int_value}"
    return "nothing pushed"


def _predictions(outputs) -> str:
    table = _first(outputs, "predictions")
    return f"CSV and Parquet in {table.uri}" if table else ""


# Nodes that do not run at all on a first run: what their console line says instead.
NOT_RUN = {"DistributionValidator": "skipped: no blessed run to compare with yet"}
FIGURES = {
    "DistributionValidator": _drift,
    "StatisticsGen": _rows,
    "DataGate": _anomalies,
    "Tuner": _tuned,
    "Trainer": _losses,
    "Evaluator": _evaluation,
    "Pusher": _pushed,
    "BatchPredictions": _predictions,
}
