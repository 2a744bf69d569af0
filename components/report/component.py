"""RunReport: the HTML report of a run, written after the Pusher so it shows what was pushed.

It runs whether or not the model was blessed: a report of a rejected model is the one most
worth reading. Output: `report.html` (self-contained) and `report.json` (the same numbers).
"""

import datetime
import json
import os

from tfx.components.evaluator.constants import ARTIFACT_PROPERTY_BLESSED_KEY as BLESSED
from tfx.dsl.io import fileio
from tfx.utils import path_utils

from components import HTML_PROPERTY, HtmlReport, evaluation_results, pusher
from components import tfx_api as tfx
from components.report import baselines, collect, explanations
from components.report.render import ReportData, page
from modules import names

HTML_FILE = "report.html"
JSON_FILE = "report.json"
REPORT_SPLIT = names.EVAL_SPLIT  # the Evaluator's split: nothing was fitted on it


@tfx.dsl.components.component
def RunReport(  # noqa: N802 (TFX component names are classes)
    examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
    transform_graph: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.TransformGraph],
    model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
    model_run: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelRun],
    evaluation: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelEvaluation],
    blessing: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    pushed_model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.PushedModel],
    checked: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    report: tfx.dsl.components.OutputArtifact[HtmlReport],
    run_config: tfx.dsl.components.Parameter[str],
    code: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Output histograms before/after normalization, training curves, TFMA metrics (against the
    baseline), what each model relies on, confusion matrices, config and versions; `code` makes
    an edit re-run it."""
    del code
    import tensorflow_transform as tft

    # Imported here: building the pipeline needs no TF Transform.
    from modules.layout import feature_layout

    config = json.loads(run_config)
    label_columns = names.label_columns(config["label"])
    label, task = names.label_key(label_columns), config["trainer"]["task"]
    pushed = _pushed(pushed_model, config)
    metrics = evaluation_results.tfma_metrics(evaluation.uri)
    thresholds_ok, failures = evaluation_results.validation(
        evaluation.uri, metrics.get("candidate", {})
    )
    serving_model = path_utils.serving_model_path(model.uri)
    report_files = collect.example_files(examples.uri, REPORT_SPLIT)
    outputs = collect.network_outputs(serving_model, report_files, REPORT_SPLIT, label, task)
    transform_output = tft.TFTransformOutput(transform_graph.uri)
    layout = feature_layout(transform_output, config["column_specs"], label, task, label_columns)
    train_files = collect.example_files(examples.uri, names.TRAIN_SPLIT)
    data = ReportData(
        config=config,
        outputs=outputs,
        class_names=layout.label_vocabulary,
        baselines=baselines.scores(
            serving_model, train_files, outputs, report_files, layout, label
        ),
        curves=collect.training_curves(model_run.uri),
        metrics=metrics,
        slices=evaluation_results.slice_metrics(evaluation.uri),
        data_checks=collect.data_checks(checked.uri),
        thresholds_ok=thresholds_ok,
        threshold_failures=failures,
        blessed=bool(blessing.get_int_custom_property(BLESSED)),
        pushed=pushed,
        served=collect.served_versions(pushed["serving_root"]) if pushed["serving_root"] else {},
        calibration=collect.calibration(model_run.uri),
        combination=collect.combination(model_run.uri),
        training=collect.training_record(model_run.uri),
        explanations=explanations.explain_split(
            pusher.model_sources(model.uri), report_files, REPORT_SPLIT
        ).to_dict(),
    )
    _write(report, data)


def _pushed(pushed_model, config: dict) -> dict:
    """What the Pusher did; the serving root from the config when nothing was pushed."""
    serving_root = pushed_model.get_string_custom_property(pusher.SERVING_ROOT) or config.get(
        "serving_dir", ""
    )
    return {
        "pushed": bool(pushed_model.get_int_custom_property(pusher.PUSHED)),
        "version": pushed_model.get_int_custom_property(pusher.PUSHED_VERSION) or None,
        "serving_root": serving_root,
    }


def _write(report, data: ReportData) -> None:
    """report.html and report.json into the artifact's folder (local or a bucket)."""
    document, values = page(
        data, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    )
    fileio.makedirs(report.uri)
    with fileio.open(os.path.join(report.uri, HTML_FILE), "w") as handle:
        handle.write(document)
    with fileio.open(os.path.join(report.uri, JSON_FILE), "w") as handle:
        json.dump(values, handle, indent=1)
    report.set_string_custom_property(HTML_PROPERTY, os.path.join(report.uri, HTML_FILE))
