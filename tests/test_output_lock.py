"""One live run per --output (pipeline/output_lock.py): a second holder is refused naming the first;
the lock of a SIGKILLed holder is taken over."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline.config import REPO_ROOT
from pipeline.output_lock import LOCK_FILE, OutputBusyError, OutputLock

HOLD = (
    "import sys, time; from pipeline.output_lock import OutputLock\n"
    "with OutputLock(sys.argv[1]):\n"
    "    print('held', flush=True); time.sleep(600)\n"
)


def holder(output) -> subprocess.Popen:
    """Another process holding the folder's lock (it prints `held` once it does)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_live_holder_refuses_a_second_run_naming_its_pid_and_start(tmp_path):
    process = holder(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(OutputBusyError, match=f"in use by run pid {process.pid} started 20"):
            with OutputLock(str(tmp_path)):
                pass
        assert time.monotonic() - started < 1
        result = subprocess.run(  # the runner refuses in one line, exit 2, before writing a thing
            [sys.executable, "local_runner.py", "--output", str(tmp_path)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2
        assert f"is in use by run pid {process.pid}" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert sorted(os.listdir(tmp_path)) == [LOCK_FILE]
    finally:
        process.kill()
        process.wait()


def test_the_lock_of_a_killed_run_is_taken_over_and_a_finished_one_leaves_none(tmp_path):
    process = holder(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with OutputLock(str(tmp_path)) as lock:
        assert f"run pid {process.pid} " in lock.stale_note()
        with open(tmp_path / LOCK_FILE) as handle:
            assert json.load(handle)["pid"] == os.getpid()
    with OutputLock(str(tmp_path)) as again:  # released on exit, with no holder left behind
        assert again.stale_note() == ""
