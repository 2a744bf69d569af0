"""The execution check: every container task of the compiled kfp spec, run by its own command, pushes models."""

import glob
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf
from google.protobuf import json_format, text_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp
from tensorflow_serving.config import model_server_config_pb2

from components.report.component import HTML_FILE, JSON_FILE
from modules import names
from modules.paths import OutputLayout
from pipeline import kubeflow_spec, spec_runner
from pipeline.config import DEFAULT_DATA, DEFAULT_INFERENCE_DATA, REPO_ROOT
from tests.project_copies import run_locally

DOCKERFILE = os.path.join(REPO_ROOT, "kubeflow", "Dockerfile")


@pytest.fixture(scope="module")
def kfp_run(tmp_path_factory):
    """Compiled with local data and a local root (the containers' view of the volume), then run."""
    folder = tmp_path_factory.mktemp("kfp")
    spec_path, root = str(folder / "pipeline.yaml"), str(folder / "root")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "kubeflow", "runner.py"),
            "--target",
            "kfp",
            "--output",
            spec_path,
            "--pipeline-root",
            root,
            "--data",
            DEFAULT_DATA,
            "--inference-data",
            DEFAULT_INFERENCE_DATA,
            "--image",
            "twinnorm:test",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    done = run_locally(spec_path, str(folder / "run"))
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return folder, kubeflow_spec.pipeline_spec(kubeflow_spec.load(spec_path)), done.stdout


def reported(folder, task: str, key: str) -> kfp.RuntimeArtifact:
    with open(folder / "run" / task / "executor_output.json") as handle:
        output = json_format.Parse(handle.read(), kfp.ExecutorOutput())
    (artifact,) = output.artifacts[key].artifacts
    return artifact


@pytest.mark.slow
def test_every_task_ran_in_dependency_order_and_reported_its_outputs(kfp_run):
    folder, spec, stdout = kfp_run
    ran = [line.split()[0] for line in stdout.strip().splitlines()]
    assert ran == kubeflow_spec.task_order(spec)
    for task in ran:
        component = spec.components[spec.root.dag.tasks[task].component_ref.name]
        assert (folder / "run" / task / "executor_output.json").exists(), task
        for key in component.output_definitions.artifacts:
            assert reported(folder, task, key).uri == str(folder / "run" / task / key)


@pytest.mark.slow
def test_the_compiled_pipeline_blesses_and_pushes_every_model(kfp_run):
    folder, _, _ = kfp_run
    blessing = reported(folder, "Evaluator", "blessing")
    assert blessing.metadata["blessed"] == 1
    pushed = reported(folder, "Pusher", "pushed_model")
    assert pushed.metadata["pushed"] == 1 and pushed.metadata["pushed_version"] == 1
    serving_root = OutputLayout(str(folder / "root")).serving_root
    assert pushed.metadata["serving_root"] == serving_root
    for model in names.SERVED_MODELS:
        assert os.path.isfile(os.path.join(serving_root, model, "1", "saved_model.pb")), model
    with open(os.path.join(serving_root, "models.config")) as handle:
        config = text_format.Parse(handle.read(), model_server_config_pb2.ModelServerConfig())
    assert {c.name for c in config.model_config_list.config} == {
        names.served_model_name("twinnorm", m) for m in names.SERVED_MODELS
    }
    report = reported(
        folder, "RunReport", "report"
    ).uri  # the custom artifact type crossed the container boundary
    with open(os.path.join(report, JSON_FILE)) as handle:
        assert json.load(handle)["served_versions"] == {m: [1] for m in names.SERVED_MODELS}
    assert os.path.isfile(os.path.join(report, HTML_FILE))


@pytest.mark.slow
def test_example_gen_driver_ran_before_its_executor_and_batch_inference_covered_every_row(kfp_run):
    folder, _, _ = kfp_run
    log = (folder / "run" / "logs" / "CsvExampleGen.log").read_text()
    assert log.index("file_based_example_gen.driver") < log.index("kubeflow_v2_run_executor")
    result = reported(folder, "BulkInferrer", "inference_result").uri
    files = glob.glob(os.path.join(result, "*.gz"))
    logs = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    with open(DEFAULT_INFERENCE_DATA) as handle:
        assert logs == sum(1 for _ in handle) - 1


