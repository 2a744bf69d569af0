"""The DAG (pipeline/pipeline.py) as create_pipeline builds it, without running it."""

import pytest

from pipeline import cli


@pytest.mark.parametrize("argv, disabled", [([], 1), (["--transform-statistics"], 0)])
def test_transform_statistics_are_off_unless_asked_for(argv, disabled, tmp_path):
    from pipeline.pipeline import create_pipeline

    config = cli.parse([*argv, "--output", str(tmp_path)], "test")
    transform = next(c for c in create_pipeline(config).components if c.id == "Transform")
    assert transform.exec_properties["disable_statistics"] == disabled
