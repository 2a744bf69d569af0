"""The compiled specs (pipeline/kubeflow_spec.py): both targets parse strictly, are structurally
sound and match the golden files."""

import copy
import dataclasses
import json
import os
import re

import pytest
import yaml
from google.protobuf import json_format

from pipeline import kubeflow_spec
from pipeline.config import REPO_ROOT
from pipeline.resolution import resolve
from tests.project_copies import compile_cli

IMAGE = "gcr.io/example-project/twinnorm:golden"
ROOT = "gs://example-bucket/twinnorm"
GOLDEN = {
    "kfp": os.path.join(REPO_ROOT, "tests", "golden", "kfp_pipeline.yaml"),
    "vertex": os.path.join(REPO_ROOT, "tests", "golden", "vertex_pipeline.json"),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """target -> (path, parsed message), compiled with the embedded data at its path in the image."""
    folder = tmp_path_factory.mktemp("compiled")
    result = {}
    for target, name in (("kfp", "pipeline.yaml"), ("vertex", "pipeline.json")):
        path = str(folder / name)
        done = compile_cli(path, "--target", target, "--image", IMAGE, "--pipeline-root", ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"wrote {target} pipeline" in done.stdout
        result[target] = (path, kubeflow_spec.load(path))
    return result


def spec_of(compiled, target):
    return kubeflow_spec.pipeline_spec(compiled[target][1])


def executors(spec) -> dict:
    return json_format.MessageToDict(spec.deployment_spec)["executors"]


def test_kfp_target_is_a_bare_pipeline_spec_and_vertex_a_pipeline_job(compiled):
    with open(compiled["kfp"][0]) as handle:
        kfp_doc = yaml.safe_load(handle)
    assert {"pipelineInfo", "root", "components", "deploymentSpec", "schemaVersion"} <= set(kfp_doc)
    assert "pipelineSpec" not in kfp_doc
    with open(compiled["vertex"][0]) as handle:
        vertex_doc = json.load(handle)
    assert vertex_doc["runtimeConfig"]["gcsOutputDirectory"] == ROOT
    assert vertex_doc["pipelineSpec"]["pipelineInfo"]["name"] == "twinnorm"


def test_strict_parse_rejects_an_unknown_field(compiled, tmp_path):
    with open(compiled["kfp"][0]) as handle:
        doc = yaml.safe_load(handle)
    doc["root"]["dag"]["tasks"]["Trainer"]["retries"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(json_format.ParseError, match="retries"):
        kubeflow_spec.load(str(path))


@pytest.mark.parametrize("target", ["kfp", "vertex"])
def test_compiled_spec_is_sound(compiled, target):
    spec = spec_of(compiled, target)
    allow_resolver = kubeflow_spec.TARGETS[target].baseline_resolver
    assert kubeflow_spec.spec_problems(spec, IMAGE, allow_resolver) == []
    order = kubeflow_spec.task_order(spec)
    for task, needs in kubeflow_spec.dependencies(spec).items():
        assert all(order.index(n) < order.index(task) for n in needs), task
    images = {e["container"]["image"] for e in executors(spec).values() if "container" in e}
    assert images == {IMAGE}


def test_only_vertex_has_the_baseline_resolver(compiled):
    kfp_spec, vertex_spec = spec_of(compiled, "kfp"), spec_of(compiled, "vertex")
    assert not [e for e in executors(kfp_spec).values() if "resolver" in e]
    assert "baseline_model" not in kfp_spec.root.dag.tasks["Evaluator"].inputs.artifacts
    assert [label for label, e in executors(vertex_spec).items() if "resolver" in e]
    assert "baseline_model" in vertex_spec.root.dag.tasks["Evaluator"].inputs.artifacts


def test_both_targets_compile_the_same_dag_as_the_local_runner(compiled):
    from pipeline.config import PipelineConfig
    from pipeline.pipeline import create_pipeline

    local = {c.id for c in create_pipeline(resolve(PipelineConfig())).components}
    kfp_tasks = set(spec_of(compiled, "kfp").root.dag.tasks)
    vertex_tasks = set(spec_of(compiled, "vertex").root.dag.tasks)
    assert kfp_tasks == local - {"latest_blessed_model_resolver"}
    assert len(vertex_tasks) >= len(local)  # the Resolver compiles to a sub-DAG of tasks


def test_embedded_data_is_read_from_the_image(compiled):
    params = spec_of(compiled, "kfp").root.dag.tasks["CsvExampleGen"].inputs.parameters
    assert (
        params["input_base"].runtime_value.constant_value.string_value
        == f"{kubeflow_spec.IMAGE_ROOT}/data"
    )
    pusher = spec_of(compiled, "kfp").root.dag.tasks["Pusher"].inputs.parameters
    assert (
        pusher["serving_root"].runtime_value.constant_value.string_value
        == f"{ROOT}/serving/twinnorm"
    )


@pytest.mark.parametrize("target", ["kfp", "vertex"])
def test_golden_file(compiled, target):
    """Fails on any change of the compiled spec; after an intended change: UPDATE_GOLDEN=1 make test."""
    actual = kubeflow_spec.normalized(compiled[target][1])
    if os.environ.get("UPDATE_GOLDEN"):
        os.makedirs(os.path.dirname(GOLDEN[target]), exist_ok=True)
        with open(GOLDEN[target], "w") as handle:
            if target == "kfp":
                yaml.safe_dump(actual, handle, sort_keys=True)
            else:
                json.dump(actual, handle, sort_keys=True, indent=1)
    with open(GOLDEN[target]) as handle:
        golden = yaml.safe_load(handle) if target == "kfp" else json.load(handle)
    assert actual == golden


def test_golden_normalization_hides_only_versions(compiled):
    job = copy.deepcopy(compiled["vertex"][1])
    job.labels["tfx_version"] = "9-9-9"
    job.pipeline_spec["sdkVersion"] = "tfx-9.9.9"
    assert kubeflow_spec.normalized(job) == kubeflow_spec.normalized(compiled["vertex"][1])
    job.pipeline_spec["pipelineInfo"]["name"] = "other"
    assert kubeflow_spec.normalized(job) != kubeflow_spec.normalized(compiled["vertex"][1])


@pytest.mark.parametrize("target", ["kfp", "vertex"])
def test_the_compiled_spec_carries_the_code_fingerprint_and_the_golden_hides_it(compiled, target):
    from google.protobuf import json_format

    from pipeline import code_version
    from pipeline.pipeline import code_fingerprints

    text = json.dumps(json_format.MessageToDict(compiled[target][1]))
    fingerprints = set(code_version.PATTERN.findall(text))
    expected = {c: f for c, f in code_fingerprints().items() if c != "Tuner"}  # no --tune here
    assert fingerprints == set(expected.values())  # each component that runs our code has its own
    assert len(fingerprints) == len(expected)
    assert not code_version.PATTERN.findall(
        json.dumps(kubeflow_spec.normalized(compiled[target][1]))
    )


@pytest.mark.parametrize(
    "breakage, problem",
    [
        (
            lambda d: d["root"]["dag"]["tasks"]["Trainer"]["dependentTasks"].append("Ghost"),
            "unknown task Ghost",
        ),
        (
            lambda d: (
                d["root"]["dag"]["tasks"]["CsvExampleGen"]
                .setdefault("dependentTasks", [])
                .append("Pusher")
            ),
            "dependency cycle",
        ),
        (
            lambda d: d["deploymentSpec"]["executors"]["Trainer_executor"]["container"].update(
                image="other:1"
            ),
            "uses image 'other:1'",
        ),
        (
            lambda d: d["deploymentSpec"]["executors"]["Trainer_executor"]["container"][
                "args"
            ].append("{{$.inputs.parameters['x']}}"),
            "placeholder {{$.inputs.parameters['x']}}",
        ),
        (
            lambda d: d["deploymentSpec"]["executors"].update(
                extra_resolver={"resolver": {"outputArtifactQueries": {}}}
            ),
            "is a resolver",
        ),
    ],
)
def test_spec_checks_catch_each_breakage(compiled, breakage, problem):
    with open(compiled["kfp"][0]) as handle:
        doc = yaml.safe_load(handle)
    breakage(doc)
    spec = json_format.ParseDict(doc, type(compiled["kfp"][1])())
    problems = kubeflow_spec.spec_problems(spec, IMAGE, allow_resolver=False)
    assert any(problem in p for p in problems), problems


def test_the_tuner_compiles_into_the_spec_ahead_of_the_trainer(tmp_path):
    path = str(tmp_path / "p.yaml")
    done = compile_cli(path, "--target", "kfp", "--pipeline-root", ROOT, "--tune", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    spec = kubeflow_spec.pipeline_spec(kubeflow_spec.load(path))
    assert "Tuner" in kubeflow_spec.dependencies(spec)["Trainer"]
    with open(path) as handle:  # parsed: YAML may fold the long JSON payload at any space
        assert re.search(r'tune_trials\\*": 3\b', json.dumps(yaml.safe_load(handle)))


def test_vertex_warm_start_feeds_the_resolvers_model_to_the_trainer(tmp_path):
    path = str(tmp_path / "p.json")
    done = compile_cli(
        path, "--target", "vertex", "--pipeline-root", ROOT, "--image", IMAGE, "--warm-start", "b"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    spec = kubeflow_spec.pipeline_spec(kubeflow_spec.load(path))
    trainer = spec.root.dag.tasks["Trainer"]
    assert "base_model" in trainer.inputs.artifacts
    needed = kubeflow_spec.dependencies(spec)["Trainer"]
    assert any(task.startswith("latest_blessed_model_resolver") for task in needed), needed


def test_data_that_needs_a_copy_is_refused_and_row_numbering_is_left_to_key_columns():
    from pipeline.config import ROW_KEY, ROWS_NUMBERED, PipelineConfig

    numbered = dataclasses.replace(
        PipelineConfig(),
        row_key=ROW_KEY,
        prepared_inference_data="/local/prepared/copy",
        data_notes=(ROWS_NUMBERED,),
    )
    config = kubeflow_spec.for_target(numbered, "kfp", ROOT)
    assert config.prediction_keys == () and config.prepared_inference_data == ""
    copied = dataclasses.replace(numbered, data_notes=("data.csv.gz: gzip",))
    with pytest.raises(ValueError, match=r"cannot be read in place \(data.csv.gz: gzip\)"):
        kubeflow_spec.for_target(copied, "kfp", ROOT)
