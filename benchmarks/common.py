"""What every benchmark shares: result records, alternating repetitions, process-tree memory and
ML Metadata component times. Imports no TensorFlow, so the runner stays light."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

import psutil

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1024**3


@dataclasses.dataclass
class Side:
    """One side of a comparison: its label, the median figure and every repetition's figure."""

    label: str
    value: float
    unit: str
    runs: List[float]


@dataclasses.dataclass
class Comparison:
    """Ours against a named baseline; `ratio` is ours / baseline, checked against `target`."""

    group: str  # pipeline, train_step, roofline, trainer_e2e, scale, serving
    name: str
    ours: Side
    baseline: Side
    target: str = ""  # ">= 1.2" or "<= 0.8", applied to the ratio; "" for a figure without a target
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours.value / self.baseline.value

    @property
    def met(self) -> Optional[bool]:
        if not self.target:
            return None
        op, bound = self.target.split()
        return self.ratio >= float(bound) if op == ">=" else self.ratio <= float(bound)

    def to_dict(self) -> dict:
        return {
            "group": self.group,
            "name": self.name,
            "ours": dataclasses.asdict(self.ours),
            "baseline": dataclasses.asdict(self.baseline),
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Comparison":
        return cls(
            d["group"],
            d["name"],
            Side(**d["ours"]),
            Side(**d["baseline"]),
            d["target"],
            d.get("note", ""),
        )


def benchmark_args(
    description: str, add: Optional[Callable[[argparse.ArgumentParser], None]] = None
) -> argparse.Namespace:
    """A step benchmark's options: --quick, --json, --repeats (default 3 with --quick, else 5),
    plus its own (`add`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--json")
    if add:
        add(parser)
    args = parser.parse_args()
    args.repeats = args.repeats or (3 if args.quick else 5)
    return args


def side(label: str, runs: Sequence[float], unit: str) -> Side:
    return Side(label, statistics.median(runs), unit, [float(r) for r in runs])


def alternate(sides: Dict[str, Callable[[], float]], repeats: int) -> Dict[str, List[float]]:
    """Runs every side once per repetition, in turn (A B A B ...), so drift in machine load hits both."""
    results: Dict[str, List[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, measure in sides.items():
            results[name].append(measure())
    return results


def write_result(path: Optional[str], comparisons: Sequence[Comparison], details: dict) -> None:
    """A benchmark module's output, which run.py gathers; printed when no path is given."""
    payload = {"comparisons": [c.to_dict() for c in comparisons], "details": details}
    if path:
        with open(path, "w") as handle:
            json.dump(payload, handle, indent=1)
    else:
        print(json.dumps(payload, indent=1))


def newest_artifact(run_dir: str, component: str, output: str) -> str:
    """Newest artifact folder of a component output in a twinnorm `--output` folder."""
    from modules.paths import OutputLayout

    try:
        return OutputLayout(run_dir).newest_artifact(component, output)
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None


def machine() -> dict:
    """Cores, memory and software, for every published figure."""
    import importlib.metadata as md

    versions = {}
    for package in ("tfx", "tensorflow", "tf-keras", "tensorflow-transform", "apache-beam"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = None
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                "",
            )
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "versions": versions,
    }


def utc_now() -> str:
    """When a figure was measured, as every result file and table heading writes it."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def provenance(module: str) -> dict:
    """The fields every results JSON opens with: when, where, which commit, which command."""
    return {
        "date": utc_now(),
        "machine": machine(),
        "commit": commit(),
        "command": f"python -m {module} " + " ".join(sys.argv[1:]),
    }


def machine_line(m: dict) -> str:
    """One line for a table's heading: cores, CPU, memory, CPU only."""
    return f"{m['cores']} cores, {m['cpu']}, {m['memory_gib']:g} GiB, CPU only"


def measured(payload: dict) -> str:
    """A results table's opening: when, on what, by which command, at which commit."""
    return (
        f"Measured {payload['date']} on {machine_line(payload['machine'])} by "
        f"`{payload['command']}`, commit {payload['commit']}"
    )


def write_json(path: str, payload: dict) -> None:
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)


def commit() -> str:
    """The short commit the figures were measured at, `-dirty` when the checkout had changes ("" outside
    a git checkout)."""
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()


# -- processes ---------------------------------------------------------------------------------
SAMPLE_INTERVAL = 0.2  # seconds between TreeMemory's samples


class TreeMemory:
    """Samples the summed RSS and CPU time of a process and all its descendants (Beam workers,
    training workers) every `interval` seconds; `samples` is [(epoch seconds, bytes, cpu seconds)].
    CPU time counts each live process and the reaped children of each, so it never drops when a
    worker exits."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: List[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.time()

    def _run(self) -> None:
        while not self._stop.is_set():
            total, cpu = 0, 0.0
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for process in processes:
                try:
                    total += process.memory_info().rss
                    times = process.cpu_times()
                    cpu += times.user + times.system + times.children_user + times.children_system
                except psutil.Error:
                    pass
            self.samples.append((time.time(), total, cpu))
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        """Peak bytes between two epoch times (the whole run by default)."""
        inside = [rss for t, rss, _ in self.samples if start <= t <= end]
        return max(inside) if inside else 0

    def cores(self, start: float = 0.0, end: float = float("inf")) -> float:
        """Average number of busy cores between two epoch times: CPU seconds / wall seconds."""
        inside = [(t, cpu) for t, _, cpu in self.samples if start <= t <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return 0.0
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


@dataclasses.dataclass
class ProcessRun:
    seconds: float
    peak_rss: int
    memory: TreeMemory
    stdout: str


def run_process(
    command: Sequence[str],
    env: Optional[dict] = None,
    timeout: float = 7200,
    exit_codes: Sequence[int] = (0,),
) -> ProcessRun:
    """Runs a command from the repo root, timing it and sampling its process tree's memory; an
    exit code outside `exit_codes` fails."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    started = time.monotonic()
    with subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        with TreeMemory(process.pid) as memory:
            stdout, stderr = process.communicate(timeout=timeout)
        seconds = time.monotonic() - started
    if process.returncode not in exit_codes:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-4000:]}")
    return ProcessRun(seconds, memory.peak(), memory, stdout)


def python_module(module: str, *args: str) -> List[str]:
    return [sys.executable, "-m", module, *args]


# -- ML Metadata ------------------------------------------------------------------------------
@dataclasses.dataclass
class ComponentTime:
    component: str
    state: str
    start: float  # epoch seconds
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def component_times(metadata_path: str) -> List[ComponentTime]:
    """Each component's execution window, from its MLMD execution's create and last-update times,
    in the order the components started."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2
    from tfx.orchestration import metadata

    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    names = metadata_store_pb2.Execution.State
    times = []
    for context in store.get_contexts_by_type("node"):
        for execution in store.get_executions_by_context(context.id):
            times.append(
                ComponentTime(
                    context.name.split(".")[-1],
                    names.Name(execution.last_known_state),
                    execution.create_time_since_epoch / 1000,
                    execution.last_update_time_since_epoch / 1000,
                )
            )
    return sorted(times, key=lambda t: t.start)
