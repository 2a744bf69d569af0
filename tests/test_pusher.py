"""TwinPusher's publishing: layout, shared versions, atomicity, retention, models.config."""

import json
import os

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import pusher


def fake_savedmodel(folder, marker: str) -> str:
    """A folder shaped like a SavedModel; the publisher copies bytes and never loads it."""
    os.makedirs(os.path.join(folder, "variables"), exist_ok=True)
    with open(os.path.join(folder, "saved_model.pb"), "w") as handle:
        handle.write(marker)
    return str(folder)


def sources(tmp_path, tag: str) -> dict:
    return {
        m: fake_savedmodel(tmp_path / tag / m, f"{m}-{tag}")
        for m in ("combined", "network_a", "network_b")
    }


def read(root, model, version) -> str:
    with open(os.path.join(root, model, str(version), "saved_model.pb")) as handle:
        return handle.read()


def test_every_model_gets_the_same_version_and_models_config_lists_them(tmp_path):
    root = str(tmp_path / "serving")
    assert pusher.publish(sources(tmp_path, "run1"), root, "artifact-1") == 1
    assert pusher.publish(sources(tmp_path, "run2"), root, "artifact-2") == 2
    for model in ("combined", "network_a", "network_b"):
        assert pusher.versions(os.path.join(root, model)) == [1, 2]
        assert read(root, model, 2) == f"{model}-run2"
    config = text_format.Parse(
        open(os.path.join(root, "models.config")).read(),
        model_server_config_pb2.ModelServerConfig(),
    )
    entries = {c.name: c.base_path for c in config.model_config_list.config}
    assert entries == {
        f"twinnorm_{m}": os.path.join(root, m) for m in ("combined", "network_a", "network_b")
    }


def test_models_config_for_a_container_mount_names_the_servers_paths(tmp_path):
    """`--serving-base /models`: the file TF Serving reads inside `docker run -v ROOT:/models`."""
    root = str(tmp_path / "serving")
    pusher.publish(sources(tmp_path, "run1"), root, "a-1", 3, "penguins", "/models")
    with open(os.path.join(root, "models.config")) as handle:
        config = text_format.Parse(handle.read(), model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert set(entries) == {"penguins_combined", "penguins_network_a", "penguins_network_b"}
    for name, entry in entries.items():
        model = name.removeprefix("penguins_")
        assert entry.base_path == f"/models/{model}" and entry.model_platform == "tensorflow"
        assert entry.model_version_policy.WhichOneof("policy_choice") == "latest"
        assert entry.model_version_policy.latest.num_versions == 1
        # what the server will find under its base path once the folder is mounted there
        assert pusher.versions(os.path.join(root, model)) == [1]
    # a re-run of the same artifact with another base rewrites the file, adds no version
    assert pusher.publish(sources(tmp_path, "run1"), root, "a-1", 3, "penguins", "") == 1
    with open(os.path.join(root, "models.config")) as handle:
        assert f'base_path: "{root}/combined"' in handle.read()


def test_publishing_the_same_artifact_twice_adds_no_version(tmp_path):
    root = str(tmp_path / "serving")
    first = pusher.publish(sources(tmp_path, "run1"), root, "artifact-1")
    again = pusher.publish(sources(tmp_path, "run1"), root, "artifact-1")
    assert first == again == 1
    assert pusher.versions(os.path.join(root, "combined")) == [1]


def test_only_the_last_k_versions_are_kept(tmp_path):
    root = str(tmp_path / "serving")
    for i in range(5):
        pusher.publish(sources(tmp_path, f"run{i}"), root, f"artifact-{i}", keep_versions=2)
    assert pusher.versions(os.path.join(root, "network_b")) == [4, 5]


def test_failure_while_copying_leaves_no_partial_version_and_the_previous_one_intact(
    tmp_path, monkeypatch
):
    root = str(tmp_path / "serving")
    pusher.publish(sources(tmp_path, "good"), root, "artifact-good")
    real_copy_tree = pusher._copy_tree
    calls = []

    def copy_then_fail(src, dst, *args, **kwargs):
        calls.append(src)
        if len(calls) == 2:  # the second model: first is fully staged, this one is half-written
            os.makedirs(dst)
            open(os.path.join(dst, "saved_model.pb"), "w").close()
            raise OSError("disk full")
        return real_copy_tree(src, dst, *args, **kwargs)

    monkeypatch.setattr(pusher, "_copy_tree", copy_then_fail)
    with pytest.raises(OSError, match="disk full"):
        pusher.publish(sources(tmp_path, "bad"), root, "artifact-bad")
    for model in ("combined", "network_a", "network_b"):
        assert os.listdir(os.path.join(root, model)) == ["1"], model
        assert read(root, model, 1) == f"{model}-good"


def test_failure_while_renaming_puts_back_what_was_renamed(tmp_path, monkeypatch):
    root = str(tmp_path / "serving")
    pusher.publish(sources(tmp_path, "good"), root, "artifact-good")
    real_rename = pusher.fileio.rename
    renamed = []

    def rename_then_fail(src, dst, overwrite=False):
        if os.path.basename(dst) == "2":
            renamed.append(dst)
            if len(renamed) == 3:
                raise OSError("lost the mount")
        return real_rename(src, dst, overwrite)

    monkeypatch.setattr(pusher.fileio, "rename", rename_then_fail)
    with pytest.raises(OSError, match="lost the mount"):
        pusher.publish(sources(tmp_path, "bad"), root, "artifact-bad")
    for model in ("combined", "network_a", "network_b"):
        assert pusher.versions(os.path.join(root, model)) == [1]
        assert read(root, model, 1) == f"{model}-good"


def test_leftovers_of_a_killed_push_are_invisible_and_cleaned_next_time(tmp_path):
    root = str(tmp_path / "serving")
    pusher.publish(sources(tmp_path, "good"), root, "artifact-good")
    stale = os.path.join(root, "combined", pusher.STAGING_PREFIX + "2")
    fake_savedmodel(stale, "half")
    assert pusher.versions(os.path.join(root, "combined")) == [1]  # TF Serving ignores it
    assert pusher.publish(sources(tmp_path, "next"), root, "artifact-next") == 2
    assert not os.path.exists(stale)
    record = json.load(open(os.path.join(root, "combined", "2", pusher.PUSH_RECORD)))
    assert record["source"] == "artifact-next" and record["version"] == 2


def test_a_source_without_savedmodel_is_refused_before_anything_is_visible(tmp_path):
    root = str(tmp_path / "serving")
    bad = sources(tmp_path, "run")
    os.remove(os.path.join(bad["network_b"], "saved_model.pb"))
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        pusher.publish(bad, root, "artifact")
    assert all(pusher.versions(os.path.join(root, m)) == [] for m in bad)
