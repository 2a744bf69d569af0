"""A local run's temporary files in one folder that the run removes when it ends.

Left alone, every Beam component of a run leaves a folder in the system's temporary directory:
TFX packages its own install for the Beam workers (`tfx_ephemeral`, a source archive of the
whole `tfx` package, in a `mkdtemp` folder it never removes), and TensorFlow's autograph and
Beam's stager leave files beside it. On a machine that runs the pipeline all day that filled the
disk. Here a run gets one folder, every temporary file of the run (and of its worker processes)
goes there, TFX's package is built once per run instead of once per component, and the folder
is removed when the run ends, however it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from typing import Iterator, List

PREFIX = "twinnorm-run-"


def folder_for(output: str) -> str:
    """One folder per `--output`: the output lock makes it this run's alone, and a folder that a
    killed run left behind is removed by the next run into the same output."""
    digest = hashlib.sha256(os.path.abspath(output).encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), PREFIX + digest)


@contextlib.contextmanager
def run_scratch(output: str) -> Iterator[str]:
    """Points Python's and child processes' temporary directory at the run's folder."""
    folder = folder_for(output)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    saved_env, saved_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved_tempdir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(folder, ignore_errors=True)


def with_tfx_package(beam_args: List[str], folder: str) -> List[str]:
    """The Beam arguments with TFX's own package for the workers, built once for the run.

    Each Beam component builds it when its arguments name no dependency (TFX's
    `make_beam_dependency_flags`); profiles whose workers run an image name one already and are
    returned unchanged. The package sits at a fixed path in the run's folder, so the arguments,
    part of every component's cache key, are the same from one run to the next."""
    from tfx.utils import dependency_utils

    flagged = dependency_utils.make_beam_dependency_flags(list(beam_args))
    if flagged == list(beam_args):
        return flagged
    built = flagged[-1].split("=", 1)[1]
    package = os.path.join(folder, "tfx-package", os.path.basename(built))
    os.makedirs(os.path.dirname(package))
    shutil.move(built, package)
    shutil.rmtree(_up(built, 4), ignore_errors=True)  # <mkdtemp>/build/tfx/dist/<archive>
    return [*beam_args, f"--extra_package={package}"]


def _up(path: str, levels: int) -> str:
    for _ in range(levels):
        path = os.path.dirname(path)
    return path
