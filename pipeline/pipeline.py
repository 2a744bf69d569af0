"""`create_pipeline`: the whole DAG from one PipelineConfig, for the local and Kubeflow runners."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Optional, Tuple

from components import data_gate, drift, predictions, pusher
from components import tfx_api as tfx
from components.data_gate import DataGate
from components.pusher import TwinPusher
from components.report import component as report_component
from components.report.component import RunReport
from modules import names, skill
from pipeline import code_version
from pipeline.batch_inference import batch_inference
from pipeline.config import PipelineConfig
from pipeline.evaluation import eval_config

PREPROCESSING_FN = "modules.preprocessing.preprocessing_fn"
RUN_FN = "modules.trainer.run_fn"
TUNER_FN = "modules.tuning.tuner_fn"


def example_gen(config: PipelineConfig):
    """CSV rows -> tf.Examples, hash-split into train, validation and eval."""
    return tfx.components.CsvExampleGen(
        input_base=config.data_dir,
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single", pattern=config.data_pattern)]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name=split, hash_buckets=buckets)
                    for split, buckets in zip(names.SPLITS, config.split, strict=True)
                ]
            )
        ),
    )


def training_args(config: PipelineConfig) -> dict:
    """TrainArgs/EvalArgs of the Trainer and the Tuner: fit on train, validate on validation
    (never eval); num_steps 0 (TFX's None) leaves the budget to the data."""
    return dict(
        train_args=tfx.proto.TrainArgs(
            splits=[names.TRAIN_SPLIT], num_steps=config.trainer.train_steps
        ),
        eval_args=tfx.proto.EvalArgs(
            splits=[names.VALIDATION_SPLIT], num_steps=config.trainer.validation_steps
        ),
    )


def schema_gen(config: PipelineConfig, statistics):
    """The curated schema when there is one (so the data is checked against it), else SchemaGen's inference."""
    if config.schema:
        return tfx.components.ImportSchemaGen(schema_file=config.schema)
    return tfx.components.SchemaGen(
        statistics=statistics.outputs["statistics"], infer_feature_shape=True
    )


def baseline_resolver():
    """The latest blessed model, the Evaluator's baseline (absent on the first run)."""
    return tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")


def code_fingerprints() -> Dict[str, str]:
    """Component id -> the fingerprint of the project code it runs (pipeline/code_version.py):
    in its execution properties, so an edit of that code re-runs it and nothing else."""
    entries = {
        "Transform": PREPROCESSING_FN.rpartition(".")[0],
        "Tuner": TUNER_FN.rpartition(".")[0],
        "Trainer": RUN_FN.rpartition(".")[0],
        "Evaluator": skill.__name__,  # the TFMA metric it loads
        "DataGate": data_gate.__name__,
        "Pusher": pusher.__name__,
        "RunReport": report_component.__name__,
        "BatchPredictions": predictions.__name__,
    }
    return {c: code_version.fingerprint(module) for c, module in entries.items()}


def transform_config(config: PipelineConfig) -> dict:
    """Transform's custom_config: what preprocessing_fn reads."""
    return {
        names.CONFIG_FEATURES: [spec.to_dict() for spec in config.feature_specs],
        names.CONFIG_LABEL: config.label_key,
        names.CONFIG_LABEL_COLUMNS: list(config.label_columns),
        names.CONFIG_TASK: config.trainer.task,
    }


def trainer_config(config: PipelineConfig) -> dict:
    """The Trainer's (and Tuner's) custom_config. Step counts travel only in TrainArgs/EvalArgs
    (TFX's own carriers, shown in the Trainer's execution properties), so they are left out."""
    trainer = {
        key: value
        for key, value in config.trainer.to_dict().items()
        if key not in names.STEP_COUNTS
    }
    return {**transform_config(config), names.CONFIG_TRAINER: trainer}


def report_config(config: PipelineConfig) -> str:
    """The whole configuration as JSON, for the run report (which shows it and reads the serving
    root from it when nothing was pushed)."""
    return json.dumps(
        {**dataclasses.asdict(config), "serving_dir": config.serving_dir}, sort_keys=True
    )


def data_checks(config: PipelineConfig, fingerprints: Dict[str, str]) -> Tuple[list, Any, Any, Any]:
    """ExampleGen, statistics, schema, validation, drift and the DataGate: (components, examples,
    schema, gate)."""
    examples = example_gen(config)
    statistics = tfx.components.StatisticsGen(examples=examples.outputs["examples"])
    schema = schema_gen(config, statistics)
    validator = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    components = [examples, statistics, schema, validator]
    drift_anomalies = None
    if config.drift:
        baseline_statistics = drift.baseline_statistics_resolver()
        distribution = drift.drift_validator(
            statistics.outputs["statistics"],
            baseline_statistics.outputs[drift.STATISTICS],
            drift.validator_config(
                (*config.features, *config.label_columns),
                config.drift_numeric,
                config.max_drift_jsd,
                config.max_drift_linf,
            ),
        )
        components += [baseline_statistics, distribution]
        drift_anomalies = distribution.outputs["anomalies"]
    gate = DataGate(
        anomalies=validator.outputs["anomalies"],
        drift_anomalies=drift_anomalies,
        schema=schema.outputs["schema"],
        data=config.data,
        schema_source=config.schema,
        on_anomaly=config.on_anomaly,
        keep_schema=config.kept_schema,
        code=fingerprints["DataGate"],
    )
    return components + [gate], examples, schema, gate


def training(
    config: PipelineConfig, fingerprints: Dict[str, str], examples, schema, gate, baseline
) -> Tuple[list, Any, Any]:
    """Transform (after the DataGate), the optional Tuner and the Trainer: (components,
    transform, trainer)."""
    transform = tfx.components.Transform(
        examples=examples.outputs["examples"],
        schema=schema.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config={**transform_config(config), names.CONFIG_CODE: fingerprints["Transform"]},
        disable_statistics=not config.transform_statistics,
    )
    transform.add_upstream_node(gate)  # no Transform, Trainer or push on bad data
    components, hyperparameters = [transform], None
    transformed = dict(
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
    )
    if config.tune:
        tuner = tfx.components.Tuner(
            tuner_fn=TUNER_FN,
            custom_config={
                **trainer_config(config),
                names.CONFIG_TUNE_TRIALS: config.tune,
                names.CONFIG_CODE: fingerprints["Tuner"],
            },
            **transformed,
            **training_args(config),
        )
        components.append(tuner)
        hyperparameters = tuner.outputs["best_hyperparameters"]
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        base_model=baseline if config.trainer.warm_start else None,
        hyperparameters=hyperparameters,
        custom_config={**trainer_config(config), names.CONFIG_CODE: fingerprints["Trainer"]},
        **transformed,
        **training_args(config),
    )
    return components + [trainer], transform, trainer


