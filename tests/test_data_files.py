"""The CSV checks (pipeline/data_files.py): empty files and awkward exports refused in one line."""

import dataclasses
import os
import subprocess
import sys

import pytest

from pipeline.config import DEFAULT_DATA, REPO_ROOT, PipelineConfig
from pipeline.resolution import resolve


def test_empty_csv_is_named_in_the_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        resolve(dataclasses.replace(PipelineConfig(), data=str(empty)))


def test_header_only_csv_is_named_in_the_error(tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("island,species\n\n")
    with pytest.raises(ValueError, match="header.csv has a header but no data rows"):
        resolve(dataclasses.replace(PipelineConfig(), data=str(header_only), label="species"))


def penguin_text() -> str:
    with open(os.path.join(REPO_ROOT, DEFAULT_DATA), newline="") as handle:
        return handle.read()


def one_row_class(text: str) -> str:
    """The first data row's species renamed to a class of its own."""
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1].replace("Adelie", "Emperor", 1)
    return "".join(lines)


def repeated_column(text: str) -> str:
    """`bill_depth_mm` renamed to `bill_length_mm` in the header."""
    header, rest = text.split("\n", 1)
    return header.replace("bill_depth_mm", "bill_length_mm") + "\n" + rest


def pandas_index(text: str) -> str:
    """What pandas' to_csv writes by default: an unnamed index column first."""
    return "".join(
        f",{line}" if i == 0 else f"{i - 1},{line}"
        for i, line in enumerate(text.splitlines(keepends=True))
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("species,", '"Length, mm",', 1), "holds a comma or a double quote"),
        (repeated_column, "the header repeats column name(s) 'bill_length_mm' (2 times)"),
        (pandas_index, "column 1 of the header has no name (a pandas index written by to_csv?"),
        (one_row_class, "label 'species' has class(es) with fewer than 5 rows: 'Emperor' (1 row)"),
    ],
)
def test_awkward_csv_exports_are_refused_in_one_line_before_any_component(edit, message, tmp_path):
    data = tmp_path / "penguins.csv"
    data.write_text(edit(penguin_text()), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", str(tmp_path), "--data", str(data)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr, result.stderr
    if "header" in message or "comma" in message:
        assert str(data) in result.stderr  # names the file
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no traceback
    assert not (tmp_path / "pipelines").exists()  # nothing ran


def test_a_folder_reads_every_data_file_it_holds_and_their_headers_must_agree(tmp_path):
    from pipeline.data_files import csv_files, read_forms

    (tmp_path / "a.csv").write_text("x,y\n1,a\n")
    (tmp_path / "b.tsv").write_text("x\ty\n2\tb\n")
    (tmp_path / "notes.md").write_text("not data")
    assert [os.path.basename(f) for f in csv_files(str(tmp_path))] == ["a.csv", "b.tsv"]
    assert [f.delimiter for f in read_forms(str(tmp_path))] == [",", "\t"]
    (tmp_path / "c.csv").write_text("x,z\n3,c\n")
    with pytest.raises(ValueError, match="c.csv has columns .'x', 'z'., but .*a.csv has"):
        read_forms(str(tmp_path))
