"""TwinPusher: publishes the combined model and both networks for TF Serving, only when blessed.

Layout under `serving_root` (what `tensorflow_model_server --model_config_file` reads):

    models.config                     ModelServerConfig text proto listing every model
    combined/<version>/saved_model.pb
    network_a/<version>/...
    network_b/<version>/...

One version number is shared by all models of a push, and models.config pins every model to it:
rewriting that one file is the moment TF Serving switches all three (`publish` lists the steps and
what a kill at each leaves). A version is copied into a hidden staging folder first (TF Serving
only loads integer-named folders) and renamed into place once every model is staged. The last
`keep_versions` versions are kept. A model already published (same source artifact) is not
published again. Every file operation goes through TFX's fileio, so `serving_root` may be local or
a bucket (gs://, s3://) as on Kubeflow, where a folder rename is copy-then-delete: the pin still
names a complete version, and the next push redoes a cut-short rename.
"""

import datetime
import json
import os
from typing import Dict, List, Mapping, Optional, Tuple

from absl import logging as log
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2
from tfx.components.evaluator.constants import ARTIFACT_PROPERTY_BLESSED_KEY as BLESSED
from tfx.dsl.io import fileio
from tfx.utils import io_utils, path_utils

from components import tfx_api as tfx
from modules import names, paths

CONFIG_FILE = "models.config"
STAGING_PREFIX = ".staging-"
PUSH_RECORD = os.path.join("assets.extra", "twinnorm_push.json")
# The PushedModel's properties: TFX's Pusher's keys (`pushed`, `pushed_version`,
# `pushed_destination`) and the serving root. Readers import these names.
PUSHED, PUSHED_VERSION, PUSHED_DESTINATION = "pushed", "pushed_version", "pushed_destination"
SERVING_ROOT = "serving_root"
REPAIRED = "repaired"  # what was finished or undone of an interrupted push ("" for nothing)
# Written once every model of a push is staged, removed once models.config pins the push.
JOURNAL_FILE = ".push-journal.json"


def model_sources(model_uri: str) -> Dict[str, str]:
    """Model name -> SavedModel folder inside the Trainer's Model artifact."""
    sources = {names.COMBINED: path_utils.serving_model_path(model_uri)}
    sources.update(
        {n: os.path.join(model_uri, names.NETWORK_MODELS_DIR, n) for n in names.NETWORKS}
    )
    return sources


def versions(model_dir: str) -> List[int]:
    """Integer version folders of one model, oldest first (what TF Serving would consider)."""
    return sorted(int(d) for d in _children(model_dir) if d.isdigit())


def _children(folder: str) -> List[str]:
    """Entry names of a folder, [] when absent (object stores list sub-folders with a trailing /)."""
    return [e.rstrip("/") for e in fileio.listdir(folder)] if fileio.isdir(folder) else []


def published_source(serving_root: str, model: str) -> Optional[str]:
    """The source artifact recorded in a model's newest version, if any."""
    found = versions(os.path.join(serving_root, model))
    record = os.path.join(serving_root, model, str(found[-1]), PUSH_RECORD) if found else ""
    if not record or not fileio.exists(record):
        return None
    with fileio.open(record) as handle:
        return json.load(handle).get("source")


def write_models_config(
    serving_root: str,
    models: List[str],
    pipeline_name: str,
    serving_base: str = "",
    version: Optional[int] = None,
) -> str:
    """Writes models.config atomically (temp file + rename of one file); returns its path.

    TF Serving wants absolute base paths as *it* sees them: `serving_base` is the serving root
    from the server's side (`/models` in a container started with `-v <serving root>:/models`);
    empty means this host's path. Every model is pinned to one `version` (the push's; default:
    the newest version of the first model): this file is the push's one switch, so the three
    models serve one version together whatever else a killed push left on disk."""
    if version is None:
        version = versions(os.path.join(serving_root, models[0]))[-1]
    base = serving_base.rstrip("/") if serving_base else paths.absolute(serving_root)
    config = model_server_config_pb2.ModelServerConfig()
    for model in models:
        entry = config.model_config_list.config.add()
        entry.name = names.served_model_name(pipeline_name, model)
        entry.base_path = f"{base}/{model}"
        entry.model_platform = "tensorflow"
        entry.model_version_policy.specific.versions.append(version)
    path = os.path.join(serving_root, CONFIG_FILE)
    with fileio.open(path + ".tmp", "w") as handle:
        handle.write(text_format.MessageToString(config))
    fileio.rename(path + ".tmp", path, overwrite=True)
    return path


