"""One live run per `--output`: an exclusive lock on a file in the output folder, held for the run's
life.

Two runs into one folder would share one SQLite ML Metadata store, compute the same next serving
version and stage into the same folders. The lock is an `flock` on `OUTPUT/twinnorm.lock`: the
kernel releases it when the holder exits, however it exits (SIGKILL included), so a lock left by a
dead run is simply taken over; the file's text only names the holder for the refusal message.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import sys
from typing import Optional

LOCK_FILE = "twinnorm.lock"


class OutputBusyError(ValueError):
    """Another live run holds the output folder (one-line message naming it)."""


class OutputLock:
    """`with OutputLock(output):` holds the folder's lock, or raises OutputBusyError at once."""

    def __init__(self, output: str):
        self.path = os.path.join(output, LOCK_FILE)
        self.previous: Optional[dict] = None  # what a dead run left in the file, if anything
        self._fd: Optional[int] = None

    def __enter__(self) -> "OutputLock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by subprocesses
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise OutputBusyError(
                f"--output {os.path.dirname(self.path)} is in use by run pid "
                f"{holder.get('pid', '?')} started {holder.get('started', '?')} "
                f"({holder.get('command', '?')}); wait for it to finish or give another --output"
            ) from None
        self.previous = _read(fd) or None
        holder = {
            "pid": os.getpid(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd
        return self

    def stale_note(self) -> str:
        """A line saying a dead run's lock was taken over ("" when the lock was free and clean)."""
        if not self.previous:
            return ""
        return (
            f"the lock of run pid {self.previous.get('pid', '?')} (started "
            f"{self.previous.get('started', '?')}), which is no longer running, was taken over"
        )

    def __exit__(self, *_) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # a clean exit leaves no holder behind
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None


def _read(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except ValueError:
        return {}
