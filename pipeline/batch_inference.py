"""Batch inference after the Pusher: unlabelled CSV -> tf.Examples -> BulkInferrer (the blessed
model's PredictionLogs) -> BatchPredictions (CSV and Parquet shards a user opens, with the key
columns and, with `--explain`, each feature column's attribution)."""

from __future__ import annotations

from typing import Dict

from components import predictions
from components import tfx_api as tfx
from components.predictions import BatchPredictions
from modules import names
from pipeline.config import PipelineConfig

INFERENCE_SPLIT = "unlabelled"


def batch_inference(
    config: PipelineConfig, fingerprints: Dict[str, str], trainer, blessing, transform
):
    """Unlabelled CSV -> tf.Examples -> BulkInferrer (PredictionLogs with every serving output)
    -> BatchPredictions (the same predictions as CSV and Parquet shards, with the key columns)."""
    if not config.inference_data:
        return []
    examples = tfx.components.CsvExampleGen(
        input_base=config.inference_dir,
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name=INFERENCE_SPLIT, pattern=config.inference_pattern)]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[tfx.proto.SplitConfig.Split(name=INFERENCE_SPLIT, hash_buckets=1)]
            )
        ),
    ).with_id("InferenceExampleGen")
    inferrer = tfx.components.BulkInferrer(
        examples=examples.outputs["examples"],
        model=trainer.outputs["model"],
        model_blessing=blessing,
        data_spec=tfx.proto.DataSpec(example_splits=[INFERENCE_SPLIT]),
        model_spec=tfx.proto.ModelSpec(model_signature_name=[names.BATCH_INFERENCE]),
    )
    table = BatchPredictions(
        inference_result=inferrer.outputs["inference_result"],
        transform_graph=transform.outputs["transform_graph"],
        model=trainer.outputs["model"],
        settings=predictions.settings_of(
            config.trainer.task,
            config.label_key,
            config.label_columns,
            config.prediction_keys,
            config.explained_models,
            [spec.name for spec in config.feature_specs],
        ),
        code=fingerprints["BatchPredictions"],
    ).with_id("BatchPredictions")
    return [examples, inferrer, table]
