"""What a local run shows: one line per component as it finishes, then the summary.

Everything else a run emits (TFX, Beam and TensorFlow logs, warnings, the C++ runtime's lines,
worker processes' output) goes to the run's log file: file descriptors 1 and 2 are pointed at it
for the length of the run, so even output that bypasses Python's logging lands there.
`verbose` also streams that log to the terminal; `quiet` prints only the summary.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable, Optional, TextIO

QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"
# LocalDagRunner's own log lines around every component (tfx/orchestration/local).
RUNNING, FINISHED = "Component %s is running.", "Component %s is finished."


class RunOutput:
    """Redirects this process's stdout and stderr into `log_path`; `console` stays the terminal."""

    def __init__(self, log_path: str, level: str = NORMAL):
        self.log_path, self.level = log_path, level
        self.console: TextIO = sys.stdout
        self.errors: TextIO = sys.stderr
        self._saved: list = []
        self._tee: Optional[threading.Thread] = None

    def __enter__(self) -> "RunOutput":
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [os.dup(1), os.dup(2)]
        self.console = os.fdopen(os.dup(1), "w", buffering=1)
        self.errors = os.fdopen(os.dup(2), "w", buffering=1)
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        target = log_fd
        if self.level == VERBOSE:
            read_end, target = os.pipe()
            self._tee = threading.Thread(
                target=_tee, args=(read_end, log_fd, self.console.fileno()), daemon=True
            )
            self._tee.start()
        os.dup2(target, 1)
        os.dup2(target, 2)
        if target != log_fd:
            os.close(target)
        else:
            os.close(log_fd)
        logging.captureWarnings(True)
        return self

    def __exit__(self, *exc) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self.console.close()
        self.errors.close()
        if self._tee:
            self._tee.join(timeout=5)

    def say(self, line: str, summary: bool = False) -> None:
        """A console line; in quiet mode only the summary's."""
        if summary or self.level != QUIET:
            print(line, file=self.console, flush=True)

    def fail(self, line: str) -> None:
        """The one line that says why the run stopped, on the terminal's stderr."""
        print(line, file=self.errors, flush=True)


def _tee(read_end: int, *targets: int) -> None:
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            return
        for fd in targets:
            os.write(fd, chunk)


class ComponentLines(logging.Handler):
    """Turns LocalDagRunner's start/finish log records into one console line per component:
    name, seconds and the component's key figure (`figure(node_id)`, '' when it has none)."""

    def __init__(self, output: RunOutput, figure: Callable[[str], str]):
        super().__init__(logging.INFO)
        self.output, self.figure = output, figure
        self.current: Optional[str] = None
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == RUNNING:
            self.current, self.started = record.args[0], time.monotonic()
        elif record.msg == FINISHED:
            node, seconds = record.args[0], time.monotonic() - self.started
            try:
                figure = self.figure(node)
            except Exception as error:  # a figure is a courtesy; it never fails the run
                figure = f"(figure unavailable: {type(error).__name__})"
            self.output.say(f"  {node:<30} {seconds:6.1f} s  {figure}".rstrip())
            self.current = None
