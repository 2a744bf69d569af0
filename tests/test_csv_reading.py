"""How an exported CSV is written, read off its first bytes (pipeline/csv_reading.py)."""

import bz2

import pytest

from pipeline import csv_reading
from tests import exports


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return exports.variants(str(tmp_path_factory.mktemp("exports")))


def test_each_export_form_is_recognized_and_says_why_it_is_copied(written):
    forms = {name: csv_reading.sniff(path) for name, (path, _) in written.items()}
    assert forms["gzip"].compression == "gzip"
    assert forms["tab-separated"].delimiter == "\t"
    assert forms["semicolons, decimal commas"].delimiter == ";"
    assert forms["byte-order mark"].encoding == "utf-8-sig"
    assert forms["trailing delimiter"].trailing_delimiter
    assert forms["spaces and brackets"].header[:3] == ("Species", "Island name", "Bill Length (mm)")
    penguin_header = tuple(exports.penguins()[0])
    for name in ("gzip", "tab-separated", "byte-order mark", "trailing delimiter"):
        assert forms[name].header == penguin_header, name
        assert forms[name].copy_reasons(), name
    assert forms["stray label spaces"].copy_reasons() == []
    assert "semicolon-separated" in forms["semicolons, decimal commas"].describe()


def test_rows_read_every_form_alike(written):
    expected = exports.penguins()[1]
    for name in ("gzip", "tab-separated", "byte-order mark", "trailing delimiter"):
        form = csv_reading.sniff(written[name][0])
        assert [row for _, row in csv_reading.rows(form)] == expected, name
    form = csv_reading.sniff(written["gzip"][0])
    assert [line for line, _ in csv_reading.rows(form, limit=2)] == [2, 3]


def test_bzip2_and_windows_code_pages_are_read(tmp_path):
    path = tmp_path / "a.csv.bz2"
    path.write_bytes(bz2.compress("Größe;Farbe\n1,5;grün\n".encode("cp1252")))
    form = csv_reading.sniff(str(path))
    assert (form.compression, form.encoding, form.delimiter) == ("bz2", "cp1252", ";")
    assert [row for _, row in csv_reading.rows(form)] == [["1,5", "grün"]]


def test_a_ragged_row_and_an_empty_file_fail_naming_file_and_line(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match=r"ragged.csv:3: 1 cell\(s\) where the header has 2"):
        list(csv_reading.rows(csv_reading.sniff(str(ragged))))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        csv_reading.sniff(str(empty))
