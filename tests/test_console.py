"""The local run's console (pipeline/console.py): everything a run emits goes to its log, the
terminal gets one line per component, and quiet keeps only the summary."""

import logging
import subprocess
import sys

from pipeline.console import FINISHED, NORMAL, QUIET, RUNNING, ComponentLines, RunOutput

SCRIPT = """
import os, sys
from pipeline.console import NORMAL, RunOutput
with RunOutput(sys.argv[1], NORMAL) as output:
    print("library chatter")
    os.write(2, b"C++ runtime line\\n")
    output.say("  Trainer  12.0 s")
    output.fail("twinnorm: Trainer failed")
print("after the run")
"""


def test_output_that_bypasses_python_goes_to_the_log_and_said_lines_to_the_terminal(tmp_path):
    """In a process of its own: the terminal is the process's real file descriptors 1 and 2."""
    log = str(tmp_path / "run.log")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, log], capture_output=True, text=True, check=True
    )
    assert done.stdout == "  Trainer  12.0 s\nafter the run\n"
    assert done.stderr == "twinnorm: Trainer failed\n"
    with open(log) as handle:
        assert handle.read() == "library chatter\nC++ runtime line\n"


def test_quiet_prints_only_the_summary(tmp_path, capfd):
    with RunOutput(str(tmp_path / "run.log"), QUIET) as output:
        output.say("  Trainer  12.0 s")
        output.say("blessed, pushed version 1", summary=True)
    assert capfd.readouterr().out == "blessed, pushed version 1\n"


def record(message: str, node: str) -> logging.LogRecord:
    return logging.LogRecord("tfx", logging.INFO, __file__, 1, message, (node,), None)


def test_each_finished_component_is_one_line_with_its_figure_and_a_failing_figure_never_fails(
    tmp_path, capfd
):
    def figure(node: str) -> str:
        if node == "Evaluator":
            raise KeyError(node)
        return "230 rows" if node == "Transform" else ""

    with RunOutput(str(tmp_path / "run.log"), NORMAL) as output:
        lines = ComponentLines(output, figure)
        for node in ("Transform", "Evaluator"):
            lines.emit(record(RUNNING, node))
            lines.emit(record(FINISHED, node))
    printed = capfd.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["Transform", "Evaluator"]
    assert printed[0].endswith(" s  230 rows")
    assert printed[1].endswith("(figure unavailable: KeyError)")