def served_version(serving_root: str) -> Optional[int]:
    """The version models.config pins (what TF Serving serves), None before the first push."""
    path = os.path.join(serving_root, CONFIG_FILE)
    if not fileio.exists(path):
        return None
    with fileio.open(path) as handle:
        config = text_format.Parse(handle.read(), model_server_config_pb2.ModelServerConfig())
    pinned = {
        v for c in config.model_config_list.config for v in c.model_version_policy.specific.versions
    }
    return max(pinned) if pinned else None


def _copy_tree(source: str, destination: str) -> None:
    io_utils.copy_dir(source, destination)


def _stage(source: str, staging: str, record: dict) -> None:
    if not fileio.exists(os.path.join(source, "saved_model.pb")):
        raise FileNotFoundError(f"no SavedModel at {source}")
    _copy_tree(source, staging)
    fileio.makedirs(os.path.dirname(os.path.join(staging, PUSH_RECORD)))
    with fileio.open(os.path.join(staging, PUSH_RECORD), "w") as handle:
        json.dump(record, handle)


def _write_journal(serving_root: str, version: int, models: List[str]) -> None:
    """Every model is staged: from here an interrupted push is finished, not undone."""
    path = os.path.join(serving_root, JOURNAL_FILE)
    with fileio.open(path + ".tmp", "w") as handle:
        json.dump({"version": version, "models": models}, handle)
    fileio.rename(path + ".tmp", path, overwrite=True)


def _pin(
    serving_root: str, models: List[str], pipeline_name: str, serving_base: str, version: int
) -> None:
    """The push's switch: models.config pins `version` for every model; then its journal goes."""
    write_models_config(serving_root, models, pipeline_name, serving_base, version)
    fileio.remove(os.path.join(serving_root, JOURNAL_FILE))


def repair(serving_root: str, models: List[str], pipeline_name: str, serving_base: str = "") -> str:
    """Finishes a push killed after every model was staged (the journal names its version), or
    removes the staging folders of one killed before; returns what it did ("" for nothing)."""
    journal = os.path.join(serving_root, JOURNAL_FILE)
    if fileio.exists(journal):
        with fileio.open(journal) as handle:
            version = int(json.load(handle)["version"])
        for model in models:
            staging = os.path.join(serving_root, model, f"{STAGING_PREFIX}{version}")
            final = os.path.join(serving_root, model, str(version))
            if fileio.exists(staging):
                if fileio.exists(final):  # a copy-then-delete rename (object store) cut short
                    fileio.rmtree(final)
                fileio.rename(staging, final)
        _pin(serving_root, models, pipeline_name, serving_base, version)
        return f"finished the interrupted push of version {version}"
    removed = []
    for model in models:
        model_dir = os.path.join(serving_root, model)
        for entry in _children(model_dir):
            if entry.startswith(STAGING_PREFIX):
                fileio.rmtree(os.path.join(model_dir, entry))
                removed.append(entry[len(STAGING_PREFIX) :])
    if removed:
        return f"removed the staging of version {removed[0]} left by a push killed while staging"
    return ""


