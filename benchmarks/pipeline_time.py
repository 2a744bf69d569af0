"""Wall time of the default twinnorm pipeline vs TFX's penguin example, alternating, same data.

    python benchmarks/pipeline_time.py [--repeats 1]

Each side runs as a fresh process into a fresh folder (no cache), as `make run` does on a new
checkout; the median wall time per side and their ratio are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from pipeline.config import REPO_ROOT

# The example's Tuner (keras_tuner) needs Keras 3, so it runs as shipped: TF_USE_LEGACY_KERAS=0.
SIDES = {
    "twinnorm": ([sys.executable, "local_runner.py", "--output"], "1"),
    "tfx_penguin_example": ([sys.executable, "-m", "benchmarks.penguin_baseline"], "0"),
}


def timed(command, legacy_keras: str) -> float:
    env = {**os.environ, "TF_USE_LEGACY_KERAS": legacy_keras, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{command} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    times = {side: [] for side in SIDES}
    for _ in range(args.repeats):
        for side, (command, legacy_keras) in SIDES.items():
            with tempfile.TemporaryDirectory() as out:
                times[side].append(timed([*command, out], legacy_keras))
    medians = {side: statistics.median(values) for side, values in times.items()}
    ratio = medians["twinnorm"] / medians["tfx_penguin_example"]
    for side, value in medians.items():
        print(f"{side:22s} {value:7.1f} s  (runs: {', '.join(f'{t:.1f}' for t in times[side])})")
    print(f"ratio twinnorm / tfx_penguin_example: {ratio:.2f}")
    print(json.dumps({"seconds": medians, "ratio": ratio}))


if __name__ == "__main__":
    main()
