"""ISO dates and timestamps (`YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ssZ`, `YYYY/MM/DD hh:mm`): parsed in
Transform's graph, so serving takes the raw string. Numeric parts (days since 1970-01-01, year,
day of month, day of year) are z-scored; month, day of week and (for timestamps) hour are read
one-hot. A cell that is not such a date is missing: numeric parts at their mean, id 0 for the
one-hot parts. Time zones are ignored: the parts are the local time the cell states."""

from __future__ import annotations

from typing import Dict

import tensorflow as tf

from modules import columns
from modules.columns import DATE_PATTERN
from modules.kinds.base import Kind, LayoutPart
from modules.transform_ops import as_strings, z_score

NUMERIC_PARTS = ("days", "year", "day", "day_of_year")
# One-hot parts and their ids: 0 is "missing", then month 1-12, weekday 1 (Monday) - 7, hour 1-24.
ONE_HOT_PARTS = {"month": 13, "weekday": 8}
HOUR = ("hour", 25)


def days_from_civil(year: tf.Tensor, month: tf.Tensor, day: tf.Tensor) -> tf.Tensor:
    """Days since 1970-01-01 of a proleptic Gregorian date (int64 tensors), by H. Hinnant's
    days_from_civil: exact for every year, no table and no loop."""
    y = year - tf.cast(month <= 2, tf.int64)
    era = tf.math.floordiv(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def date_parts(text: tf.Tensor) -> Dict[str, tf.Tensor]:
    """[batch] strings -> whether each is a date (`valid`) and has a time (`timed`), and its int64
    parts: year, month, day, hour, days since 1970-01-01, weekday (Monday 1), day of year."""
    valid = tf.strings.regex_full_match(text, DATE_PATTERN)
    # A date alone reads hour 00 from the suffix; a timestamp reads its own.
    safe = tf.strings.join([tf.where(valid, text, "1970-01-01"), "T00"])

    def number(start: int, length: int) -> tf.Tensor:
        return tf.strings.to_number(tf.strings.substr(safe, start, length), tf.int64)

    year, month, day, hour = number(0, 4), number(5, 2), number(8, 2), number(11, 2)
    days = days_from_civil(year, month, day)
    january_first = days_from_civil(year, tf.ones_like(month), tf.ones_like(day))
    return {
        "valid": valid,
        "timed": valid & (tf.strings.length(text) >= 13),
        "year": year,
        "month": month,
        "day": day,
        "hour": hour,
        "days": days,
        "weekday": (days + 3) % 7 + 1,  # 1970-01-01 was a Thursday: Monday = 1
        "day_of_year": days - january_first + 1,
    }


def one_hot_parts(spec: columns.ColumnSpec) -> Dict[str, int]:
    return {**ONE_HOT_PARTS, **(dict([HOUR]) if spec.times else {})}


class Date(Kind):
    name = columns.DATE

    def transform(self, spec, x):
        parts = date_parts(as_strings(x))
        missing = tf.constant(float("nan"), tf.float64)
        outputs = {
            columns.part_key(spec.key, part): z_score(
                tf.where(parts["valid"], tf.cast(parts[part], tf.float64), missing)
            )
            for part in NUMERIC_PARTS
        }
        ids = {
            "month": tf.where(parts["valid"], parts["month"], 0),
            "weekday": tf.where(parts["valid"], parts["weekday"], 0),
            HOUR[0]: tf.where(parts["timed"], parts["hour"] + 1, 0),
        }
        for part in one_hot_parts(spec):
            outputs[columns.part_key(spec.key, part)] = tf.cast(ids[part], tf.int64)
        return outputs

    def layout(self, spec, output):
        return LayoutPart(
            numeric=tuple(columns.part_key(spec.key, p) for p in NUMERIC_PARTS),
            one_hot={columns.part_key(spec.key, p): n for p, n in one_hot_parts(spec).items()},
        )

    def describe(self, spec):
        parts = "days since 1970, year, day of month, day of year; month, weekday one-hot"
        return parts + (", hour one-hot" if spec.times else "")
