"""Session fixtures: a tiny Transform output and the model run_fn trains on it (unit tests), and
the default pipeline run from the command line (end-to-end tests, tests/e2e/)."""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from typing import Dict, List  # noqa: E402

import pytest  # noqa: E402


@dataclasses.dataclass
class TinyPenguins:
    """The embedded penguins through the real preprocessing_fn, split train/validation/eval by
    row (every sixth row to each of the two held-out splits), laid out as Transform's outputs."""

    folder: str
    config: object  # the resolved default PipelineConfig
    spec: Dict[str, object]  # the raw feature spec, from the curated schema
    splits: Dict[str, List[dict]]  # raw rows as TFT instance dicts

    @property
    def transform_graph(self) -> str:
        return os.path.join(self.folder, "transform_graph")

    @property
    def examples(self) -> str:
        return os.path.join(self.folder, "transformed_examples")

    def files(self, split: str) -> List[str]:
        return [os.path.join(self.examples, f"Split-{split}", "*")]

    def raw_examples(self, split: str) -> List[bytes]:
        from tests.transform_fixture import serialize

        return serialize(self.splits[split], self.spec)

    def twin(self, trainer_config):
        """A fresh JointTrainer of a twin model on this Transform output, its variables built."""
        import tensorflow_transform as tft

        from modules.layout import feature_layout
        from modules.networks import TwinModel
        from modules.training import JointTrainer

        output = tft.TFTransformOutput(self.transform_graph)
        layout = feature_layout(
            output, self.config.feature_specs, self.config.label, "classification"
        )
        return JointTrainer(TwinModel(layout, trainer_config), trainer_config)


@pytest.fixture(scope="session")
def tiny_penguins(tmp_path_factory) -> TinyPenguins:
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tensorflow_transform.tf_metadata import schema_utils
    from tfx.utils import io_utils

    from pipeline.config import DEFAULT_DATA, DEFAULT_SCHEMA, PipelineConfig
    from pipeline.pipeline import transform_config
    from pipeline.resolution import resolve
    from tests.transform_fixture import csv_instances, write_transform_output

    config = resolve(PipelineConfig())
    schema = io_utils.parse_pbtxt_file(DEFAULT_SCHEMA, schema_pb2.Schema())
    spec = schema_utils.schema_as_feature_spec(schema).feature_spec
    rows = csv_instances(DEFAULT_DATA, spec, 10**6)
    splits = {
        "train": [r for i, r in enumerate(rows) if i % 6 < 4],
        "validation": rows[4::6],
        "eval": rows[5::6],
    }
    folder = str(tmp_path_factory.mktemp("tiny_penguins"))
    write_transform_output(folder, splits, spec, transform_config(config))
    return TinyPenguins(folder, config, spec, splits)


@dataclasses.dataclass
class TinyModel:
    """What run_fn wrote for the tiny penguins: the combined model, the networks, the run folder."""

    serving_model_dir: str
    networks_dir: str
    model_run_dir: str
    train_steps: int


@pytest.fixture(scope="session")
def tiny_model(tiny_penguins, tmp_path_factory) -> TinyModel:
    """TFX's own FnArgs for the Trainer, given to our run_fn: a short real training and export."""
    from tfx.components.trainer.fn_args_utils import FnArgs

    from modules import names
    from modules.trainer import run_fn
    from pipeline.pipeline import trainer_config

    folder = str(tmp_path_factory.mktemp("tiny_model"))
    serving = os.path.join(folder, "model", "Format-Serving")
    steps = 200
    run_fn(
        FnArgs(
            train_files=tiny_penguins.files("train"),
            eval_files=tiny_penguins.files("validation"),
            train_steps=steps,
            eval_steps=0,
            transform_graph_path=tiny_penguins.transform_graph,
            serving_model_dir=serving,
            model_run_dir=os.path.join(folder, "model_run"),
            custom_config=trainer_config(tiny_penguins.config),
        )
    )
    networks = os.path.join(folder, "model", names.NETWORK_MODELS_DIR)
    return TinyModel(serving, networks, os.path.join(folder, "model_run"), steps)


@pytest.fixture(scope="session")
def served(tiny_model) -> dict:
    """The tiny combined model loaded, twelve complete penguin rows and its answers to them."""
    import tensorflow as tf

    from modules import names
    from pipeline.config import DEFAULT_DATA
    from serving_client.__main__ import feature_spec_of
    from serving_client.raw_examples import read_rows, serialize

    model_dir = tiny_model.serving_model_dir
    rows = [r for r in read_rows(DEFAULT_DATA) if all(r.values())][:12]
    spec = feature_spec_of(model_dir)
    model = tf.saved_model.load(model_dir)
    expected = model.signatures[names.SERVING_DEFAULT](examples=tf.constant(serialize(rows, spec)))
    return {
        "model": model,
        "rows": rows,
        "spec": spec,
        "expected": {k: v.numpy() for k, v in expected.items()},
    }


@pytest.fixture
def loopback(served):
    """A loopback stand-in for TF Serving's REST API (predict and metadata) on a free port."""
    import threading
    from http.server import HTTPServer

    from tests.rest_stand_in import RestHandler

    RestHandler.model = served["model"]
    server = HTTPServer(("127.0.0.1", 0), RestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
