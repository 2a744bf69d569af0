"""The configuration's data (pipeline/config.py): the embedded dataset and its defaults."""

from pipeline.config import DEFAULT_DATA


def test_embedded_data_is_the_raw_penguin_table():
    with open(DEFAULT_DATA) as handle:
        lines = handle.read().splitlines()
    assert len(lines) == 345  # header + 344 rows
    assert sum(",," in line or line.endswith(",") for line in lines) >= 11  # missing values kept