def publish(
    sources: Mapping[str, str],
    serving_root: str,
    source_id: str,
    keep_versions: int = 3,
    pipeline_name: str = paths.DEFAULT_PIPELINE_NAME,
    serving_base: str = "",
) -> Tuple[int, str]:
    """Publishes every model in `sources` under one new version; returns that version and what
    was repaired of an interrupted push first ("" for nothing).

    Steps: stage every model into `.staging-V` (invisible to TF Serving); write the journal; rename
    each staging folder to V; pin V in models.config (the switch); drop the journal; prune old
    versions. A kill before the journal leaves staging the next push removes; a kill after it
    leaves a push the next one finishes; the served pin is one complete version throughout."""
    models = list(sources)
    note = repair(serving_root, models, pipeline_name, serving_base)
    if note:
        log.warning("TwinPusher: %s", note)
    if all(published_source(serving_root, m) == source_id for m in models):
        write_models_config(serving_root, models, pipeline_name, serving_base)
        return versions(os.path.join(serving_root, models[0]))[-1], note
    version = 1 + max([0, *(v for m in models for v in versions(os.path.join(serving_root, m)))])
    record = {
        "source": source_id,
        "version": version,
        "pushed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    staged = {m: os.path.join(serving_root, m, f"{STAGING_PREFIX}{version}") for m in models}
    try:
        for model, source in sources.items():
            fileio.makedirs(os.path.join(serving_root, model))
            _stage(source, staged[model], {**record, "model": model})
        _write_journal(serving_root, version, models)
        _rename_all(staged, version)
    except BaseException:
        for path in staged.values():
            if fileio.exists(path):
                fileio.rmtree(path)
        journal = os.path.join(serving_root, JOURNAL_FILE)
        if fileio.exists(journal):
            fileio.remove(journal)
        raise
    _pin(serving_root, models, pipeline_name, serving_base, version)
    for model in models:
        for old in versions(os.path.join(serving_root, model))[:-keep_versions]:
            fileio.rmtree(os.path.join(serving_root, model, str(old)))
    return version, note


def _rename_all(staged: Mapping[str, str], version: int) -> None:
    """An exception (not a kill) while renaming puts back what was renamed."""
    done = []
    try:
        for staging in staged.values():
            final = os.path.join(os.path.dirname(staging), str(version))
            fileio.rename(staging, final)
            done.append((staging, final))
    except BaseException:
        for staging, final in reversed(done):
            fileio.rename(final, staging)
        raise


@tfx.dsl.components.component
def TwinPusher(  # noqa: N802 (TFX component names are classes)
    model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
    model_blessing: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    pushed_model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.PushedModel],
    serving_root: tfx.dsl.components.Parameter[str],
    keep_versions: tfx.dsl.components.Parameter[int] = 3,
    pipeline_name: tfx.dsl.components.Parameter[str] = paths.DEFAULT_PIPELINE_NAME,
    serving_base: tfx.dsl.components.Parameter[str] = "",
    code: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Publishes the combined model and both networks when the Evaluator blessed the model.
    `code`: the fingerprint of the code this runs, only so an edit re-runs it (not cached)."""
    del code
    if not model_blessing.get_int_custom_property(BLESSED):
        # Nothing new to publish; a push an earlier run left half-done is still finished or undone.
        repaired = repair(serving_root, list(model_sources(model.uri)), pipeline_name, serving_base)
        if repaired:
            log.warning("TwinPusher: %s", repaired)
        pushed_model.set_string_custom_property(REPAIRED, repaired)
        pushed_model.set_int_custom_property(PUSHED, 0)
        return
    version, repaired = publish(
        model_sources(model.uri),
        serving_root,
        model.uri,
        keep_versions,
        pipeline_name,
        serving_base,
    )
    pushed_model.set_int_custom_property(PUSHED, 1)
    pushed_model.set_string_custom_property(REPAIRED, repaired)
    pushed_model.set_int_custom_property(PUSHED_VERSION, version)
    pushed_model.set_string_custom_property(
        PUSHED_DESTINATION, os.path.join(serving_root, names.COMBINED, str(version))
    )
    pushed_model.set_string_custom_property(SERVING_ROOT, serving_root)
