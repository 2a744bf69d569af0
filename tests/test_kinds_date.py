"""ISO dates parsed in Transform's graph (modules/kinds/date.py), checked against Python's own
calendar."""

import datetime

import numpy as np
import tensorflow as tf

from modules import columns
from modules.columns import ColumnSpec, part_key
from modules.kinds.date import date_parts, days_from_civil
from tests.kind_runs import run_kind


def test_days_and_parts_match_pythons_calendar_over_centuries():
    days = np.arange(-719_162 + 366_000, 2_900_000, 997)  # years 1003 to 9909
    dates = [datetime.date(1970, 1, 1) + datetime.timedelta(days=int(d)) for d in days]
    text = tf.constant([d.isoformat() for d in dates if d.year >= 1000])
    parts = {k: v.numpy() for k, v in date_parts(text).items()}
    kept = [d for d in dates if d.year >= 1000]
    assert parts["valid"].all()
    assert parts["days"].tolist() == [(d - datetime.date(1970, 1, 1)).days for d in kept]
    assert parts["weekday"].tolist() == [d.isoweekday() for d in kept]
    assert parts["day_of_year"].tolist() == [d.timetuple().tm_yday for d in kept]
    year = tf.constant([2000, 1900], tf.int64)
    assert days_from_civil(
        year, tf.constant([3, 3], tf.int64), tf.constant([1, 1], tf.int64)
    ).numpy().tolist() == [11017, -25508]


def test_timestamps_give_the_hour_and_other_cells_are_missing():
    text = tf.constant(["2016-10-07T14:30:00Z", "2016/10/07 09:05", "2016-13-01", "07.10.2016", ""])
    parts = {k: v.numpy() for k, v in date_parts(text).items()}
    assert parts["valid"].tolist() == [True, True, False, False, False]
    assert parts["timed"].tolist() == [True, True, False, False, False]
    assert parts["hour"][:2].tolist() == [14, 9]


def test_a_date_column_becomes_z_scored_numbers_and_one_hot_ids_served_alike():
    spec = ColumnSpec("Signed up", columns.DATE, times=True)
    train = [[b"2016-01-04T10:00:00"], [b"2017-06-15"], [], [b"not a date"], [b"2018-12-31 23:59"]]
    trained, _, served = run_kind(spec, train, served=train)
    key = spec.key
    assert trained[part_key(key, "month")].tolist() == [1, 6, 0, 0, 12]
    assert trained[part_key(key, "weekday")].tolist() == [1, 4, 0, 0, 1]
    assert trained[part_key(key, "hour")].tolist() == [11, 0, 0, 0, 24]
    days = trained[part_key(key, "days")]
    assert days[2] == days[3] == 0.0  # missing: the mean
    assert np.isfinite(days).all() and days[4] > days[1] > days[0]
    for name, values in trained.items():
        np.testing.assert_allclose(served[name].reshape(values.shape), values, atol=1e-6)
