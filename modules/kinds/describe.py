"""What each column became, in words, for the console and the run report."""

from __future__ import annotations

from modules import columns
from modules.columns import ColumnSpec
from modules.kinds import KINDS


def describe(spec: ColumnSpec) -> str:
    """One line: the column, what it became and why."""
    if spec.kind == columns.IGNORE:
        return f"{spec.name}: left out ({spec.reason})"
    kind = spec.kind if not spec.encoding else f"{spec.kind}, {spec.encoding.replace('_', '-')}"
    return f"{spec.name}: {kind} ({spec.reason}) - {KINDS[spec.kind].describe(spec)}"
