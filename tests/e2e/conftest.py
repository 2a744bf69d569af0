"""The default pipeline on the embedded penguins, run from the command line as a user runs it."""

import pytest


@pytest.fixture(scope="session")
def penguin_run(tmp_path_factory):
    """The default pipeline run twice into one folder (the second run: cached)."""
    from pipeline.summary import summarize
    from tests.pipeline_runs import PipelineRun

    run = PipelineRun(str(tmp_path_factory.mktemp("tfx_runs")), [])
    run.run()
    run.first_summary = summarize(run.metadata_path)
    run.run()
    return run


def pytest_collection_modifyitems(items):
    """Every end-to-end test runs pipelines: all are `slow` (`make test-fast` leaves them out)."""
    for item in items:
        if "/tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
