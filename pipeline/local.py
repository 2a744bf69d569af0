"""Runs the twinnorm pipeline locally: LocalDagRunner, Beam DirectRunner, SQLite ML Metadata.

    python local_runner.py --help        (or the installed `twinnorm-local`)

Exit codes: 0 blessed (and pushed unless the model was already served), 1 a component failed,
2 a bad option (nothing ran), 3 bad data (stopped before Transform), 4 ran but not blessed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import logging
import os
import time
from typing import Any, List, Optional, Sequence

from modules import paths
from pipeline import cli, column_choice, config_file, scratch
from pipeline.config import PipelineConfig
from pipeline.console import (
    FINISHED,
    NORMAL,
    QUIET,
    RUNNING,
    VERBOSE,
    ComponentLines,
    RunOutput,
)
from pipeline.output_lock import OutputLock
from pipeline.project import REPO_ROOT, TOP_LEVEL

# The folders of this project's code (not its venv): their INFO lines stay in the run's log.
OWN_CODE = tuple(os.path.join(REPO_ROOT, package) + os.sep for package in TOP_LEVEL)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BAD_DATA, EXIT_NOT_BLESSED = 0, 1, 2, 3, 4


def parser() -> argparse.ArgumentParser:
    result = cli.add_pipeline_options(
        cli.OneLineParser(
            description=__doc__.splitlines()[0],
            epilog=__doc__.split("\n\n")[-1],
        )
    )
    console = result.add_argument_group("console").add_mutually_exclusive_group()
    console.add_argument(
        "--verbose", action="store_true", help="also stream the run's log to the terminal"
    )
    console.add_argument("--quiet", action="store_true", help="print only the summary")
    return result


def _check_local_output(output: str) -> None:
    """A local run's --output is a local folder (or one it can create)."""
    if paths.is_uri(output):
        raise ValueError(
            f"--output {output}: a local run keeps ML Metadata in SQLite, so --output must be a "
            "local folder (compile with kubeflow/runner.py for a bucket)"
        )
    if os.path.exists(output) and not os.path.isdir(output):
        raise ValueError(f"--output {paths.absolute(output)} is a file; give a folder")
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as error:
        raise _unwritable(output, error) from None


def _unwritable(output: str, error: OSError) -> ValueError:
    return ValueError(
        f"--output {output}: cannot create or write {error.filename or output} ({error.strerror})"
    )


def prepare_run_dir(config: PipelineConfig) -> str:
    """The run's own folder (log, effective config) under --output, which `_check_local_output`
    already created; a folder that cannot be written fails here, in one line, before anything
    runs."""
    output = config.output
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = os.path.join(config.outputs.runs_dir, stamp)
    try:
        for attempt in range(2, 100):  # two runs started within one second get two folders
            if not os.path.exists(run_dir):
                break
            run_dir = os.path.join(config.outputs.runs_dir, f"{stamp}-{attempt}")
        os.makedirs(run_dir)
        os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
        with open(os.path.join(run_dir, "config.yaml"), "w") as handle:
            handle.write(config_file.to_yaml(config))
    except OSError as error:
        raise _unwritable(output, error) from None
    return run_dir


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = parser()
    with contextlib.ExitStack() as held:
        locks: List[OutputLock] = []

        def hold(unresolved: PipelineConfig) -> None:
            _check_local_output(unresolved.output)
            locks.append(held.enter_context(OutputLock(paths.absolute(unresolved.output))))

        args, config = cli.parse_args(options, argv, hold)
        try:
            run_dir = prepare_run_dir(config)
        except ValueError as error:
            options.exit(EXIT_USAGE, f"{options.prog}: error: {error}\n")
        level = VERBOSE if args.verbose else QUIET if args.quiet else NORMAL
        log_path = os.path.join(run_dir, "run.log")
        started = time.monotonic()
        with RunOutput(log_path, level) as output:
            output.say(
                f"twinnorm: pipeline {config.name!r} ({config.trainer.task}, normalization "
                f"{config.trainer.normalization!r}, loss {config.trainer.loss!r}); log: {log_path}"
            )
            taken_over = locks[0].stale_note()
            if taken_over:
                output.say(f"twinnorm: {taken_over}")
            for line in column_choice.console_lines(config):
                output.say(line)
            code = _run(config, output, log_path)
            if code is None:
                code = _summarize(config, output, time.monotonic() - started, run_dir, log_path)
    return code


