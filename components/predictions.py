"""BatchPredictions: BulkInferrer's PredictionLogs as tables a user opens.

BulkInferrer writes TFRecords of PredictionLog protos. Beside them this component writes, for
every input row, one table row: the key columns the user named (`--key-columns`), then per model
(the combined model, then each network) the predicted class and one probability per class, or
the predicted value of each target in the label's units. With `--explain`, each explained model's
attribution of every feature column follows (`attribution_<column>`, `network_a_attribution_<column>`:
its `explain` signature, modules/attribution.py, on the same row). Beam writes the rows in shards,
as CSV (`predictions-SSSSS-of-NNNNN.csv`, a header in each) and as Parquet, so no process holds
them all.
"""

import csv
import io
import json
import os
from typing import Any, Dict, Iterator, List, Sequence

import apache_beam as beam
import numpy as np

from components import PredictionTable, pusher
from components import tfx_api as tfx
from modules import modes, names

CSV_PREFIX = "predictions"
MODELS = (names.COMBINED, *names.NETWORKS)
# The PredictionTable's property: the file pattern of its CSV shards; readers import this name.
CSV_PATTERN = "csv_pattern"
DT_DOUBLE = 2  # tensorflow.core.framework.types_pb2.DT_DOUBLE
# Rows explained in one call of a model's explain signature, which holds (its steps + 1) times
# this many rows of activations at once.
EXPLAIN_BATCH = 256


def _prefix(model: str) -> str:
    return "" if model == names.COMBINED else f"{model}_"


def _output(model: str, kind: str) -> str:
    """The batch_inference signature's output name (modules/export.py)."""
    return kind if model == names.COMBINED else names.output_key(model, kind)


def columns(settings: Dict[str, Any]) -> List[str]:
    """The table's columns: the keys, then per model its class and probabilities, or values."""
    result = list(settings["key_columns"])
    for model in MODELS:
        prefix = _prefix(model)
        if settings["task"] == modes.CLASSIFICATION:
            result.append(f"{prefix}predicted_class")
            result += [f"{prefix}probability_{c}" for c in settings["classes"]]
        else:
            result += [f"{prefix}predicted_{c}" for c in settings["label_columns"]]
    for model in settings["explained_models"]:
        result += attribution_columns(model, settings)
    return result


def attribution_columns(model: str, settings: Dict[str, Any]) -> List[str]:
    """One column per feature column the model's attributions sum back to, in its order."""
    return [f"{_prefix(model)}attribution_{c}" for c in settings["explained_columns"]]


def _key_text(feature) -> str:
    """A key cell as text: its one value (as CsvExampleGen typed it), '' when missing."""
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else []
    if not values:
        return ""
    value = values[0]
    return value.decode() if isinstance(value, bytes) else str(value)


def _floats(tensor) -> List[float]:
    """A float TensorProto's values: packed in `tensor_content` (how tf.make_tensor_proto writes
    an array) or listed in `float_val` / `double_val`."""
    double = tensor.dtype == DT_DOUBLE
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, np.float64 if double else np.float32).tolist()
    return list(tensor.double_val if double else tensor.float_val)


def _predict_log(record: bytes):
    from tensorflow_serving.apis import prediction_log_pb2

    return prediction_log_pb2.PredictionLog.FromString(record).predict_log


def table_row(record: bytes, settings: Dict[str, Any]) -> Dict[str, Any]:
    """One PredictionLog (one input row) -> column -> value."""
    return _row(_predict_log(record), settings)


def _row(predict, settings: Dict[str, Any]) -> Dict[str, Any]:
    """`table_row` of a parsed PredictLog."""
    from tensorflow.core.example import example_pb2

    row: Dict[str, Any] = {}
    if settings["key_columns"]:
        example = example_pb2.Example.FromString(_example(predict))
        feature = example.features.feature
        for key in settings["key_columns"]:
            row[key] = _key_text(feature[key]) if key in feature else ""
    outputs = predict.response.outputs
    for model in MODELS:
        prefix = _prefix(model)
        if settings["task"] == modes.CLASSIFICATION:
            probabilities = _floats(outputs[_output(model, names.PROBABILITIES)])
            best = max(range(len(probabilities)), key=probabilities.__getitem__)
            row[f"{prefix}predicted_class"] = settings["classes"][best]
            for name, value in zip(settings["classes"], probabilities, strict=True):
                row[f"{prefix}probability_{name}"] = value
        else:
            values = _floats(outputs[_output(model, names.VALUES)])
            for name, value in zip(settings["label_columns"], values, strict=True):
                row[f"{prefix}predicted_{name}"] = value
    return row


def _example(predict) -> bytes:
    """The serialized tf.Example a PredictLog's request sent."""
    return predict.request.inputs[names.EXAMPLES_INPUT].string_val[0]


