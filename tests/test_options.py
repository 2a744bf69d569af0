"""Option declarations (modules/options.py): one field declares its flag, help and parser."""

import dataclasses

import pytest

from modules.options import (
    GROUPS,
    comma_list,
    declared,
    flag_of,
    non_negative,
    option,
    positive,
)


@dataclasses.dataclass(frozen=True)
class Inner:
    workers: int = option(1, "processes", GROUPS[0], parse=positive)
    plain: int = 3  # not an option


@dataclasses.dataclass(frozen=True)
class Outer:
    label: str = option("y", "the label", GROUPS[0])
    beam: Inner = Inner()


def test_nested_options_are_found_in_field_order_with_their_flags():
    found = list(declared(Outer))
    assert [d.path for d in found] == [("label",), ("beam", "workers")]
    assert [d.flag for d in found] == ["--label", "--beam-workers"]  # `beam` is a prefixed section
    assert [d.dest for d in found] == ["label", "beam__workers"]
    assert found[1].option.parse is positive and found[1].field.default == 1
    assert flag_of(("trainer", "batch_size")) == "--batch-size"  # other sections add no prefix


def test_parsers_refuse_what_their_option_cannot_take():
    assert positive("3") == 3 and non_negative("0") == 0
    assert comma_list(" a, b ,,c ") == ("a", "b", "c")
    for parse, text in ((positive, "0"), (non_negative, "-1"), (comma_list, " , ")):
        with pytest.raises(ValueError):
            parse(text)
    with pytest.raises(ValueError, match="option group must be one of"):
        option(1, "help", "no-such-group")
