"""Compiles `create_pipeline` for Kubeflow Pipelines v2 and checks what was compiled.

Two targets, one DAG:
- `kfp`: a bare PipelineSpec in YAML, what open-source Kubeflow Pipelines uploads. OSS KFP's
  backend has no `resolver` executor, so this target compiles without the latest-blessed-model
  Resolver: the Evaluator gates on absolute thresholds only.
- `vertex`: a PipelineJob in JSON for Vertex AI Pipelines, which runs resolvers; the Evaluator
  keeps the comparison against the blessed baseline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Dict, List, Tuple

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from modules import paths
from pipeline import code_version
from pipeline.config import REPO_ROOT, ROWS_NUMBERED, PipelineConfig


@dataclasses.dataclass(frozen=True)
class Target:
    suffixes: Tuple[str, ...]
    baseline_resolver: bool  # whether the backend can run a `resolver` executor


TARGETS: Dict[str, Target] = {
    "kfp": Target(suffixes=(".yaml", ".yml"), baseline_resolver=False),
    "vertex": Target(suffixes=(".json",), baseline_resolver=True),
}
IMAGE_ROOT = "/twinnorm"  # where kubeflow/Dockerfile puts the project, embedded data included
PLACEHOLDER = (
    "{{$}}"  # the whole ExecutorInput as JSON: the only placeholder TFX's entrypoints need
)


def for_target(config: PipelineConfig, target: str, pipeline_root: str) -> PipelineConfig:
    """The config a target runs: Resolver only where the backend supports it; outputs under the root."""
    root = paths.absolute(pipeline_root)
    if config.trainer.warm_start and not TARGETS[target].baseline_resolver:
        raise ValueError(
            f"--warm-start needs the latest-blessed-model resolver, which --target {target} "
            "cannot run"
        )
    if config.drift:
        raise ValueError(
            "--drift finds the last blessed run's statistics with a custom resolver, and TFX's "
            "Kubeflow compiler takes only its two built-in resolver strategies"
        )
    copies = [n for n in config.data_notes if n != ROWS_NUMBERED]
    if copies:
        raise ValueError(
            f"the data cannot be read in place ({'; '.join(copies)}): a pipeline on {target} "
            f"reads its files as they are, so upload the plain copy the local runner made under "
            f"{config.outputs.prepared_dir} and pass it as --data / --inference-data"
        )
    kept = paths.OutputLayout(root, config.name).kept_schema if config.kept_schema else ""
    return dataclasses.replace(
        config,
        compare_to_baseline=TARGETS[target].baseline_resolver,
        output=root,
        kept_schema=kept,
        # Read in place, the inference rows are not numbered: keys only from --key-columns.
        prepared_inference_data="",
        row_key="",
        data_notes=(),
    )


def in_image(path: str) -> str:
    """A path inside this checkout -> the same file inside the pipeline image."""
    relative = os.path.relpath(os.path.abspath(path), REPO_ROOT)
    if relative.startswith(".."):
        raise ValueError(f"{path} is not inside the project, so it is not in the image")
    return f"{IMAGE_ROOT}/{relative}"


def embedded_data_in_image(config: PipelineConfig) -> PipelineConfig:
    """Points the (resolved) config's data at the copies the Dockerfile puts in the image."""
    return dataclasses.replace(
        config,
        data=in_image(config.data),
        inference_data=in_image(config.inference_data) if config.inference_data else "",
        schema=in_image(config.schema) if config.schema else "",
    )


def compile_pipeline(config: PipelineConfig, target: str, image: str, output: str) -> str:
    """Writes the compiled pipeline of `config` (already `for_target`) to `output`; returns the path."""
    if not output.endswith(TARGETS[target].suffixes):
        raise ValueError(
            f"--target {target} writes {' or '.join(TARGETS[target].suffixes)} files, got {output}"
        )
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as runner

    from pipeline.pipeline import create_pipeline

    folder, filename = os.path.split(os.path.abspath(output))
    runner.KubeflowV2DagRunner(
        runner.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=folder,
        output_filename=filename,
    ).run(create_pipeline(config, pipeline_root=config.output))
    return os.path.join(folder, filename)


