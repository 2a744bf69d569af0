"""A run's temporary files (pipeline/scratch.py): one folder, used by child processes too, removed
however the run ends; TFX's worker package built once, at a path stable from run to run."""

import os
import subprocess
import sys
import tarfile
import tempfile

import pytest

from pipeline import scratch
from pipeline.beam import BeamConfig


@pytest.fixture
def system_tmp(tmp_path, monkeypatch):
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.delenv("TMPDIR", raising=False)
    return folder


def test_temporary_files_of_the_run_and_its_child_processes_go_to_its_folder_then_away(
    system_tmp, tmp_path
):
    with scratch.run_scratch(str(tmp_path / "output")) as folder:
        assert os.path.dirname(folder) == str(system_tmp)
        mine = tempfile.mkdtemp()
        child = subprocess.run(
            [sys.executable, "-c", "import tempfile; print(tempfile.mkdtemp())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert os.path.dirname(mine) == folder and os.path.dirname(child) == folder
    assert os.listdir(system_tmp) == []
    assert tempfile.gettempdir() == str(system_tmp) and "TMPDIR" not in os.environ


def test_a_failed_run_removes_its_folder_and_a_killed_runs_folder_is_removed_by_the_next(
    system_tmp, tmp_path
):
    output = str(tmp_path / "output")
    left = scratch.folder_for(output)
    os.makedirs(os.path.join(left, "tmp-from-a-killed-run"))
    with pytest.raises(RuntimeError, match="component failed"):
        with scratch.run_scratch(output) as folder:
            assert folder == left and os.listdir(folder) == []
            raise RuntimeError("component failed")
    assert os.listdir(system_tmp) == []
    assert scratch.folder_for(output) != scratch.folder_for(str(tmp_path / "other"))


def test_tfx_package_is_built_once_at_a_path_that_stays_the_same_from_run_to_run(
    system_tmp, tmp_path
):
    local = BeamConfig().pipeline_args()
    paths = []
    for _ in range(2):
        with scratch.run_scratch(str(tmp_path / "output")) as folder:
            args = scratch.with_tfx_package(local, folder)
            assert args[: len(local)] == local and len(args) == len(local) + 1
            package = args[-1].split("=", 1)[1]
            with tarfile.open(package) as archive:
                assert any(name.endswith("tfx/version.py") for name in archive.getnames())
            assert os.listdir(folder) == ["tfx-package"]  # TFX's build folder is gone
            paths.append(args[-1])
    assert paths[0] == paths[1]


def test_profiles_whose_workers_run_the_image_ship_no_package(system_tmp, tmp_path):
    """TFX sees the image in `--sdk_container_image` and adds nothing for Flink or Spark."""
    image = "registry/twinnorm:1"
    for profile, master in (("flink", "jm:8081"), ("spark", "spark://m:7077")):
        args = BeamConfig(profile=profile, master=master, sdk_container_image=image).pipeline_args()
        with scratch.run_scratch(str(tmp_path / profile)) as folder:
            assert scratch.with_tfx_package(args, folder) == args
            assert os.listdir(folder) == []
