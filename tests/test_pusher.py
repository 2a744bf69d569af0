"""TwinPusher's publishing: layout, shared versions, atomicity, retention, models.config."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import pusher
from pipeline.project import REPO_ROOT


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
    assert pusher.publish(sources(tmp_path, "run1"), root, "artifact-1") == (1, "")
    assert pusher.publish(sources(tmp_path, "run2"), root, "artifact-2") == (2, "")
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
        assert entry.model_version_policy.WhichOneof("policy_choice") == "specific"
        assert list(entry.model_version_policy.specific.versions) == [1]
        # what the server will find under its base path once the folder is mounted there
        assert pusher.versions(os.path.join(root, model)) == [1]
    # a re-run of the same artifact with another base rewrites the file, adds no version
    assert pusher.publish(sources(tmp_path, "run1"), root, "a-1", 3, "penguins", "")[0] == 1
    with open(os.path.join(root, "models.config")) as handle:
        assert f'base_path: "{root}/combined"' in handle.read()


def test_publishing_the_same_artifact_twice_adds_no_version(tmp_path):
    root = str(tmp_path / "serving")
    first = pusher.publish(sources(tmp_path, "run1"), root, "artifact-1")
    again = pusher.publish(sources(tmp_path, "run1"), root, "artifact-1")
    assert first == again == (1, "")
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
    version, note = pusher.publish(sources(tmp_path, "next"), root, "artifact-next")
    assert version == 2 and note.startswith("removed the staging of version 2")
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


# -- SIGKILL at each step of a push: what TF Serving is pinned to stays whole and agrees ---------
KILL = """
import json, os, signal, sys
from components import pusher

step, root, sources = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
real = {
    "copy": pusher._copy_tree, "journal": pusher._write_journal,
    "rename": pusher.fileio.rename, "config": pusher.write_models_config,
}
copies = []

def copy(source, destination):
    copies.append(source)
    if step == "staging" and len(copies) == 2:  # the second model half-copied
        os.makedirs(destination)
        die()
    real["copy"](source, destination)

def journal(*args):
    real["journal"](*args)
    if step == "journal":
        die()

def rename(source, destination, overwrite=False):
    real["rename"](source, destination, overwrite)
    if step == "between_renames" and os.path.basename(destination).isdigit():
        die()

def config(*args):
    if step == "before_config":
        die()
    real["config"](*args)
    if step == "before_journal_removal":
        die()

pusher._copy_tree, pusher._write_journal, pusher.write_models_config = copy, journal, config
pusher.fileio.rename = rename
pusher.publish(sources, root, "artifact-killed")
"""
# step -> the version served (pinned) right after the kill
KILL_STEPS = {
    "staging": 1,
    "journal": 1,
    "between_renames": 1,
    "before_config": 1,
    "before_journal_removal": 2,
}


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """push -> model -> a real SavedModel whose `serving_default` answers y = x * its own factor."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("saved_models")
    result = {}
    for p, push in enumerate(("good", "killed", "next")):
        for m, model in enumerate(("combined", "network_a", "network_b")):
            module = scaling_module(tf, float(10 * p + m + 1))
            path = str(root / push / model)
            tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
            result.setdefault(push, {})[model] = path
    return result


def scaling_module(tf, factor: float):
    module = tf.Module()
    module.factor = tf.Variable(factor)
    module.serve = tf.function(
        lambda x: {"y": x * module.factor},
        input_signature=[tf.TensorSpec([None], tf.float32, name="x")],
    )
    return module


def answer(model_dir: str) -> float:
    """The model's answer to x = 1, from a TF1 session as TF Serving loads it."""
    from tests.tf1_session import run

    return float(run(model_dir, "serving_default", {"x": np.ones([1], np.float32)})["y"][0])


@pytest.mark.parametrize("step", list(KILL_STEPS))
def test_a_push_killed_at_any_step_serves_one_whole_version_and_the_next_push_repairs(
    step, saved_models, tmp_path
):
    root = str(tmp_path / "serving")
    pusher.publish(saved_models["good"], root, "artifact-good")
    killed = subprocess.run(
        [sys.executable, "-c", KILL, step, root, json.dumps(saved_models["killed"])],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    served = pusher.served_version(root)
    assert served == KILL_STEPS[step]
    push = "good" if served == 1 else "killed"
    models = list(saved_models[push])
    for model in models:  # the pinned version of every model is whole, and of one push
        assert answer(os.path.join(root, model, str(served))) == answer(saved_models[push][model])
        for version in pusher.versions(os.path.join(root, model)):  # nothing visible is half
            assert os.path.exists(os.path.join(root, model, str(version), pusher.PUSH_RECORD))
    version, note = pusher.publish(saved_models["next"], root, "artifact-next")
    if step == "staging":
        assert note == "removed the staging of version 2 left by a push killed while staging"
        assert version == 2
    else:
        assert note == "finished the interrupted push of version 2"
        assert version == 3
    assert pusher.served_version(root) == version
    for model in models:
        assert pusher.versions(os.path.join(root, model))[-1] == version
        assert answer(os.path.join(root, model, str(version))) == answer(
            saved_models["next"][model]
        )
        assert not [e for e in os.listdir(os.path.join(root, model)) if not e.isdigit()]
    assert not os.path.exists(os.path.join(root, pusher.JOURNAL_FILE))
