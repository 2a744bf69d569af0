"""The registry of column kinds (modules/kinds/): one Kind per feature kind, each complete."""

import pytest

from modules import columns
from modules.columns import ColumnSpec
from modules.kinds import KINDS, Kind


def test_every_feature_kind_has_one_registered_kind_that_implements_it():
    assert set(KINDS) == set(columns.FEATURE_KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name
        for method in ("transform", "layout", "describe"):
            assert getattr(type(kind), method) is not getattr(Kind, method), (name, method)


def test_the_base_kind_does_nothing_silently():
    with pytest.raises(NotImplementedError):
        Kind().describe(ColumnSpec("x", columns.NUMERIC))
