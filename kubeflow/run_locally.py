"""Runs every container task of a compiled kfp spec on this machine, in dependency order.

    python kubeflow/run_locally.py pipeline.yaml --run-root /tmp/twinnorm-kfp

Each task runs its own command and arguments from the spec in a subprocess, with an ExecutorInput
synthesized from the spec and the environment of kubeflow/Dockerfile. Compile with a local
--pipeline-root and --data for this. It does not run KFP's driver, launcher or cache.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

DOCKERFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Dockerfile")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="compiled PipelineSpec YAML (kubeflow/runner.py --target kfp)")
    parser.add_argument(
        "--run-root", required=True, help="folder for task outputs, executor outputs and logs"
    )
    args = parser.parse_args(argv)

    from pipeline import kubeflow_spec, spec_runner

    spec = kubeflow_spec.pipeline_spec(kubeflow_spec.load(args.spec))
    env = {**os.environ, **spec_runner.image_env(DOCKERFILE)}
    try:
        runs = spec_runner.run_spec(spec, os.path.abspath(args.run_root), env)
    except spec_runner.TaskFailedError as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    print(spec_runner.summary(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
