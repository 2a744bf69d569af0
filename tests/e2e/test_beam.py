"""Transform through Beam's portable runner (pipeline/beam.py's `portable` profile) gives the same
transformed data as the local runner, on the embedded penguins; neither leaves temporary files."""

import glob
import os
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from pipeline import cli


# -- portable vs local: the same Transform output ---------------------------------------------------
def transformed_rows(root: str) -> dict:
    """Split -> rows of Transform's materialized examples, as a sorted float matrix (column order fixed)."""
    import tensorflow_transform as tft

    (graph,) = glob.glob(os.path.join(root, "Transform", "transform_graph", "*"))
    spec = tft.TFTransformOutput(graph).transformed_feature_spec()
    keys = sorted(spec)
    rows = {}
    for split in ("train", "eval"):
        files = glob.glob(
            os.path.join(root, "Transform", "transformed_examples", "*", f"Split-{split}", "*")
        )
        parsed = [
            tf.io.parse_single_example(r, spec)
            for r in tf.data.TFRecordDataset(files, compression_type="GZIP")
        ]
        matrix = np.array([[float(np.asarray(p[k]).reshape(-1)[0]) for k in keys] for p in parsed])
        rows[split] = matrix[np.lexsort(matrix.T[::-1])]
    return rows


def run_to_transform(output_dir: str, profile: str) -> str:
    from tfx.orchestration import pipeline as pipeline_py

    from pipeline.local import run_dag

    config = cli.parse(
        ["--output", output_dir, "--beam-profile", profile, "--inference-data", "none"], "test"
    )
    run_dag(config, pipeline_py.RunOptions(to_nodes=["Transform"]))
    return config.pipeline_root


@pytest.mark.slow
def test_transform_through_the_portable_profile_gives_the_same_transformed_data_as_local(
    tmp_path, monkeypatch
):
    system_tmp = tmp_path / "system-tmp"  # what the runs leave in the temporary directory
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    local = transformed_rows(run_to_transform(str(tmp_path / "local"), "local"))
    portable_root = run_to_transform(str(tmp_path / "portable"), "portable")
    assert sorted(os.listdir(system_tmp)) == [], "a run left temporary files behind"
    portable = transformed_rows(portable_root)
    for split in ("train", "eval"):
        assert local[split].shape == portable[split].shape and len(local[split]) > 50, split
        np.testing.assert_allclose(portable[split], local[split], rtol=0, atol=1e-6, err_msg=split)
    for vocabulary in glob.glob(
        os.path.join(str(tmp_path / "local"), "**", "transform_fn", "assets", "*"), recursive=True
    ):
        (twin,) = glob.glob(
            os.path.join(
                portable_root,
                "Transform",
                "transform_graph",
                "*",
                "transform_fn",
                "assets",
                os.path.basename(vocabulary),
            )
        )
        with open(vocabulary, "rb") as a, open(twin, "rb") as b:
            assert a.read() == b.read(), vocabulary
