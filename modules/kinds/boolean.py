"""Two-valued text columns (yes/no, true/false, y/n, t/f, in any case): 1 for the true value,
0 for the other, a missing cell as the training share of true values; then z-scored."""

from __future__ import annotations

import tensorflow as tf

from modules import columns
from modules.kinds.base import Kind, LayoutPart
from modules.transform_ops import as_strings, z_score


class Boolean(Kind):
    name = columns.BOOLEAN

    def transform(self, spec, x):
        text = tf.strings.lower(as_strings(x), encoding="utf-8")
        value = tf.where(
            tf.equal(text, spec.true_value),
            tf.constant(1.0, tf.float64),
            tf.constant(0.0, tf.float64),
        )
        missing = tf.constant(float("nan"), tf.float64)
        return {spec.key: z_score(tf.where(tf.equal(text, ""), missing, value))}

    def layout(self, spec, output):
        return LayoutPart(numeric=(spec.key,))

    def describe(self, spec):
        return f"1 for {spec.true_value!r}, else 0; a missing value reads as the mean"