def test_executor_input_wires_upstream_artifacts_with_their_reported_metadata(tmp_path):
    """Unit check of the synthesized ExecutorInput on a two-task spec (no subprocess)."""
    spec = kfp.PipelineSpec()
    json_format.ParseDict(
        {
            "pipelineInfo": {"name": "p"},
            "components": {
                "Gen": {
                    "executorLabel": "Gen_executor",
                    "outputDefinitions": {
                        "artifacts": {
                            "examples": {
                                "artifactType": {
                                    "instanceSchema": "title: tfx.Examples\ntype: object\n"
                                }
                            }
                        }
                    },
                },
                "Use": {
                    "executorLabel": "Use_executor",
                    "inputDefinitions": {
                        "artifacts": {
                            "examples": {
                                "artifactType": {
                                    "instanceSchema": "title: tfx.Examples\ntype: object\n"
                                }
                            }
                        },
                        "parameters": {"n": {"type": "INT"}},
                    },
                },
            },
            "deploymentSpec": {"executors": {}},
            "root": {
                "dag": {
                    "tasks": {
                        "Gen": {"componentRef": {"name": "Gen"}, "taskInfo": {"name": "Gen"}},
                        "Use": {
                            "componentRef": {"name": "Use"},
                            "taskInfo": {"name": "Use"},
                            "dependentTasks": ["Gen"],
                            "inputs": {
                                "parameters": {
                                    "n": {"runtimeValue": {"constantValue": {"intValue": "3"}}}
                                },
                                "artifacts": {
                                    "examples": {
                                        "taskOutputArtifact": {
                                            "producerTask": "Gen",
                                            "outputArtifactKey": "examples",
                                        }
                                    }
                                },
                            },
                        },
                    }
                }
            },
        },
        spec,
    )
    gen = spec_runner.executor_input(spec, "Gen", {}, str(tmp_path / "Gen"))
    assert gen.outputs.artifacts["examples"].artifacts[0].uri == str(tmp_path / "Gen" / "examples")
    upstream = kfp.RuntimeArtifact(name="gen-examples", uri="/data/examples")
    upstream.metadata.update({"split_names": '["train", "eval"]'})
    use = spec_runner.executor_input(
        spec, "Use", {"Gen": {"examples": [upstream]}}, str(tmp_path / "Use")
    )
    (given,) = use.inputs.artifacts["examples"].artifacts
    assert given.uri == "/data/examples" and given.metadata["split_names"] == '["train", "eval"]'
    assert given.type.instance_schema.startswith("title: tfx.Examples")
    assert use.inputs.parameters["n"].int_value == 3
    assert use.outputs.output_file == str(tmp_path / "Use" / "executor_output.json")


def test_image_env_is_what_the_dockerfile_sets():
    env = spec_runner.image_env(DOCKERFILE)
    assert env["TF_USE_LEGACY_KERAS"] == "1"


def test_importer_task_yields_its_artifact_without_a_container(tmp_path, monkeypatch):
    """An importer (e.g. a schema imported by URI) is resolved in-process, as KFP's driver does."""
    spec = kfp.PipelineSpec()
    json_format.ParseDict(
        {
            "pipelineInfo": {"name": "p"},
            "components": {
                "Import": {
                    "executorLabel": "Import_executor",
                    "outputDefinitions": {
                        "artifacts": {
                            "result": {
                                "artifactType": {
                                    "instanceSchema": "title: tfx.Schema\ntype: object\n"
                                }
                            }
                        }
                    },
                }
            },
            "deploymentSpec": {
                "executors": {
                    "Import_executor": {
                        "importer": {
                            "artifactUri": {"constant": "/schemas/penguins"},
                            "typeSchema": {"instanceSchema": "title: tfx.Schema\ntype: object\n"},
                            "metadata": {"curated": "yes"},
                        }
                    }
                }
            },
            "root": {
                "dag": {
                    "tasks": {
                        "Import": {
                            "componentRef": {"name": "Import"},
                            "taskInfo": {"name": "Import"},
                        }
                    }
                }
            },
        },
        spec,
    )
    monkeypatch.setattr(
        spec_runner.subprocess, "run", lambda *a, **k: pytest.fail("an importer runs no process")
    )
    runs = spec_runner.run_spec(spec, str(tmp_path), env={})
    (artifact,) = runs["Import"].outputs["result"]
    assert artifact.uri == "/schemas/penguins" and artifact.metadata["curated"] == "yes"
    assert artifact.type.instance_schema.startswith("title: tfx.Schema")
