"""Test set-up: Keras 2 before TensorFlow is imported, and quiet TF logs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


import pytest


@pytest.fixture(scope="session")
def penguin_run(tmp_path_factory):
    """The default pipeline on the embedded penguins, run twice into one folder (second: cached)."""
    from tests.pipeline_runs import PipelineRun

    run = PipelineRun(str(tmp_path_factory.mktemp("tfx_runs")), [])
    run.run()
    from pipeline.summary import summarize

    run.first_summary = summarize(run.metadata_path)
    run.run()
    return run
