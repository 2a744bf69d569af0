"""DataGate: stops the pipeline before Transform when ExampleValidator found anomalies.

ExampleValidator only records anomalies; TFX runs Transform and the Trainer regardless. The gate
reads them per split and, in `fail` mode, fails its execution with one message naming the data,
the split, each column and the kind of anomaly, so nothing downstream runs and nothing is pushed.
In `warn` mode it logs the same message and lets the run go on. Either way its output artifact
holds the report (`report.txt`) and the anomaly count.

With `keep_schema` set (a CSV without a curated schema), data that passes with no anomaly has its
inferred schema copied there, so later runs import it and new data is checked against it; data
let through with anomalies (warn mode) keeps no schema.
"""

import json
import os
from typing import List, Sequence

from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from components import drift
from components import tfx_api as tfx

MODES = ("fail", "warn")
REPORT_FILE = "report.txt"
# split -> column -> measured distance and threshold
DRIFT_FILE = "drift.json"
# The checked artifact's properties; readers import these names.
ON_ANOMALY, ANOMALY_COUNT, KEPT_SCHEMA = "on_anomaly", "anomaly_count", "kept_schema"


class BadDataError(ValueError):
    """The data violates the schema; the message names file, split, column and anomaly."""


def load_anomalies(uri: str, split: str) -> anomalies_pb2.Anomalies:
    anomalies = anomalies_pb2.Anomalies()
    with fileio.open(os.path.join(uri, f"Split-{split}", "SchemaDiff.pb"), "rb") as handle:
        anomalies.ParseFromString(handle.read())
    return anomalies


def describe(anomalies: anomalies_pb2.Anomalies, split: str) -> List[str]:
    """One line per problem: split, column, kind (short description) and TFDV's details."""
    lines = []
    if anomalies.data_missing:
        lines.append(f"split {split}: no rows at all")
    for column, info in sorted(anomalies.anomaly_info.items()):
        kinds = "; ".join(r.short_description for r in info.reason) or info.short_description
        details = " ".join(r.description for r in info.reason) or info.description
        lines.append(f"split {split}, column {column!r}: {kinds} ({details.strip()})")
    for reason in anomalies.dataset_anomaly_info.reason:
        lines.append(
            f"split {split}, whole dataset: {reason.short_description} ({reason.description.strip()})"
        )
    return lines


def drift_lines(drift_uri: str, split_pairs: List[str], report_dir: str) -> List[str]:
    """DistributionValidator's findings, one line per column over its bar (the measured distance
    and the threshold are in TFDV's description); every measured distance goes to `drift.json`."""
    lines, measured = [], {}
    for pair in split_pairs:
        anomalies = anomalies_pb2.Anomalies()
        with fileio.open(os.path.join(drift_uri, f"SplitPair-{pair}", "SchemaDiff.pb"), "rb") as f:
            anomalies.ParseFromString(f.read())
        split = pair.split("_")[0]
        lines += describe(anomalies, f"{split} vs the last blessed run")
        measured[split] = drift.measurements(anomalies)
    fileio.makedirs(report_dir)
    with fileio.open(os.path.join(report_dir, DRIFT_FILE), "w") as handle:
        json.dump(measured, handle, indent=1, sort_keys=True)
    return lines


def check(
    anomalies_uri: str,
    splits: List[str],
    data: str,
    schema: str,
    on_anomaly: str,
    report_dir: str,
    drift_uri: str = "",
    drift_pairs: Sequence[str] = (),
) -> List[str]:
    """Writes the report; raises BadDataError on anomalies in `fail` mode, else returns its lines."""
    if on_anomaly not in MODES:
        raise ValueError(f"on_anomaly must be one of {MODES}, got {on_anomaly!r}")
    lines = [
        line for split in splits for line in describe(load_anomalies(anomalies_uri, split), split)
    ]
    if drift_uri and drift_pairs:
        lines += drift_lines(drift_uri, list(drift_pairs), report_dir)
    if lines:
        lines = [
            f"bad data in {data} (checked against {schema}):",
            *("  " + line for line in lines),
        ]
    fileio.makedirs(report_dir)
    with fileio.open(os.path.join(report_dir, REPORT_FILE), "w") as handle:
        handle.write("\n".join(lines) + "\n" if lines else "no anomalies\n")
    if lines and on_anomaly == "fail":
        raise BadDataError("\n".join(lines))
    if lines:
        logging.warning("%s\n(on_anomaly=warn: the run goes on)", "\n".join(lines))
    return lines


def keep(schema_dir: str, destination: str, anomalies: Sequence[str] = ()) -> bool:
    """Copies the inferred schema (SchemaGen's `schema.pbtxt`) to `destination`, atomically,
    when the data had no anomalies: a schema inferred from data that had some (a run let through
    by on_anomaly=warn) would make them the norm for every later run. Returns whether it did."""
    if anomalies:
        logging.warning(
            "schema not kept at %s: this run's data had anomalies (on_anomaly=warn); the next "
            "run infers one again",
            destination,
        )
        return False
    source = os.path.join(schema_dir, "schema.pbtxt")
    fileio.makedirs(os.path.dirname(destination))
    partial = destination + ".partial"
    fileio.copy(source, partial, overwrite=True)
    fileio.rename(partial, destination, overwrite=True)
    logging.info(
        "schema kept: %s (read, edit and commit it; later runs check new data against it)",
        destination,
    )
    return True


@tfx.dsl.components.component
def DataGate(  # noqa: N802 (TFX component names are classes)
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    schema: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Schema],
    checked: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    data: tfx.dsl.components.Parameter[str],
    schema_source: tfx.dsl.components.Parameter[str] = "",
    on_anomaly: tfx.dsl.components.Parameter[str] = "fail",
    keep_schema: tfx.dsl.components.Parameter[str] = "",
    code: tfx.dsl.components.Parameter[str] = "",
    drift_anomalies: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ExampleAnomalies
    ] = None,
) -> None:
    """Fails (or warns, with on_anomaly='warn') when ExampleValidator found anomalies in any split,
    or DistributionValidator found a column drifted beyond its bar since the last blessed run.
    `code`: the fingerprint of the code this runs, only so an edit re-runs it (not cached)."""
    del code
    checked.split_names = anomalies.split_names
    checked.set_string_custom_property(ON_ANOMALY, on_anomaly)
    lines = check(
        anomalies.uri,
        artifact_utils.decode_split_names(anomalies.split_names),
        data,
        f"the schema {schema_source}" if schema_source else f"the schema inferred in {schema.uri}",
        on_anomaly,
        checked.uri,
        drift_anomalies.uri if drift_anomalies else "",
        artifact_utils.decode_split_names(drift_anomalies.split_names)
        if drift_anomalies and drift_anomalies.split_names
        else (),
    )
    checked.set_int_custom_property(ANOMALY_COUNT, max(0, len(lines) - 1))
    if keep_schema and keep(schema.uri, keep_schema, lines):
        checked.set_string_custom_property(KEPT_SCHEMA, keep_schema)