def _run(config: PipelineConfig, output: RunOutput, log_path: str) -> Optional[int]:
    """Runs the DAG; a failure becomes one console line and an exit code."""
    from absl import logging as absl_logging

    from components.data_gate import BadDataError
    from pipeline.console_figures import FigureReader

    absl_logging.set_verbosity(absl_logging.INFO)
    own_info = OwnInfo()
    logging.getLogger("absl").addFilter(own_info)
    lines = ComponentLines(output, FigureReader(config.metadata_path, config.name))
    logging.getLogger("absl").addHandler(lines)
    config = _without_unfed_baseline(config, output)
    try:
        run_dag(config)
    except BadDataError as error:
        output.fail(f"twinnorm: stopped before Transform, nothing trained or pushed: {error}")
        return EXIT_BAD_DATA
    except Exception as error:  # one line on the console, the traceback in the log
        logging.exception("component %s failed", lines.current)
        cause = (str(error).strip().splitlines() or [""])[-1][:300]
        output.fail(
            f"twinnorm: component {lines.current or '(before the first component)'} failed: "
            f"{type(error).__name__}: {cause}; full log: {log_path}"
        )
        return EXIT_FAILED
    finally:
        logging.getLogger("absl").removeHandler(lines)
        logging.getLogger("absl").removeFilter(own_info)
    return None


def run_dag(config: PipelineConfig, run_options: Optional[Any] = None) -> None:
    """LocalDagRunner over the pipeline (up to `run_options`' nodes), every temporary file of
    the run in the run's own folder, removed when it ends (pipeline/scratch.py)."""
    from components import tfx_api as tfx
    from pipeline.pipeline import create_pipeline

    with scratch.run_scratch(config.output) as folder:
        tfx.orchestration.LocalDagRunner().run(
            create_pipeline(
                config,
                tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
                beam_pipeline_args=scratch.with_tfx_package(config.beam.pipeline_args(), folder),
            ),
            run_options=run_options,
        )


def _without_unfed_baseline(config: PipelineConfig, output: RunOutput) -> PipelineConfig:
    """A blessed model that parses a column this data lacks cannot be evaluated on it (the
    Evaluator would fail run after run): this run is blessed on its own bars, and says so."""
    from pipeline.data_files import read_header
    from pipeline.summary import unfed_baseline_columns

    if not config.compare_to_baseline or config.trainer.warm_start:
        return config  # (a warm start needs that model: its restore names the mismatch)
    missing = unfed_baseline_columns(config.metadata_path, read_header(config.data))
    if not missing:
        return config
    note = (
        f"the blessed model reads column(s) {', '.join(missing)}, which this data lacks: this "
        "run is not compared with it (only its own bars apply)"
    )
    output.say(f"twinnorm: {note}")
    return dataclasses.replace(config, compare_to_baseline=False, baseline_note=note)


class OwnInfo(logging.Filter):
    """The log keeps every warning, and the INFO lines of this project (each network's loss per
    logged step, calibration, component start and end). TFX's own INFO lines print whole pipeline
    and execution protos: formatting them cost seconds per run, for text nobody reads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (
            record.levelno >= logging.WARNING
            or record.pathname.startswith(OWN_CODE)
            or record.msg in (RUNNING, FINISHED)
        )


def _summarize(
    config: PipelineConfig, output: RunOutput, seconds: float, run_dir: str, log_path: str
) -> int:
    from pipeline.summary import summarize

    summary = summarize(config.metadata_path)
    output.say(
        f"twinnorm: pipeline {config.name!r} finished in {seconds:.1f} s: {summary.verdict()}",
        summary=True,
    )
    for line in summary.lines(config.serving_base):
        output.say(line, summary=True)
    output.say(f"log: {log_path}; effective config: {run_dir}/config.yaml", summary=True)
    return EXIT_OK if summary.blessed else EXIT_NOT_BLESSED