def load(path: str):
    """Strict parse: a PipelineSpec from YAML, a PipelineJob from JSON; unknown fields are errors."""
    with open(path) as handle:
        if path.endswith((".yaml", ".yml")):
            return json_format.ParseDict(yaml.safe_load(handle), pipeline_spec_pb2.PipelineSpec())
        return json_format.ParseDict(json.load(handle), pipeline_spec_pb2.PipelineJob())


def pipeline_spec(compiled) -> pipeline_spec_pb2.PipelineSpec:
    """The PipelineSpec of either target (a PipelineJob carries it as a Struct)."""
    if isinstance(compiled, pipeline_spec_pb2.PipelineSpec):
        return compiled
    return json_format.ParseDict(
        json_format.MessageToDict(compiled.pipeline_spec), pipeline_spec_pb2.PipelineSpec()
    )


def dependencies(spec: pipeline_spec_pb2.PipelineSpec) -> Dict[str, set]:
    """Task -> tasks it waits for: declared dependencies and producers of its input artifacts."""
    result = {}
    for name, task in spec.root.dag.tasks.items():
        needed = set(task.dependent_tasks)
        for spec_input in task.inputs.artifacts.values():
            if spec_input.HasField("task_output_artifact"):
                needed.add(spec_input.task_output_artifact.producer_task)
        for spec_input in task.inputs.parameters.values():
            if spec_input.HasField("task_output_parameter"):
                needed.add(spec_input.task_output_parameter.producer_task)
        result[name] = needed
    return result


def task_order(spec: pipeline_spec_pb2.PipelineSpec) -> List[str]:
    """Tasks in an order that respects every dependency (ties by name); raises on a cycle."""
    pending = dependencies(spec)
    order: List[str] = []
    while pending:
        ready = sorted(t for t, needs in pending.items() if not needs - set(order))
        if not ready:
            raise ValueError(f"dependency cycle among tasks {sorted(pending)}")
        order.extend(ready)
        for task in ready:
            del pending[task]
    return order


def spec_problems(
    spec: pipeline_spec_pb2.PipelineSpec, image: str, allow_resolver: bool
) -> List[str]:
    """Everything that would stop the spec from running as intended; empty when it is sound."""
    problems = []
    tasks = spec.root.dag.tasks
    for name, needs in dependencies(spec).items():
        problems += [f"task {name} depends on unknown task {n}" for n in sorted(needs - set(tasks))]
    if not problems:
        try:
            task_order(spec)
        except ValueError as error:
            problems.append(str(error))
    for name, task in tasks.items():
        if task.component_ref.name not in spec.components:
            problems.append(f"task {name} refers to unknown component {task.component_ref.name}")
            continue
        label = spec.components[task.component_ref.name].executor_label
        if label not in spec.deployment_spec.fields["executors"].struct_value.fields:
            problems.append(f"component {task.component_ref.name} has no executor {label}")
    for label, executor in json_format.MessageToDict(spec.deployment_spec)["executors"].items():
        if "resolver" in executor and not allow_resolver:
            problems.append(f"executor {label} is a resolver, which open-source KFP cannot run")
        containers = [executor["container"]] if "container" in executor else []
        containers += (
            [executor["container"].get("lifecycle", {}).get("preCacheCheck", {})]
            if containers
            else []
        )
        for container in containers:
            if container is containers[0] and container.get("image") != image:
                problems.append(
                    f"executor {label} uses image {container.get('image')!r}, not {image!r}"
                )
            for text in container.get("command", []) + container.get("args", []):
                for placeholder in re.findall(r"\{\{.*?\}\}", text):
                    if placeholder != PLACEHOLDER:
                        problems.append(f"executor {label} uses placeholder {placeholder}")
    return problems


def normalized(compiled) -> dict:
    """The compiled pipeline as a dict without what changes with the SDK or TFX version, or with
    any edit of the project's code (its fingerprint in the execution properties)."""
    data = json.loads(code_version.masked(json.dumps(json_format.MessageToDict(compiled))))
    spec = data.get("pipelineSpec", data)
    spec["sdkVersion"] = "tfx-<version>"
    data.pop("labels", None)
    return data
