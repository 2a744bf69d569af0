"""The label profile (pipeline/labels.py): the task a label column implies, and the refusals that
name the file and line of each bad cell."""

import pytest

from modules import modes
from pipeline.labels import MAX_CLASS_VALUES, numeric_columns, read_label


def write(tmp_path, name: str, rows) -> str:
    path = tmp_path / name
    path.write_text("x,y\n" + "".join(f"{i},{value}\n" for i, value in enumerate(rows)))
    return str(path)


def test_names_and_a_few_integer_codes_are_classes_and_other_numbers_are_regression(tmp_path):
    words = read_label([write(tmp_path, "a.csv", ["no", "yes"] * 5)], "y")
    assert (words.task(), words.n_outputs(words.task())) == (modes.CLASSIFICATION, 2)
    assert words.counts == (5, 5) and words.rows == 10
    codes = read_label([write(tmp_path, "b.csv", [0, 1, 2] * 5)], "y")
    assert codes.task() == modes.CLASSIFICATION and codes.distinct == ("0", "1", "2")
    fractions = read_label([write(tmp_path, "c.csv", [0.5, 1.25, 2.0] * 5)], "y")
    assert fractions.task() == modes.REGRESSION and fractions.n_outputs(modes.REGRESSION) == 1
    many = read_label([write(tmp_path, "d.csv", range(MAX_CLASS_VALUES + 1))], "y")
    assert many.task() == modes.REGRESSION


def test_profiles_span_every_file(tmp_path):
    files = [write(tmp_path, "a.csv", ["no"] * 5), write(tmp_path, "b.csv", ["yes"] * 5)]
    assert read_label(files, "y").distinct == ("no", "yes")


def test_empty_cells_rare_classes_and_text_in_a_number_label_are_named_where_they_are(tmp_path):
    path = write(tmp_path, "a.csv", ["no"] * 5 + [""] + ["yes"] * 4)
    profile = read_label([path], "y")
    with pytest.raises(ValueError, match=f"label 'y' is empty in 1 row.s., first at {path}:7"):
        profile.check(modes.CLASSIFICATION)
    rare = read_label([write(tmp_path, "b.csv", ["no"] * 5 + ["yes"] * 4)], "y")
    with pytest.raises(ValueError, match="fewer than 5 rows: 'yes' .4 rows."):
        rare.check(modes.CLASSIFICATION)
    text = write(tmp_path, "c.csv", [1.5, 2.5, "n/a"])
    with pytest.raises(ValueError, match=f"1 non-numeric value.s., first at {text}:4 .'n/a'."):
        read_label([text], "y").check(modes.REGRESSION)


def test_numeric_columns_are_those_whose_every_cell_reads_as_a_number(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b,c\n1,x,\n2.5,3,4\n")
    assert numeric_columns([str(path)], ["a", "b", "c"]) == ["a", "c"]
