"""Where a run's outputs live, and how a local path is told from a URI.

The one owner of both: the pipeline config, the Pusher, the multi-worker launcher, the tests and
the benchmarks ask here instead of spelling `pipelines/<name>/...` or testing for `://` themselves.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from typing import IO, List

DEFAULT_PIPELINE_NAME = "twinnorm"


def is_uri(path: str) -> bool:
    """True for an object-store or remote location (gs://, s3://, ...), which has no local form."""
    return "://" in path


def absolute(path: str) -> str:
    """A local path made absolute (TFX and TF Serving resolve relative paths elsewhere); URIs as is."""
    return path if is_uri(path) else os.path.abspath(path)


# Local paths go through `os` so that checking a user's options never waits for TensorFlow's
# import (seconds); URIs need TensorFlow's file systems.


def exists(path: str) -> bool:
    if is_uri(path):
        import tensorflow as tf

        return tf.io.gfile.exists(path)
    return os.path.exists(path)


def isdir(path: str) -> bool:
    if is_uri(path):
        import tensorflow as tf

        return tf.io.gfile.isdir(path)
    return os.path.isdir(path)


def glob_files(pattern: str) -> List[str]:
    if is_uri(pattern):
        import tensorflow as tf

        return sorted(tf.io.gfile.glob(pattern))
    return sorted(glob.glob(pattern))


def open_text(path: str) -> IO[str]:
    if is_uri(path):
        import tensorflow as tf

        return tf.io.gfile.GFile(path)
    return open(path, newline="")


@dataclasses.dataclass(frozen=True)
class OutputLayout:
    """One `--output` folder: pipeline root, ML Metadata and the serving root, per pipeline name."""

    output_dir: str
    name: str = DEFAULT_PIPELINE_NAME

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, "pipelines", self.name)

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata", self.name, "metadata.sqlite")

    @property
    def serving_root(self) -> str:
        return os.path.join(self.output_dir, "serving", self.name)

    @property
    def kept_schema(self) -> str:
        """The schema inferred on the first run of a CSV without a curated one, kept for later runs
        to check new data against: plain text, to read, edit and commit."""
        return os.path.join(self.output_dir, "schema", self.name, "schema.pbtxt")

    @property
    def prepared_dir(self) -> str:
        """Copies of data files CsvExampleGen cannot read as they are (gzip, semicolons, ...),
        one folder per content digest (pipeline/prepared_data.py)."""
        return os.path.join(self.output_dir, "prepared", self.name)

    @property
    def runs_dir(self) -> str:
        """One folder per local run (`<UTC time>`): its log and its effective configuration."""
        return os.path.join(self.output_dir, "runs", self.name)

    def component_dir(self, component: str, *parts: str) -> str:
        """A component's folder in the pipeline root (`Trainer`, `Trainer/model_run`, ...)."""
        return os.path.join(self.pipeline_root, component, *parts)

    def artifact_dirs(self, component: str, output: str) -> List[str]:
        """Every execution's folder of a component output, oldest first (local runs only)."""
        folders = glob.glob(os.path.join(self.component_dir(component, output), "*"))
        return sorted(folders, key=lambda folder: int(os.path.basename(folder)))

    def newest_artifact(self, component: str, output: str) -> str:
        """The newest execution's folder of a component output; a one-line error when none."""
        folders = self.artifact_dirs(component, output)
        if not folders:
            raise FileNotFoundError(
                f"no {component}/{output} under {self.pipeline_root}: "
                f"run `python local_runner.py --output {self.output_dir}` first"
            )
        return folders[-1]
