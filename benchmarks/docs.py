"""Writes every measured figure README.md and docs/ carry, from the JSON result that holds it.

    python -m benchmarks.docs            # rewrite every generated section from its JSON
    python -m benchmarks.docs --check    # exit 1 naming each section that differs from its JSON

A generated section sits between `<!-- NAME: JSON -->` and `<!-- end of NAME -->`. Prose outside
those markers carries no measured figure (dates, times, sizes, speeds, ratios); the tests check
both, so a figure typed by hand fails CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from typing import Callable, Iterator, List, Tuple

from benchmarks import batch_explain, console_sample, explain, front_door, quality, report, scale
from benchmarks.common import REPO_ROOT

# README and every page in docs/: where a typed figure is looked for.
DOCS = (
    "README.md",
    *sorted(f"docs/{n}" for n in os.listdir(os.path.join(REPO_ROOT, "docs")) if n.endswith(".md")),
)


@dataclasses.dataclass(frozen=True)
class Section:
    """A block of Markdown written by `render` from the JSON file `json` into each of `docs`."""

    name: str
    json: str
    render: Callable[[dict], str]
    docs: Tuple[str, ...]

    @property
    def begin(self) -> str:
        return f"<!-- {self.name}: {self.json} -->"

    @property
    def end(self) -> str:
        return f"<!-- end of {self.name} -->"

    def expected(self) -> str:
        with open(os.path.join(REPO_ROOT, self.json)) as handle:
            return self.render(json.load(handle)).strip()

    def current(self, doc: str) -> str:
        """The text between the markers in `doc` (ValueError when a marker is missing)."""
        text = _read(doc)
        start = text.index(self.begin) + len(self.begin)
        return text[start : text.index(self.end, start)].strip()


SECTIONS = (
    Section(
        "quality table", quality.RESULTS_NAME, quality.section, ("README.md", "docs/benchmarks.md")
    ),
    Section("benchmark summary", report.RESULTS_NAME, report.summary_section, ("README.md",)),
    Section("benchmark tables", report.RESULTS_NAME, report.full_section, ("docs/benchmarks.md",)),
    Section(
        "console sample",
        console_sample.RESULTS_NAME,
        console_sample.console_section,
        ("README.md",),
    ),
    Section("scale table", scale.RESULTS_NAME, scale.section, ("docs/benchmarks.md",)),
    Section("scale headline", scale.RESULTS_NAME, scale.headline, ("README.md",)),
    Section(
        "front door table", front_door.RESULTS_NAME, front_door.section, ("docs/benchmarks.md",)
    ),
    Section("explain cost", explain.RESULTS_NAME, explain.section, ("docs/serving.md",)),
    Section(
        "batch explain cost",
        batch_explain.RESULTS_NAME,
        batch_explain.section,
        ("docs/serving.md",),
    ),
    Section(
        "default run report",
        console_sample.RESULTS_NAME,
        console_sample.report_section,
        ("docs/pipeline.md",),
    ),
)

# What a measurement looks like in prose: a date, a time, a size, a speed, a ratio ("0.61x"), or a
# metric with three or more decimals. Bounds and settings (0.2, 1e-5, 50,000 steps) do not match.
FIGURE = re.compile(
    r"\b20\d\d-\d\d-\d\d\b"
    r"|\b\d(?:[\d,]*\d)?(?:\.\d+)? ?(?:s|ms|min|minutes?|seconds?|hours?|GiB|MiB|GB|MB|GFLOP/s|examples/s|rows/s)\b"
    r"|\b\d+(?:\.\d+)?x\b"
    r"|\b0\.\d{3,}\b"
)


def _read(doc: str) -> str:
    with open(os.path.join(REPO_ROOT, doc)) as handle:
        return handle.read()


def write(sections: Tuple[Section, ...] = SECTIONS) -> None:
    """Replaces the text between each section's markers with what its JSON renders to."""
    for section in sections:
        body = section.expected()
        for doc in section.docs:
            text = _read(doc)
            start = text.index(section.begin) + len(section.begin)
            end = text.index(section.end, start)
            with open(os.path.join(REPO_ROOT, doc), "w") as handle:
                handle.write(text[:start] + "\n" + body + "\n" + text[end:])


def differing(sections: Tuple[Section, ...] = SECTIONS) -> List[str]:
    """`doc: section` for every generated section whose text is not what its JSON renders to."""
    return [
        f"{doc}: {s.name} (from {s.json})"
        for s in sections
        for doc in s.docs
        if s.current(doc) != s.expected()
    ]


def prose(doc: str) -> Iterator[Tuple[int, str]]:
    """(line number, line) of `doc` outside every generated section."""
    generated = False
    for number, line in enumerate(_read(doc).splitlines(), 1):
        if line.startswith("<!-- end of "):
            generated = False
        elif any(line == s.begin for s in SECTIONS):
            generated = True
        elif not generated:
            yield number, line


def typed_figures(docs: Tuple[str, ...] = DOCS) -> List[str]:
    """`doc:line: figure` for every measured-looking figure written outside a generated section."""
    return [
        f"{doc}:{number}: {match.group(0)}"
        for doc in docs
        for number, line in prose(doc)
        for match in FIGURE.finditer(line)
    ]


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report sections that differ")
    args = parser.parse_args(argv)
    if not args.check:
        write()
    problems = differing() + [f"typed figure {f}" for f in typed_figures()]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
