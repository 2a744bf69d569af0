"""Paths (modules/paths.py): one `--output` folder's layout, local paths vs URIs."""

import pytest

from modules.paths import OutputLayout, absolute, exists, glob_files, is_uri


def test_one_output_folder_holds_each_pipelines_root_metadata_and_serving_root():
    layout = OutputLayout("/out", "wine")
    assert layout.pipeline_root == "/out/pipelines/wine"
    assert layout.metadata_path == "/out/metadata/wine/metadata.sqlite"
    assert layout.serving_root == "/out/serving/wine"
    assert layout.kept_schema == "/out/schema/wine/schema.pbtxt"
    assert layout.component_dir("Trainer", "model_run") == "/out/pipelines/wine/Trainer/model_run"


def test_the_newest_artifact_is_the_highest_execution_id_not_the_last_in_name_order(tmp_path):
    layout = OutputLayout(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no Trainer/model under .* run `python local"):
        layout.newest_artifact("Trainer", "model")
    for execution in ("9", "10", "2"):
        (tmp_path / "pipelines" / "twinnorm" / "Trainer" / "model" / execution).mkdir(parents=True)
    assert layout.newest_artifact("Trainer", "model").endswith("/model/10")
    assert [p.rsplit("/", 1)[1] for p in layout.artifact_dirs("Trainer", "model")] == [
        "2",
        "9",
        "10",
    ]


def test_uris_stay_as_they_are_and_local_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_uri("gs://bucket/x") and not is_uri("/tmp/x")
    assert absolute("gs://bucket/x") == "gs://bucket/x"
    assert absolute("data") == str(tmp_path / "data")
    (tmp_path / "b.csv").write_text("")
    (tmp_path / "a.csv").write_text("")
    assert glob_files(str(tmp_path / "*.csv")) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    assert exists(str(tmp_path / "a.csv")) and not exists(str(tmp_path / "c.csv"))