def evaluation_and_push(
    config: PipelineConfig,
    fingerprints: Dict[str, str],
    examples,
    transform,
    trainer,
    gate,
    baseline,
) -> list:
    """The Evaluator (on eval only), TwinPusher, the run report and batch inference."""
    evaluator = tfx.components.Evaluator(
        examples=examples.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline,
        eval_config=eval_config(config, fingerprints["Evaluator"]),
        example_splits=[names.EVAL_SPLIT],
    )
    pusher = TwinPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        serving_root=config.serving_dir,
        keep_versions=config.keep_versions,
        pipeline_name=config.name,
        serving_base=config.serving_base,
        code=fingerprints["Pusher"],
    ).with_id("Pusher")
    report = RunReport(
        examples=examples.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        model=trainer.outputs["model"],
        model_run=trainer.outputs["model_run"],
        evaluation=evaluator.outputs["evaluation"],
        blessing=evaluator.outputs["blessing"],
        pushed_model=pusher.outputs["pushed_model"],
        checked=gate.outputs["checked"],
        run_config=report_config(config),
        code=fingerprints["RunReport"],
    )
    inference = batch_inference(
        config, fingerprints, trainer, evaluator.outputs["blessing"], transform
    )
    return [evaluator, pusher, report, *inference]


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config=None,
    beam_pipeline_args: Optional[List[str]] = None,
    pipeline_root: Optional[str] = None,
) -> tfx.dsl.Pipeline:
    """Returns the TFX pipeline; `config` must be resolved (pipeline/resolution.py)."""
    fingerprints = code_fingerprints()
    components, examples, schema, gate = data_checks(config, fingerprints)
    baseline = None
    if config.compare_to_baseline:
        resolver = baseline_resolver()
        components.append(resolver)
        baseline = resolver.outputs["model"]
    trained, transform, trainer = training(config, fingerprints, examples, schema, gate, baseline)
    components += trained
    components += evaluation_and_push(
        config, fingerprints, examples, transform, trainer, gate, baseline
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.name,
        pipeline_root=pipeline_root or config.pipeline_root,
        components=components,
        enable_cache=config.cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args
        if beam_pipeline_args is not None
        else config.beam.pipeline_args(),
    )
