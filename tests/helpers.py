"""The tests' shared helpers: a tiny Transform output built as TFX's Transform builds one, running
the local pipeline from the command line as a user does, and reading its artifacts."""

import base64
import csv
import dataclasses
import glob
import hashlib
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from typing import Callable, Dict, List, Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow.core.framework import types_pb2
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from components.report import collect
from components.report.numbers import ReportData
from modules import names
from modules.hparams import TrainerConfig
from modules.paths import OutputLayout
from modules.preprocessing import preprocessing_fn
from pipeline.project import REPO_ROOT, TOP_LEVEL


@dataclasses.dataclass
class PipelineRun:
    output_dir: str
    stdout: List[str]  # one per invocation

    @property
    def outputs(self) -> OutputLayout:
        return OutputLayout(self.output_dir)

    @property
    def metadata_path(self) -> str:
        return self.outputs.metadata_path

    @property
    def serving_root(self) -> str:
        return self.outputs.serving_root

    def artifact_dir(self, component: str, output: str) -> str:
        """Newest artifact folder of a component output."""
        return self.outputs.newest_artifact(component, output)

    def newest_log(self) -> str:
        """The text of the newest local run's log (`<output>/runs/<name>/<stamp>/run.log`)."""
        logs = sorted(glob.glob(os.path.join(self.outputs.runs_dir, "*", "run.log")))
        with open(logs[-1]) as handle:
            return handle.read()

    def run(self, *args: str) -> str:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        result = subprocess.run(
            [sys.executable, "local_runner.py", "--output", self.output_dir, *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        self.stdout.append(result.stdout)
        return result.stdout

    def split_examples(self, split: str) -> List[bytes]:
        """ExampleGen's raw rows of one split, labels included."""
        files = glob.glob(
            os.path.join(self.artifact_dir("CsvExampleGen", "examples"), f"Split-{split}", "*")
        )
        return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]

    def eval_examples(self) -> List[bytes]:
        """ExampleGen's eval split: the raw rows the Evaluator sees, labels included."""
        return self.split_examples("eval")


def snapshot(serving_root: str) -> dict:
    """Every served file -> its sha256: what TF Serving would load."""
    result = {}
    for path in sorted(glob.glob(os.path.join(serving_root, "**"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                result[os.path.relpath(path, serving_root)] = hashlib.sha256(
                    handle.read()
                ).hexdigest()
    return result


def run_cli(output_dir: str, *args: str) -> subprocess.CompletedProcess:
    """`local_runner.py --output OUTPUT_DIR ARGS...` as a user runs it; any exit code."""
    return subprocess.run(
        [sys.executable, "local_runner.py", "--output", output_dir, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=1200,
    )


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float = 900
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the run ended before {what}"
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def kill_when(
    output_dir: str,
    condition: Callable[[], bool],
    what: str,
    project: str = REPO_ROOT,
    env: Optional[Dict[str, str]] = None,
) -> None:
    """Starts `local_runner.py` of `project` into `output_dir` and SIGKILLs its whole process group
    once `condition()` holds; its console goes to `killed-<what>.log` there."""
    with open(os.path.join(output_dir, f"killed-{what}.log"), "w") as log:
        process = subprocess.Popen(
            [sys.executable, "local_runner.py", "--output", output_dir],
            cwd=project,
            env=env or {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(condition, process, what)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def checkpoint_steps(output_dir: str) -> List[int]:
    """Steps of the Trainer's checkpoints on disk, over every execution."""
    pattern = os.path.join(
        OutputLayout(output_dir).component_dir("Trainer", "model_run"),
        "*",
        names.CHECKPOINTS_DIR,
        "*.index",
    )
    return [int(os.path.basename(p)[len("ckpt-") : -len(".index")]) for p in glob.glob(pattern)]


def recorded_checkpoint_steps(output_dir: str) -> Dict[str, int]:
    """Trainer execution folder -> the newest checkpoint its state file records: what a resume
    may trust (a kill between a checkpoint's files and its state file leaves the files unrecorded)."""
    pattern = os.path.join(OutputLayout(output_dir).component_dir("Trainer", "model_run"), "*")
    recorded = {
        folder: tf.train.latest_checkpoint(os.path.join(folder, names.CHECKPOINTS_DIR))
        for folder in glob.glob(pattern)
    }
    return {folder: int(path.rsplit("-", 1)[1]) for folder, path in recorded.items() if path}


def logged_steps(log_text: str) -> List[int]:
    """Training steps a run's log reports (`step N: network_a_train_loss=...`)."""
    return [int(m) for m in re.findall(r"\bstep (\d+): network_a_train_loss=", log_text)]


def run_tf1_session(model_dir: str, signature: str, inputs: dict, tmp_dir: str) -> dict:
    """Outputs of `signature` computed in a fresh process through a TF1 session."""
    """`inputs`: input key -> NumPy array, or a list of bytes for a string input."""
    input_dir, out = tempfile.mkdtemp(dir=tmp_dir), os.path.join(tmp_dir, "out.npz")
    numeric = {}
    for key, value in inputs.items():
        if isinstance(value, list) or np.asarray(value).dtype.kind in "SOU":
            with tf.io.TFRecordWriter(os.path.join(input_dir, f"{key}.tfrecord")) as writer:
                for item in value:
                    writer.write(item if isinstance(item, bytes) else str(item).encode())
        else:
            numeric[key] = value
    np.savez(os.path.join(input_dir, "numeric.npz"), **numeric)
    script = os.path.join(REPO_ROOT, "tests", "tf1_session.py")
    result = subprocess.run(
        [sys.executable, script, model_dir, signature, input_dir, out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(out))


def serialize(rows: List[dict], spec: dict) -> List[bytes]:
    """TFT instance dicts (a list for a VarLen feature, a value for a FixedLen one) as tf.Examples."""

    def feature(value, dtype) -> tf.train.Feature:
        values = value if isinstance(value, list) else [value]
        if dtype == tf.string:
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        if dtype == tf.int64:
            return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={k: feature(row[k], s.dtype) for k, s in spec.items()}
            )
        ).SerializeToString()
        for row in rows
    ]


def _transformed_records(output: tft.TFTransformOutput, examples: List[bytes], spec: dict):
    """Transform's output rows for raw `examples`, as the tf.Examples TFX's Transform writes."""
    values = output.transform_raw_features(
        tf.io.parse_example(examples, spec), drop_unused_features=True
    )
    for i in range(len(examples)):
        feature = {}
        for key, value in values.items():
            row = np.reshape(value[i].numpy(), [-1])
            feature[key] = (
                tf.train.Feature(int64_list=tf.train.Int64List(value=row))
                if value.dtype == tf.int64
                else tf.train.Feature(float_list=tf.train.FloatList(value=row))
            )
        yield tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_transform_output(folder: str, splits: Dict[str, List[dict]], spec: dict, config: dict):
    """preprocessing_fn analyzed on `splits["train"]` (tft_beam) and applied to every split, laid
    out as TFX's Transform lays out its outputs: `<folder>/transform_graph` (with the raw
    metadata) and gzipped `<folder>/transformed_examples/Split-<name>/` records. Returns the
    TFTransformOutput."""
    graph = os.path.join(folder, "transform_graph")
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=tempfile.mkdtemp(dir=folder)):
        (_, _), transform_fn = (splits["train"], metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(graph)
    metadata_io.write_metadata(
        metadata, os.path.join(graph, tft.TFTransformOutput.RAW_METADATA_DIR)
    )
    output = tft.TFTransformOutput(graph)
    for split, rows in splits.items():
        directory = os.path.join(folder, "transformed_examples", f"Split-{split}")
        os.makedirs(directory)
        path = os.path.join(directory, "transformed_examples-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, "GZIP") as writer:
            for record in _transformed_records(output, serialize(rows, spec), spec):
                writer.write(record)
    return output


def csv_instances(path: str, spec: dict, rows: int) -> List[dict]:
    """The first `rows` rows of a CSV as TFT instance dicts typed by `spec` (an empty cell is a
    missing value, as CsvExampleGen reads it)."""
    cast = {tf.string: str.encode, tf.int64: int, tf.float32: float}
    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))[:rows]
    return [
        {key: [cast[s.dtype](row[key])] if row[key] else [] for key, s in spec.items()}
        for row in table
    ]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(html.parser.HTMLParser):
    """Section ids, h2 titles and img sources of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.sections, self.titles, self.images, self._in_h2 = [], [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "img":
            self.images.append(attrs["src"])
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.titles.append(data)
            self._in_h2 = False


def report_data(task: str = "classification") -> ReportData:
    """A report's data for six examples, three outputs per network: network_b's raw scale is 10x network_a's."""
    rng = np.random.default_rng(0)
    raw_a = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 2, 0, 1, 2])
    outputs = {}
    for network, raw in ((names.NETWORK_A, raw_a), (names.NETWORK_B, 10 * raw_a)):
        low, high = raw.min(axis=1, keepdims=True), raw.max(axis=1, keepdims=True)
        normalized = (raw - low) / (high - low)
        prediction = normalized.argmax(axis=1) if task == "classification" else normalized[:, 0]
        outputs[network] = collect.NetworkOutputs(raw, normalized, prediction)
    split = collect.SplitOutputs("eval", labels, outputs, outputs[names.NETWORK_A].prediction)
    curves = {
        "train": {names.scalar_tag("loss", n): [(50, 0.5), (100, 0.25)] for n in names.NETWORKS},
        "eval": {names.scalar_tag("loss", n): [(100, 0.3)] for n in names.NETWORKS},
    }
    metrics = {"candidate": {n: {"sparse_categorical_accuracy": 0.5} for n in names.NETWORKS}}
    config = {
        "name": "tiny",
        "data": "tiny.csv",
        "label": "y",
        "features": ["x"],
        "trainer": {**TrainerConfig().to_dict(), "task": task},
    }
    return ReportData(
        config,
        split,
        ("a", "b", "c") if task == "classification" else (),
        curves,
        metrics,
        True,
        [],
        True,
        {"pushed": True, "version": 4, "serving_root": "/srv"},
        {m: [3, 4] for m in names.SERVED_MODELS},
    )


def decode_rest_instances(body: dict, signature) -> dict:
    """TF Serving's row format: instances -> one tensor per input, typed by the signature."""
    inputs = signature.structured_input_signature[1]
    columns = {key: [] for key in inputs}
    for instance in body["instances"]:
        for key in inputs:
            value = instance[key]
            columns[key].append(
                base64.b64decode(value["b64"]) if isinstance(value, dict) else value
            )
    return {k: tf.constant(v, dtype=inputs[k].dtype) for k, v in columns.items()}


def decode_rest_inputs(body: dict, signature) -> dict:
    """TF Serving's columnar format: inputs -> one tensor per input, typed by the signature."""
    inputs = signature.structured_input_signature[1]
    return {
        key: tf.constant(
            [base64.b64decode(v["b64"]) if isinstance(v, dict) else v for v in body["inputs"][key]],
            dtype=inputs[key].dtype,
        )
        for key in inputs
    }


def run_rest_body(model, body) -> dict:
    signature = model.signatures[body["signature_name"]]
    body = json.loads(json.dumps(body))  # what crosses the wire
    decode = decode_rest_inputs if "inputs" in body else decode_rest_instances
    return {k: v.numpy() for k, v in signature(**decode(body, signature)).items()}


class RestHandler(BaseHTTPRequestHandler):
    """Answers /v1/models/<name>:predict like TF Serving, by running the loaded SavedModel."""

    model = None

    def do_POST(self):  # noqa: N802 (http.server's handler name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        outputs = run_rest_body(self.model, body)
        if "inputs" in body:  # the columnar format's answer: one entry per output
            self.answer(200, {"outputs": {k: _json_value(v) for k, v in outputs.items()}})
            return
        predictions = [
            {
                k: (v[i].decode() if isinstance(v[i], bytes) else v[i].tolist())
                for k, v in outputs.items()
            }
            for i in range(len(body["instances"]))
        ]
        payload = json.dumps({"predictions": predictions}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 (http.server's handler name)
        """GET /v1/models/<name>/metadata as TF Serving answers it (signature defs as JSON)."""
        name = self.path.split("/v1/models/")[-1].split("/")[0]
        if name != names.served_model_name("twinnorm", names.COMBINED):
            self.answer(404, {"error": f"Servable not found for request: Latest({name})"})
            return
        self.answer(200, metadata_of(self.model, name))

    def answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _json_value(value: np.ndarray):
    return [v.decode() for v in value] if value.dtype == object else value.tolist()


def metadata_of(model, name: str) -> dict:
    """GetModelMetadata's REST answer: every signature's inputs with their DataType names."""

    def tensors(specs) -> dict:
        return {
            key: {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum), "name": key}
            for key, spec in specs.items()
        }

    signatures = {
        key: {
            "inputs": tensors(function.structured_input_signature[1]),
            "outputs": tensors(function.structured_outputs),
            "method_name": "tensorflow/serving/predict",
        }
        for key, function in model.signatures.items()
    }
    return {
        "model_spec": {"name": name, "signature_name": "", "version": "1"},
        "metadata": {"signature_def": {"signature_def": signatures}},
    }


def copy_project(folder: str) -> str:
    for name in (*TOP_LEVEL, "data"):
        shutil.copytree(
            os.path.join(REPO_ROOT, name),
            os.path.join(folder, name),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(os.path.join(REPO_ROOT, "local_runner.py"), folder)
    return folder


def edit(path: str, old: str, new: str) -> None:
    with open(path) as handle:
        text = handle.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w") as handle:
        handle.write(text.replace(old, new, 1))


def compile_cli(output: str, *args: str) -> subprocess.CompletedProcess:
    """The runner as a user calls it, from another working directory."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "kubeflow", "runner.py"),
            "--output",
            output,
            *args,
        ],
        cwd=os.path.dirname(output),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


CONSOLE_ORDER = (  # the default run's components in the order the console lists them
    "CsvExampleGen",
    "ImportSchemaGen",
    "InferenceExampleGen",
    "latest_blessed_model_resolver",
    "StatisticsGen",
    "ExampleValidator",
    "DataGate",
    "Transform",
    "Trainer",
    "Evaluator",
    "BulkInferrer",
    "Pusher",
    "BatchPredictions",
    "RunReport",
)


def component_lines(stdout: str) -> dict:
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^  (\S+)\s+(\d+\.\d) s(?:  (.*))?$", line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} printed twice"
            found[match.group(1)] = match.group(3) or ""
    return found


def run_locally(spec: str, run_root: str) -> subprocess.CompletedProcess:
    """`kubeflow/run_locally.py SPEC --run-root RUN_ROOT` as a user runs it; any exit code."""
    return subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "kubeflow", "run_locally.py"), spec]
        + ["--run-root", run_root],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=1800,
    )
