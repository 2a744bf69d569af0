"""Runs a compiled KFP PipelineSpec on this machine, task by task, the way a KFP launcher would.

For every task in dependency order: synthesize its `ExecutorInput` from the spec (constant
parameters, upstream output artifacts with the metadata their executors reported, output
artifacts under `<run root>/<task>/<output>`), replace the `{{$}}` placeholder of the container's
own command and arguments with it, and run that command in a subprocess with the image's
environment (`ENV` lines of kubeflow/Dockerfile). An ExampleGen's `preCacheCheck` driver runs
first, as on Vertex. Importer tasks are resolved in-process (KFP does the same, no container).

Not covered: KFP's own driver and launcher binaries, caching, MLMD, Kubernetes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Mapping, Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp

from pipeline.kubeflow_spec import PLACEHOLDER, task_order

Artifacts = Dict[str, List[kfp.RuntimeArtifact]]


@dataclasses.dataclass
class TaskRun:
    name: str
    seconds: float
    log: str
    outputs: Artifacts


class TaskFailedError(RuntimeError):
    pass


def image_env(dockerfile: str) -> Dict[str, str]:
    """`ENV KEY=VALUE ...` lines of a Dockerfile: the environment every task sees in the image."""
    env = {}
    with open(dockerfile) as handle:
        for line in handle:
            if line.startswith("ENV "):
                env.update(dict(pair.split("=", 1) for pair in line[4:].split()))
    return env


def _constant(spec_input) -> Optional[tuple]:
    """('parameters', pipeline Value) for schema 2.0, ('parameter_values', struct Value) for 2.1."""
    runtime = spec_input.runtime_value
    if runtime.HasField("constant_value"):
        return "parameters", runtime.constant_value
    if runtime.HasField("constant"):
        return "parameter_values", runtime.constant
    return None


def executor_input(
    spec: kfp.PipelineSpec, task_name: str, produced: Mapping[str, Artifacts], task_root: str
) -> kfp.ExecutorInput:
    """The ExecutorInput a KFP launcher would hand to this task's container."""
    task = spec.root.dag.tasks[task_name]
    component = spec.components[task.component_ref.name]
    result = kfp.ExecutorInput()
    for key, spec_input in task.inputs.parameters.items():
        constant = _constant(spec_input)
        if constant is None:
            raise NotImplementedError(f"task {task_name}: parameter {key} is not a constant")
        getattr(result.inputs, constant[0])[key].CopyFrom(constant[1])
    for key, spec_input in task.inputs.artifacts.items():
        source = spec_input.task_output_artifact
        upstream = produced[source.producer_task][source.output_artifact_key]
        artifact_type = component.input_definitions.artifacts[key].artifact_type
        for artifact in upstream:
            copy = result.inputs.artifacts[key].artifacts.add()
            copy.CopyFrom(artifact)
            copy.type.CopyFrom(artifact_type)
    for key, definition in component.output_definitions.artifacts.items():
        result.outputs.artifacts[key].artifacts.add(
            name=f"{task_root}/{key}",
            type=definition.artifact_type,
            uri=os.path.join(task_root, key),
        )
    result.outputs.output_file = os.path.join(task_root, "executor_output.json")
    return result


def _command(container: dict, invocation: str) -> List[str]:
    words = list(container.get("command", [])) + list(container.get("args", []))
    for word in words:
        unknown = set(re.findall(r"\{\{.*?\}\}", word)) - {PLACEHOLDER}
        if unknown:
            raise NotImplementedError(f"placeholder(s) {sorted(unknown)} are not emulated")
    return [word.replace(PLACEHOLDER, invocation) for word in words]


def _importer(
    executor: dict, task_name: str, component: kfp.ComponentSpec, task_root: str
) -> Artifacts:
    importer = executor["importer"]
    uri = importer["artifactUri"].get("constant", importer["artifactUri"].get("runtimeParameter"))
    if not isinstance(uri, str):
        raise NotImplementedError(f"task {task_name}: importer URI from a runtime parameter")
    ((key, definition),) = component.output_definitions.artifacts.items()
    artifact = kfp.RuntimeArtifact(
        name=f"{task_root}/{key}", uri=uri, type=definition.artifact_type
    )
    artifact.metadata.update(importer.get("metadata", {}))
    return {key: [artifact]}


def _outputs(invocation: kfp.ExecutorInput) -> Artifacts:
    """What the executor reported (uri + metadata), else what it was given, per output key."""
    outputs = {k: list(v.artifacts) for k, v in invocation.outputs.artifacts.items()}
    if os.path.exists(invocation.outputs.output_file):
        with open(invocation.outputs.output_file) as handle:
            reported = json_format.Parse(
                handle.read(), kfp.ExecutorOutput(), ignore_unknown_fields=True
            )
        outputs.update({k: list(v.artifacts) for k, v in reported.artifacts.items()})
    return outputs


def _run(argv: List[str], env: Mapping[str, str], log_path: str, task_name: str) -> None:
    with open(log_path, "ab") as log:
        log.write(
            ("$ " + " ".join(a if len(a) < 200 else a[:200] + "..." for a in argv) + "\n").encode()
        )
        log.flush()
        with tempfile.TemporaryDirectory(prefix=f"{task_name}-") as tmp:  # the container's /tmp
            code = subprocess.run(
                argv, env={**env, "TMPDIR": tmp}, stdout=log, stderr=subprocess.STDOUT
            ).returncode
    if code != 0:
        with open(log_path, errors="replace") as handle:
            tail = "".join(handle.readlines()[-25:])
        raise TaskFailedError(
            f"task {task_name} exited with {code}; log {log_path}; last lines:\n{tail}"
        )


def run_spec(
    spec: kfp.PipelineSpec, run_root: str, env: Mapping[str, str], python: str = sys.executable
) -> Dict[str, TaskRun]:
    """Runs every task of `spec` in dependency order; returns each task's reported outputs."""
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    # The spec says `python`; put the interpreter that plays the image's first on PATH.
    env = {**env, "PATH": os.path.dirname(python) + os.pathsep + env.get("PATH", os.defpath)}
    produced: Dict[str, Artifacts] = {}
    runs: Dict[str, TaskRun] = {}
    os.makedirs(os.path.join(run_root, "logs"), exist_ok=True)
    for task_name in task_order(spec):
        started = time.monotonic()
        task_root = os.path.join(run_root, task_name)
        component = spec.components[spec.root.dag.tasks[task_name].component_ref.name]
        executor = executors[component.executor_label]
        log_path = os.path.join(run_root, "logs", f"{task_name}.log")
        if "importer" in executor:
            produced[task_name] = _importer(executor, task_name, component, task_root)
        elif "container" in executor:
            invocation = executor_input(spec, task_name, produced, task_root)
            serialized = json_format.MessageToJson(invocation)
            pre_cache_check = executor["container"].get("lifecycle", {}).get("preCacheCheck")
            if pre_cache_check:
                _run(_command(pre_cache_check, serialized), env, log_path, task_name)
            _run(_command(executor["container"], serialized), env, log_path, task_name)
            produced[task_name] = _outputs(invocation)
        else:
            raise NotImplementedError(
                f"task {task_name}: executor kind {sorted(executor)} is not emulated"
            )
        runs[task_name] = TaskRun(
            task_name, time.monotonic() - started, log_path, produced[task_name]
        )
    return runs


def summary(runs: Mapping[str, TaskRun]) -> str:
    return "\n".join(
        f"{run.name:<22} {run.seconds:7.1f} s  {json.dumps(sorted(run.outputs))}"
        for run in runs.values()
    )
