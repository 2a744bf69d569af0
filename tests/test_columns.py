"""Column names to graph keys (modules/columns.py): stable, readable, collision-free."""

import re

import pytest

from modules import columns
from modules.columns import ColumnSpec, check_keys, internal_key, parse_kinds

HEADERS = (
    "bill_length_mm",
    "Bill Length (mm)",
    "Body Mass [g]",
    "Body.Mass/g",
    "Schnabellänge",
    "1st year",
    "Sex",
    "sex",
    "SEX",
    "名前",
    "   ",
    "a__b",
)
KEY = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def test_every_header_gets_a_graph_safe_key_and_plain_names_keep_theirs():
    keys = [internal_key(name) for name in HEADERS]
    assert all(KEY.fullmatch(key) for key in keys), keys
    assert internal_key("bill_length_mm") == "bill_length_mm"
    assert internal_key("sex") == "sex"
    assert internal_key("Bill Length (mm)").startswith("bill_length_mm_")
    assert internal_key("Schnabellänge").startswith("schnabellange_")
    assert internal_key("1st year").startswith("c_1st_year_")
    assert all("__" not in key for key in keys)  # part_key's separator stays unambiguous


def test_keys_are_stable_and_names_equal_but_for_case_stay_apart():
    assert [internal_key(n) for n in HEADERS] == [internal_key(n) for n in HEADERS]
    assert len({internal_key(n) for n in HEADERS}) == len(HEADERS)
    check_keys(HEADERS)  # no collision: no error
    assert columns.keys_to_names(["Sex", "sex"]) == {internal_key("Sex"): "Sex", "sex": "sex"}


def test_a_name_equal_to_another_names_key_is_refused():
    taken = internal_key("Bill Length (mm)")
    with pytest.raises(ValueError, match="map to one internal key"):
        check_keys(["Bill Length (mm)", taken])


def test_kinds_parse_from_the_flag_and_unknown_kinds_are_refused():
    assert parse_kinds("zip code=categorical, notes=text") == (
        ("zip code", "categorical"),
        ("notes", "text"),
    )
    assert parse_kinds("a=b=date") == (("a=b", "date"),)  # the last '=' splits
    with pytest.raises(ValueError, match="kind 'words' is not one of"):
        parse_kinds("notes=words")
    with pytest.raises(ValueError, match="expected COLUMN=KIND pairs"):
        parse_kinds("notes")


def test_specs_round_trip_as_dicts_and_ignored_columns_are_not_used():
    specs = [ColumnSpec("Notes", columns.TEXT), ColumnSpec("id", columns.IGNORE)]
    assert columns.specs_of([s.to_dict() for s in specs]) == specs
    assert columns.used(specs) == specs[:1]
    assert columns.embedding_dim(3) == 4 and columns.embedding_dim(10**6) == 16
