"""The report's numbers (components/report/numbers.py) from a split's outputs."""

import pytest

from components.report.render import numbers
from modules import names
from tests.report_fixture import report_data


def test_histograms_share_bins_per_stage_and_count_every_output():
    values = numbers(report_data())
    for stage in ("raw", "normalized"):
        hist = values["histograms"][stage]
        for network in names.NETWORKS:
            assert sum(hist["counts"][network]) == 18
        assert hist["edges"][0] == pytest.approx(
            min(values["statistics"][n][stage]["min"] for n in names.NETWORKS)
        )
    assert values["statistics"][names.NETWORK_B]["raw"]["std"] == pytest.approx(
        10 * values["statistics"][names.NETWORK_A]["raw"]["std"]
    )
    assert values["statistics"][names.NETWORK_B]["normalized"]["std"] == pytest.approx(
        values["statistics"][names.NETWORK_A]["normalized"]["std"]
    )  # range removes the 10x
