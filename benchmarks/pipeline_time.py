"""Wall time of the default twinnorm pipeline vs TFX's penguin example, alternating, same data,
with each component's time read from ML Metadata.

    python -m benchmarks.pipeline_time [--quick] [--json PATH] [--keep DIR]

Each side runs as a fresh process into an empty folder (no cache), as `make run` does on a new
checkout. Both run Beam in_memory with one worker. `--keep DIR` keeps twinnorm's last run there
(the other benchmarks read its Transform output and pushed models).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import sys
import tempfile
from typing import Dict, List

from benchmarks.common import Comparison, component_times, run_process, side, write_result
from modules.paths import OutputLayout

# The example's Tuner (keras_tuner) needs Keras 3, so it runs as shipped: TF_USE_LEGACY_KERAS=0.
SIDES = {
    "twinnorm": (
        [sys.executable, "local_runner.py", "--output"],
        "1",
        lambda output: OutputLayout(output).metadata_path,
    ),
    "tfx_penguin_example": (
        [sys.executable, "-m", "benchmarks.penguin_baseline"],
        "0",
        lambda output: os.path.join(output, "metadata.db"),
    ),
}


def run_side(name: str, output: str) -> dict:
    command, legacy_keras, metadata = SIDES[name]
    result = run_process([*command, output], env={"TF_USE_LEGACY_KERAS": legacy_keras})
    times = component_times(metadata(output))
    return {
        "seconds": result.seconds,
        "peak_rss": result.peak_rss,
        "components": {t.component: t.seconds for t in times if t.state == "COMPLETE"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--json")
    parser.add_argument("--keep", help="folder that receives twinnorm's last run")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    runs: Dict[str, List[dict]] = {name: [] for name in SIDES}
    scratch = tempfile.mkdtemp(prefix="twinnorm-bench-")
    try:
        for rep in range(repeats):
            for name in SIDES:
                output = os.path.join(scratch, f"{name}-{rep}")
                runs[name].append(run_side(name, output))
                print(f"{name} run {rep + 1}: {runs[name][-1]['seconds']:.1f} s", flush=True)
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.move(os.path.join(scratch, f"twinnorm-{repeats - 1}"), args.keep)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    components = {}
    for name, side_runs in runs.items():
        per_component = collections.defaultdict(list)
        for run in side_runs:
            for component, seconds in run["components"].items():
                per_component[component].append(seconds)
        components[name] = {c: statistics.median(v) for c, v in per_component.items()}
    comparison = Comparison(
        "pipeline",
        "default local pipeline wall time vs TFX penguin example",
        side(
            "twinnorm default (3 models, report, batch inference)",
            [r["seconds"] for r in runs["twinnorm"]],
            "s",
        ),
        side(
            "TFX penguin example (Tuner on, BulkInferrer off)",
            [r["seconds"] for r in runs["tfx_penguin_example"]],
            "s",
        ),
        "<= 0.75",
        f"{repeats} runs per side, empty output folder each",
    )
    print(
        f"{comparison.name}: {comparison.ours.value:.1f} vs {comparison.baseline.value:.1f} s, "
        f"ratio {comparison.ratio:.2f}"
    )
    write_result(
        args.json,
        [comparison],
        {
            "component_seconds": components,
            "peak_rss_gib": {
                n: statistics.median(r["peak_rss"] for r in v) / 2**30 for n, v in runs.items()
            },
            "repeats": repeats,
        },
    )


if __name__ == "__main__":
    main()
