"""What a column kind is: how Transform encodes it, what the model reads of it, and how to say so.

Each kind (numeric, categorical, boolean, text, date) is one `Kind` in its own module of this
package; `modules/kinds/__init__.py` is the registry that Transform, the model layout and the
report iterate over. A kind's Transform outputs are keyed by the column's internal key (or keys
derived from it, `columns.part_key`), so any header a user writes is a valid graph name.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from modules.columns import ColumnSpec
from modules.transform_ops import Input


@dataclasses.dataclass(frozen=True)
class LayoutPart:
    """The transformed features one column gives the model, by how the model reads them."""

    numeric: Tuple[str, ...] = ()  # float32 [batch] features, fed as they are
    one_hot: Mapping[str, int] = dataclasses.field(default_factory=dict)  # key -> ids
    embedded: Mapping[str, int] = dataclasses.field(default_factory=dict)  # key -> ids
    # key -> (ids, tokens): int64 [batch, tokens] token ids, 0 = no token; a mean of embeddings
    text: Mapping[str, Tuple[int, int]] = dataclasses.field(default_factory=dict)


class Kind:
    """One column kind. Subclasses set `name` and implement the three methods."""

    name = ""

    def transform(self, spec: ColumnSpec, x: Input) -> Dict[str, tf.Tensor]:
        """The column's raw values [batch] (dense or sparse) -> its Transform outputs."""
        raise NotImplementedError

    def layout(self, spec: ColumnSpec, output: tft.TFTransformOutput) -> LayoutPart:
        """What the model reads of this column, with sizes from Transform's output."""
        raise NotImplementedError

    def describe(self, spec: ColumnSpec) -> str:
        """What the model reads, in a few words (console and report)."""
        raise NotImplementedError
