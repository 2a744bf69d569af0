"""A copy of the project to edit, and the Kubeflow runner and spec runner run as a user runs them."""

import os
import shutil
import subprocess
import sys

from pipeline.project import REPO_ROOT, TOP_LEVEL


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
