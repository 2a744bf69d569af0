"""The one pass over the data and the plain copy CsvExampleGen reads (pipeline/prepared_data.py)."""

import csv
import os

from pipeline import csv_reading, prepared_data
from tests import exports


def prepared(path: str, label: str, folder: str, drop: bool = True):
    data = prepared_data.profile([csv_reading.sniff(path)], [label])
    return data, prepared_data.prepare(data, [label], drop, folder)


def read_copy(folder: str):
    with open(os.path.join(folder, prepared_data.COPY_NAME), newline="", encoding="utf-8") as f:
        text = f.read()
    return text, list(csv.reader(text.splitlines()))


def test_every_export_becomes_the_plain_csv_example_gen_reads(tmp_path):
    written = exports.variants(str(tmp_path / "in"))
    plain_header, plain_rows = exports.penguins()
    for name in ("gzip", "tab-separated", "byte-order mark", "trailing delimiter"):
        path, label = written[name]
        _, folder = prepared(path, label, str(tmp_path / "out"))
        text, rows = read_copy(folder)
        assert text.splitlines()[0].split(",") == plain_header, name  # ExampleGen's header read
        assert rows[1:] == plain_rows, name


def test_decimal_commas_become_points_and_unlabelled_rows_are_set_aside(tmp_path):
    path, label = exports.all_at_once(str(tmp_path))
    data, folder = prepared(path, label, str(tmp_path / "out"))
    _, rows = read_copy(folder)
    header = rows[0]
    assert header[:3] == ["Species", "Island name", "Bill Length (mm)"]
    assert rows[1][2] == "39.1" and rows[1][0] == "  Adelie "  # label spaces: Transform strips
    assert data.unlabelled == 9 and len(rows) - 1 == data.rows - 9
    assert all(row[0].strip() for row in rows[1:])
    reasons = prepared_data.copy_reasons(data, True, False)
    assert "9 row(s) with an empty label set aside" in reasons
    assert any("semicolon-separated" in r for r in reasons)


def test_a_copy_is_made_once_per_content(tmp_path):
    path, label = exports.variants(str(tmp_path))["gzip"]
    _, first = prepared(path, label, str(tmp_path / "out"))
    stamp = os.stat(os.path.join(first, prepared_data.COPY_NAME)).st_mtime_ns
    _, again = prepared(path, label, str(tmp_path / "out"))
    assert again == first
    assert os.stat(os.path.join(again, prepared_data.COPY_NAME)).st_mtime_ns == stamp
    _, kept = prepared(path, label, str(tmp_path / "out"), drop=False)
    assert kept != first  # what the copy does is part of its name


def test_plain_files_with_every_label_are_read_in_place(tmp_path):
    path, label = exports.variants(str(tmp_path))["stray label spaces"]
    data = prepared_data.profile([csv_reading.sniff(path)], [label])
    assert prepared_data.copy_reasons(data, True, False) == []
    assert prepared_data.copy_reasons(data, True, True) == []  # a folder of *.csv
