"""Beam runner profiles (pipeline/beam.py): documented arguments and fail-fast validation."""

import os

import pytest

from pipeline import cli
from pipeline.beam import BeamConfig

DOCUMENTED = {
    "local": ["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"],
    "multiprocess": [
        "--runner=DirectRunner",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
    ],
    "portable": ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
    "flink": [
        "--runner=FlinkRunner",
        "--flink_master=flink-jm:8081",
        "--environment_type=DOCKER",
        "--environment_config=registry/twinnorm:1",
        "--sdk_container_image=registry/twinnorm:1",
    ],
    "spark": [
        "--runner=SparkRunner",
        "--spark_master_url=spark://spark-master:7077",
        "--environment_type=DOCKER",
        "--environment_config=registry/twinnorm:1",
        "--sdk_container_image=registry/twinnorm:1",
    ],
    "dataflow": [
        "--runner=DataflowRunner",
        "--project=my-project",
        "--region=europe-west4",
        "--temp_location=gs://bucket/tmp",
        "--sdk_container_image=registry/twinnorm:1",
    ],
}
OPTIONS = {
    "local": [],
    "multiprocess": ["--beam-workers", "2"],
    "portable": [],
    "flink": [
        "--beam-master",
        "flink-jm:8081",
        "--beam-sdk-container-image",
        "registry/twinnorm:1",
    ],
    "spark": [
        "--beam-master",
        "spark://spark-master:7077",
        "--beam-sdk-container-image",
        "registry/twinnorm:1",
    ],
    "dataflow": [
        "--beam-project",
        "my-project",
        "--beam-region",
        "europe-west4",
        "--beam-temp-location",
        "gs://bucket/tmp",
        "--beam-sdk-container-image",
        "registry/twinnorm:1",
    ],
}


@pytest.mark.parametrize("profile", sorted(DOCUMENTED))
def test_each_profile_gives_its_documented_arguments_from_the_command_line(profile):
    config = cli.parse(
        ["--beam-profile", profile, *OPTIONS[profile], "--beam-args=--max_num_workers=4"], "test"
    )
    assert config.beam.pipeline_args() == [*DOCUMENTED[profile], "--max_num_workers=4"]


def test_beam_workers_alone_selects_multiprocess():
    assert cli.parse(["--beam-workers", "3"], "test").beam.pipeline_args()[1:] == [
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=3",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--beam-profile", "flink"],
            "Beam profile 'flink' needs --beam-master, --beam-sdk-container-image",
        ),
        (
            ["--beam-profile", "flink", "--beam-master", "jm:8081"],
            "Beam profile 'flink' needs --beam-sdk-container-image",
        ),
        (
            ["--beam-profile", "spark", "--beam-sdk-container-image", "i"],
            "Beam profile 'spark' needs --beam-master",
        ),
        (
            [
                "--beam-profile",
                "spark",
                "--beam-master",
                "host:7077",
                "--beam-sdk-container-image",
                "i",
            ],
            "spark://HOST:PORT",
        ),
        (
            ["--beam-profile", "dataflow", "--beam-project", "p"],
            "Beam profile 'dataflow' needs --beam-region, --beam-temp-location, --beam-sdk-container-image",
        ),
        (
            [
                "--beam-profile",
                "dataflow",
                "--beam-project",
                "p",
                "--beam-region",
                "r",
                "--beam-temp-location",
                "/tmp",
                "--beam-sdk-container-image",
                "i",
            ],
            "--beam-temp-location gs://",
        ),
        (
            ["--beam-profile", "portable", "--beam-workers", "2"],
            "2 Beam workers need --beam-profile multiprocess",
        ),
    ],
)
def test_a_profile_missing_a_required_argument_fails_in_one_line_before_any_component(
    argv, message, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse(argv, "test")
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1, error


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="Beam profile must be one of"):
        BeamConfig(profile="ray").pipeline_args()


def test_the_kubeflow_runner_compiles_a_profile_into_every_beam_component(tmp_path):
    import json
    import subprocess
    import sys

    from pipeline.config import REPO_ROOT

    spec_path = tmp_path / "pipeline.json"
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "kubeflow", "runner.py"),
            "--target",
            "vertex",
            "--output",
            str(spec_path),
            "--pipeline-root",
            "gs://bucket/root",
            "--image",
            "registry/twinnorm:1",
            "--beam-profile",
            "dataflow",
            *OPTIONS["dataflow"],
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    executors = json.loads(spec_path.read_text())["pipelineSpec"]["deploymentSpec"]["executors"]
    beam_executors = {
        name: e["container"]["args"]
        for name, e in executors.items()
        if "--runner=DataflowRunner" in e.get("container", {}).get("args", [])
    }
    assert {"CsvExampleGen_executor", "Transform_executor", "Evaluator_executor"} <= set(
        beam_executors
    )
    for args in beam_executors.values():
        for arg in DOCUMENTED["dataflow"]:
            assert arg in args
