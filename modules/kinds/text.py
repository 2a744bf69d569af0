"""Free text (titles, descriptions): lower-cased, split into words (runs of letters and digits,
any script), the first TEXT_TOKENS words of a cell mapped to ids in the TEXT_VOCABULARY most
frequent training words (the rest share one OOV id). The model reads the mean of the words'
learned embeddings, so the input is one small vector per column whatever the text's length or
vocabulary; Transform counts words with a bounded sketch (modules/transform_ops.py)."""

from __future__ import annotations

import tensorflow as tf

from modules import columns, names
from modules.kinds.base import Kind, LayoutPart
from modules.transform_ops import as_strings, vocabulary_ids

PAD = 0  # the id of "no word" in a row's fixed-length list of word ids
WORD_SEPARATORS = r"[^\p{L}\p{N}]+"


def words(text: tf.Tensor) -> tf.RaggedTensor:
    """[batch] strings -> ragged [batch, <= TEXT_TOKENS] words."""
    lowered = tf.strings.lower(text, encoding="utf-8")
    spaced = tf.strings.strip(tf.strings.regex_replace(lowered, WORD_SEPARATORS, " "))
    return tf.strings.split(spaced)[:, : columns.TEXT_TOKENS]


def vocabulary_size(spec: columns.ColumnSpec) -> int:
    """Words with their own id: the column's own count (the words of a small table that enough
    rows share, pipeline/column_choice.py), else TEXT_VOCABULARY."""
    return min(spec.vocabulary or columns.TEXT_VOCABULARY, columns.TEXT_VOCABULARY)


class Text(Kind):
    name = columns.TEXT

    def transform(self, spec, x):
        ids = vocabulary_ids(words(as_strings(x)), spec.key, vocabulary_size(spec))
        shifted = ids + 1  # 0 is PAD
        return {spec.key: shifted.to_tensor(default_value=PAD, shape=[None, columns.TEXT_TOKENS])}

    def layout(self, spec, output):
        vocabulary = output.vocabulary_size_by_name(names.vocabulary_name(spec.key))
        ids = vocabulary + columns.OOV_BUCKETS + 1  # PAD, the words, the OOV bucket
        return LayoutPart(text={spec.key: (ids, columns.TEXT_TOKENS)})

    def describe(self, spec):
        return (
            f"its first {columns.TEXT_TOKENS} words in a {vocabulary_size(spec):,}-word "
            "vocabulary, each network learning word embeddings (their mean)"
        )
