"""The `tfx.v1` names this project uses, imported from the modules that define them.

`from tfx import v1` also imports every TFX extension, Vertex AI's client library among them,
which no local run touches, and costs seconds of every start (docs/benchmarks.md). Same objects
under the same dotted names (`tfx.components.Trainer`, `tfx.dsl.Resolver`, `tfx.proto.Input` ...), so code written
`from components import tfx_api as tfx` reads as the public API does.
"""

from __future__ import annotations

import types as _namespace

from tfx import types  # noqa: F401 (re-exported)
from tfx.components.bulk_inferrer.component import BulkInferrer
from tfx.components.evaluator.component import Evaluator
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.components.tuner.component import Tuner
from tfx.dsl.component.experimental import annotations as _annotations
from tfx.dsl.component.experimental import decorators as _decorators
from tfx.dsl.components.common import resolver as _resolver
from tfx.dsl.input_resolution.strategies import latest_blessed_model_strategy as _blessed
from tfx.orchestration import metadata as _metadata
from tfx.orchestration import pipeline as _pipeline
from tfx.orchestration.local import local_dag_runner as _local
from tfx.proto import bulk_inferrer_pb2, example_gen_pb2, trainer_pb2
from tfx.types import channel as _channel

components = _namespace.SimpleNamespace(
    BulkInferrer=BulkInferrer,
    CsvExampleGen=CsvExampleGen,
    Evaluator=Evaluator,
    ExampleValidator=ExampleValidator,
    ImportSchemaGen=ImportSchemaGen,
    SchemaGen=SchemaGen,
    StatisticsGen=StatisticsGen,
    Trainer=Trainer,
    Transform=Transform,
    Tuner=Tuner,
)
dsl = _namespace.SimpleNamespace(
    Pipeline=_pipeline.Pipeline,
    Resolver=_resolver.Resolver,
    Channel=_channel.Channel,
    experimental=_namespace.SimpleNamespace(
        LatestBlessedModelStrategy=_blessed.LatestBlessedModelStrategy
    ),
    components=_namespace.SimpleNamespace(
        component=_decorators.component,
        InputArtifact=_annotations.InputArtifact,
        OutputArtifact=_annotations.OutputArtifact,
        Parameter=_annotations.Parameter,
        BeamComponentParameter=_annotations.BeamComponentParameter,
    ),
)
proto = _namespace.SimpleNamespace(
    Input=example_gen_pb2.Input,
    Output=example_gen_pb2.Output,
    SplitConfig=example_gen_pb2.SplitConfig,
    TrainArgs=trainer_pb2.TrainArgs,
    EvalArgs=trainer_pb2.EvalArgs,
    DataSpec=bulk_inferrer_pb2.DataSpec,
    ModelSpec=bulk_inferrer_pb2.ModelSpec,
)
orchestration = _namespace.SimpleNamespace(
    LocalDagRunner=_local.LocalDagRunner,
    metadata=_namespace.SimpleNamespace(
        sqlite_metadata_connection_config=_metadata.sqlite_metadata_connection_config
    ),
)
