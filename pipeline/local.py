"""Runs the twinnorm pipeline locally: LocalDagRunner, Beam DirectRunner, SQLite ML Metadata.

python local_runner.py --help        (or the installed `twinnorm-local`)
"""

from __future__ import annotations

import os
import sys
import time
from typing import Optional, Sequence

from twinnorm.pipeline import cli


def main(argv: Optional[Sequence[str]] = None) -> int:
    config = cli.parse(argv, description=__doc__.splitlines()[0])
    from tfx import v1 as tfx

    from twinnorm.components.data_gate import BadDataError
    from twinnorm.pipeline.pipeline import create_pipeline
    from twinnorm.pipeline.summary import summarize

    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    started = time.monotonic()
    try:
        tfx.orchestration.LocalDagRunner().run(
            create_pipeline(
                config,
                tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
            )
        )
    except BadDataError as error:
        print(
            f"twinnorm: stopped before Transform, nothing trained or pushed: {error}",
            file=sys.stderr,
        )
        return 3
    summary = summarize(config.metadata_path)
    print(
        f"\ntwinnorm: pipeline {config.name!r} finished in {time.monotonic() - started:.1f} s "
        f"({config.trainer.task}, normalization {config.trainer.normalization!r}, loss {config.trainer.loss!r})"
    )
    for line in summary.lines():
        print(line)
    print(f"pipeline root: {os.path.abspath(config.pipeline_root)}")
    if summary.report:
        print(f"run report: {summary.report}")
    return 0
