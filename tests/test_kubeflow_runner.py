"""The compile command (kubeflow/runner.py) as a user calls it: a config file compiles as the local
runner reads it, and what a target cannot run fails in one line."""

import json
import os

import pytest
import yaml

from pipeline import kubeflow_spec
from pipeline.config import REPO_ROOT
from pipeline.project import TOP_LEVEL
from tests.project_copies import compile_cli

ROOT = "gs://example-bucket/twinnorm"
IMAGE = "gcr.io/example-project/twinnorm:golden"


@pytest.mark.parametrize(
    "image, message",
    [
        ([], "--target vertex needs --image REGISTRY/twinnorm:TAG"),
        (["--image", "twinnorm:1"], "--image twinnorm:1 is not a registry path"),
    ],
)
def test_vertex_needs_a_registry_image_and_says_so_in_one_line(tmp_path, image, message):
    done = compile_cli(
        str(tmp_path / "p.json"), "--target", "vertex", "--pipeline-root", ROOT, *image
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr and not (tmp_path / "p.json").exists()


def test_the_runner_compiles_a_config_file_as_the_local_runner_reads_it(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("name: penguins\ntrainer: {train_steps: 7, network_a: {hidden_units: [8]}}\n")
    path = str(tmp_path / "p.yaml")
    done = compile_cli(path, "--target", "kfp", "--pipeline-root", ROOT, "--config", str(config))
    assert done.returncode == 0, done.stderr[-2000:]
    assert kubeflow_spec.pipeline_spec(kubeflow_spec.load(path)).pipeline_info.name == "penguins"
    with open(path) as handle:  # parsed: YAML may fold the long JSON payload at any space
        text = json.dumps(yaml.safe_load(handle))
    assert r"\"hidden_units\": [8]" in text and r"\"num_steps\": 7" in text


def test_wrong_file_type_for_the_target_fails_with_one_line(tmp_path):
    done = compile_cli(str(tmp_path / "pipeline.json"), "--target", "kfp", "--pipeline-root", ROOT)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("--target kfp writes .yaml or .yml files, got " + str(tmp_path / "pipeline.json"))
    )


def test_dockerfile_installs_the_locked_stack_and_the_project():
    with open(os.path.join(REPO_ROOT, "kubeflow", "Dockerfile")) as handle:
        text = handle.read()
    assert "FROM gcr.io/tfx-oss-public/tfx:1.16.0" in text
    assert "-r requirements.lock" in text
    assert f"WORKDIR {kubeflow_spec.IMAGE_ROOT}" in text
    assert "COPY . ./" in text and "--no-deps ." in text  # setup.py's packages, data beside them
    with open(os.path.join(REPO_ROOT, ".dockerignore")) as handle:
        ignored = {line.strip() for line in handle if line.strip() and not line.startswith("#")}
    assert {".venv", "tfx_runs"} <= ignored
    assert not ignored & {*TOP_LEVEL, "data", "setup.py"}


@pytest.mark.parametrize(
    "target, args, message",
    [
        ("kfp", ["--warm-start", "a"], "--warm-start needs the latest-blessed-model resolver"),
        ("kfp", ["--drift"], "--drift finds the last blessed run's statistics"),
        ("vertex", ["--drift", "--image", IMAGE], "takes only its two built-in resolver"),
    ],
)
def test_options_a_target_cannot_run_fail_in_one_line(tmp_path, target, args, message):
    path = str(tmp_path / ("p.yaml" if target == "kfp" else "p.json"))
    done = compile_cli(path, "--target", target, "--pipeline-root", ROOT, *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr and not os.path.exists(path)
