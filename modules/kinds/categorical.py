"""Categories: an id in the training split's most frequent values, every other value (and any
value first seen at serving) in one out-of-vocabulary bucket; a missing cell is its own value.

Up to ONE_HOT_MAX values the model reads the id one-hot; a category with more (zip codes,
product ids) keeps its CATEGORY_VOCABULARY most frequent values and each network learns an
embedding of them, so neither the input width nor Transform's memory grows with the number of
distinct values."""

from __future__ import annotations

from modules import columns, names
from modules.kinds.base import Kind, LayoutPart
from modules.transform_ops import as_strings, vocabulary_ids


def cap(spec: columns.ColumnSpec) -> int:
    """The vocabulary's size limit: ONE_HOT_MAX one-hot, CATEGORY_VOCABULARY embedded."""
    if spec.encoding == columns.EMBEDDING:
        return columns.CATEGORY_VOCABULARY
    return columns.ONE_HOT_MAX


class Categorical(Kind):
    name = columns.CATEGORICAL

    def transform(self, spec, x):
        return {
            spec.key: vocabulary_ids(as_strings(x, names.MISSING_CATEGORY), spec.key, cap(spec))
        }

    def layout(self, spec, output):
        ids = output.num_buckets_for_transformed_feature(spec.key)
        if spec.encoding == columns.EMBEDDING:
            return LayoutPart(embedded={spec.key: ids})
        return LayoutPart(one_hot={spec.key: ids})

    def describe(self, spec):
        if spec.encoding == columns.EMBEDDING:
            return (
                f"its {columns.CATEGORY_VOCABULARY:,} most frequent values and one bucket for the "
                "rest, each network learning an embedding"
            )
        return f"one-hot of its values (at most {columns.ONE_HOT_MAX}) and one bucket for others"
