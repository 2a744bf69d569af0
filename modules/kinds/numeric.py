"""Numbers: z-scored with the training split's mean and standard deviation, a missing value as
the mean. A cell that is not a number (a column the user declared numeric, or a stray word past
the rows the front door read) counts as missing, in training and in every served request."""

from __future__ import annotations

from modules import columns
from modules.kinds.base import Kind, LayoutPart
from modules.transform_ops import numbers, z_score


class Numeric(Kind):
    name = columns.NUMERIC

    def transform(self, spec, x):
        return {spec.key: z_score(numbers(x))}

    def layout(self, spec, output):
        return LayoutPart(numeric=(spec.key,))

    def describe(self, spec):
        return "z-scored; a missing value reads as the mean"
