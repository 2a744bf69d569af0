"""The local runner's command line (pipeline/local.py): bad options fail in one line before any
component, and --print-config round-trips through --config."""

import subprocess
import sys

import pytest
import yaml

from pipeline import config_file
from pipeline.config import REPO_ROOT

BODY_MASS = ["--label", "body_mass_g", "--inference-data", "none"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--label", "beak"], "label column 'beak' is not in"),
        (["--features", "island,wings"], "feature column(s) wings not in"),
        (["--data", "/no/such/file.csv"], "data path /no/such/file.csv does not exist"),
        (["--normalization", "batch"], "invalid choice: 'batch'"),
        (["--train-steps", "-3"], "expected a positive integer"),
        (["--schema", "/no/such/schema.pbtxt"], "schema file /no/such/schema.pbtxt does not exist"),
        (["--on-anomaly", "ignore"], "invalid choice: 'ignore'"),
        (["--data", "tests/golden"], "no data file (*.csv"),
        (
            [
                "--data",
                "data/binary/breast_cancer.csv",
                "--label",
                "malignant",
                "--normalization",
                "range",
            ],
            "normalization 'range' cannot learn a binary label",
        ),
        (
            ["--label", "sex", "--on-missing-label", "fail", "--inference-data", "none"],
            "label 'sex' is empty in 11 row(s)",
        ),
        (
            ["--label", "body_mass_g", "--on-missing-label", "fail", "--inference-data", "none"],
            "label 'body_mass_g' is empty in 2 row(s), first at ",
        ),
        (["--min-accuracy", "90"], "for 90 %, pass 0.9"),
        (
            ["--min-skill", "1"],
            "min_skill is a fraction in [0, 1) of the way from the best constant",
        ),
        (["--output", "/proc/twinnorm"], "--output /proc/twinnorm: cannot create or write"),
        (["--output", "setup.py"], "/setup.py is a file; give a folder"),
        (["--batch-size", "0"], "argument --batch-size: expected a positive integer, got 0"),
        (["--train-workers", "0"], "argument --train-workers: expected a positive integer"),
        (["--batch-size", "30", "--train-workers", "4"], "must be a multiple of train_workers 4"),
        (
            ["--beam-profile", "flink"],
            "Beam profile 'flink' needs --beam-master, --beam-sdk-container-image",
        ),
        (["--config", "/no/such.yaml"], "config file /no/such.yaml does not exist"),
        (["--serving-base", "models"], "serving_base must be an absolute path or a URI"),
        (["--verbose", "--quiet"], "argument --quiet: not allowed with argument --verbose"),
        # An option that cannot apply to this task or mode is refused, never dropped in silence.
        (["--max-mse", "0.0001"], "--max-mse is a regression bar, and label 'species' is"),
        (["--max-mae", "3"], "--max-mae is a regression bar"),
        (
            [*BODY_MASS, "--min-accuracy", "0.9"],
            "--min-accuracy is a classification bar, and label 'body_mass_g' is regression",
        ),
        (
            [*BODY_MASS, "--slice-by", "island", "--min-slice-accuracy", "0.9"],
            "--min-slice-accuracy is a classification bar",
        ),
        (
            ["--normalization", "range", "--population-shared"],
            "--population-shared sets the statistics of normalization 'population'",
        ),
        (
            ["--features", "island,year", "--key-columns", "year"],
            "--key-columns year is also a feature",
        ),
        (["--name", "../elsewhere"], "--name '../elsewhere': a pipeline name is letters"),
        (["--name", "/tmp/abs"], "--name '/tmp/abs': a pipeline name is letters"),
    ],
)
def test_local_runner_rejects_bad_options_in_one_line_before_any_component(args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", str(tmp_path), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no usage text
    assert result.stdout == ""
    assert not (tmp_path / "pipelines").exists()  # nothing ran


def print_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "local_runner.py", "--print-config", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_print_config_output_used_as_config_gives_the_same_effective_config(tmp_path):
    first = print_config("--train-steps", "7", "--normalization", "shared", "--loss", "mse")
    path = tmp_path / "run.yaml"
    path.write_text(first.stdout)
    again = print_config("--config", str(path))
    assert again.stdout == first.stdout
    parsed = yaml.safe_load(first.stdout)
    assert parsed["trainer"]["train_steps"] == 7 and parsed["trainer"]["normalization"] == "shared"
    assert config_file.read(str(path)) == config_file.read(str(path))  # a plain, stable read
    # flags beside the file win
    assert "train_steps: 9" in print_config("--config", str(path), "--train-steps", "9").stdout