class TableRows(beam.DoFn):
    """A batch of PredictionLogs -> their table rows, each with the attributions of the explained
    models (their `explain` signatures, loaded once per worker, on the logged examples)."""

    def __init__(self, settings: Dict[str, Any], model_uri: str):
        self._settings = settings
        sources = pusher.model_sources(model_uri)
        self._sources = {m: sources[m] for m in settings["explained_models"]}
        self._explain: Dict[str, Any] = {}

    def _signature(self, model: str):
        if model not in self._explain:  # loaded on first use: no rows, no model load
            import tensorflow as tf

            loaded = tf.saved_model.load(self._sources[model])
            self._explain[model] = (loaded, loaded.signatures[names.EXPLAIN])
        return self._explain[model][1]

    def process(self, records: List[bytes]) -> Iterator[Dict[str, Any]]:
        predicts = [_predict_log(record) for record in records]  # each parsed once
        rows = [_row(predict, self._settings) for predict in predicts]
        if self._sources:
            examples = [_example(predict) for predict in predicts]
            for model in self._sources:
                self._add_attributions(model, examples, rows)
        yield from rows

    def _add_attributions(
        self, model: str, examples: List[bytes], rows: List[Dict[str, Any]]
    ) -> None:
        import tensorflow as tf

        outputs = self._signature(model)(examples=tf.constant(examples))
        served = [c.decode() for c in outputs[names.ATTRIBUTED_COLUMNS].numpy()]
        if served != list(self._settings["explained_columns"]):
            raise ValueError(
                f"the {model} model attributes to the columns {served}, the pipeline expected "
                f"{self._settings['explained_columns']}: the model is not this run's"
            )
        header = attribution_columns(model, self._settings)
        for row, values in zip(rows, outputs[names.ATTRIBUTIONS].numpy().tolist(), strict=True):
            row.update(zip(header, values, strict=True))


def csv_text(cells: Sequence[Any]) -> str:
    """A CSV line (quoted where a key or class name needs it), without its newline."""
    text = io.StringIO()
    csv.writer(text, lineterminator="").writerow(cells)
    return text.getvalue()


def csv_line(row: Dict[str, Any], header: Sequence[str]) -> str:
    """A row as CSV; a figure as the shortest text that reads back as the same float32."""
    return csv_text(
        [str(np.float32(row[c])) if isinstance(row[c], float) else row[c] for c in header]
    )


def parquet_schema(settings: Dict[str, Any]):
    """Keys and classes as strings (a key as CsvExampleGen typed it), figures as float32."""
    import pyarrow as pa

    text = set(settings["key_columns"]) | {f"{_prefix(m)}predicted_class" for m in MODELS}
    return pa.schema([(c, pa.string() if c in text else pa.float32()) for c in columns(settings)])


def settings_of(
    task: str,
    label_key: str,
    label_columns: Sequence[str],
    key_columns: Sequence[str],
    explained_models: Sequence[str] = (),
    explained_columns: Sequence[str] = (),
) -> str:
    """The component's `settings` parameter (JSON), from the resolved configuration;
    `explained_columns`: the feature columns, in the order the models attribute to them."""
    return json.dumps(
        {
            "task": task,
            "label_key": label_key,
            "label_columns": list(label_columns),
            "key_columns": list(key_columns),
            "explained_models": list(explained_models),
            "explained_columns": list(explained_columns) if explained_models else [],
        }
    )


@tfx.dsl.components.component(use_beam=True)
def BatchPredictions(  # noqa: N802 (TFX component names are classes)
    inference_result: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.InferenceResult
    ],
    transform_graph: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.TransformGraph],
    model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
    predictions: tfx.dsl.components.OutputArtifact[PredictionTable],
    settings: tfx.dsl.components.Parameter[str],
    code: tfx.dsl.components.Parameter[str] = "",
    beam_pipeline: tfx.dsl.components.BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """CSV and Parquet shards of every input row's predictions (and attributions, from `model`:
    the one BulkInferrer ran); `code` makes an edit re-run it."""
    del code
    import tensorflow_transform as tft

    values = json.loads(settings)
    if values["task"] == modes.CLASSIFICATION:
        vocabulary = tft.TFTransformOutput(transform_graph.uri).vocabulary_by_name(
            names.vocabulary_name(values["label_key"])
        )
        values["classes"] = [v.decode() for v in vocabulary]
    header = columns(values)
    prefix = os.path.join(predictions.uri, CSV_PREFIX)
    with beam_pipeline as pipeline:
        rows = (
            pipeline
            | "ReadPredictionLogs"
            >> beam.io.ReadFromTFRecord(os.path.join(inference_result.uri, "*.gz"))
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=EXPLAIN_BATCH)
            | "ToRows" >> beam.ParDo(TableRows(values, model.uri))
        )
        _ = (
            rows
            | "ToCsvLines" >> beam.Map(csv_line, header)
            | "WriteCsv" >> beam.io.WriteToText(prefix, ".csv", header=csv_text(header))
        )
        _ = rows | "WriteParquet" >> beam.io.WriteToParquet(
            prefix, parquet_schema(values), file_name_suffix=".parquet"
        )
    predictions.set_string_custom_property(CSV_PATTERN, f"{prefix}-*.csv")
