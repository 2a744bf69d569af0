"""The column kinds, one module each; `KINDS` is the one registry of them (name -> Kind)."""

from typing import Dict

from modules.kinds.base import Kind, LayoutPart
from modules.kinds.boolean import Boolean
from modules.kinds.categorical import Categorical
from modules.kinds.date import Date
from modules.kinds.numeric import Numeric
from modules.kinds.text import Text

KINDS: Dict[str, Kind] = {
    kind.name: kind for kind in (Numeric(), Categorical(), Boolean(), Text(), Date())
}

__all__ = ["KINDS", "Kind", "LayoutPart"]
