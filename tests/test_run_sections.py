"""The report's run sections (components/report/run_sections.py): the verdict, the data checks
and the served versions, as a reader sees them."""

import dataclasses

from components.report.run_sections import data_section, training_summary, verdict_section
from tests.report_fixture import report_data


def test_the_verdict_says_what_was_pushed_or_why_nothing_was():
    data = report_data()
    assert "Blessed: version <b>4</b> of every model pushed" in verdict_section(data)
    refused = dataclasses.replace(data, blessed=False, threshold_failures=["network_a auc < 0.9"])
    text = verdict_section(refused)
    assert "<b>Not blessed</b>" in text and "<li>network_a auc &lt; 0.9</li>" in text


def test_drift_rows_say_over_or_within_their_bar():
    checks = {
        "report": ["all splits clean"],
        "drift": {"eval": {"bill": {"jsd": 0.4, "jsd_threshold": 0.1}, "sex": {"jsd": 0.01}}},
    }
    text = data_section(checks)
    assert "<td>bill</td><td>jsd</td><td>0.4000</td><td>0.1000</td><td>over the bar</td>" in text
    assert "<td>sex</td><td>jsd</td><td>0.0100</td><td></td><td>within</td>" in text
    assert "No drift comparison" in data_section({"report": []})


def test_the_training_line_names_steps_epochs_and_why_it_stopped():
    record = {"steps": 120, "max_steps": 400, "epochs": 2.5, "stopped": "early stopping"}
    assert training_summary(record) == "120 steps of at most 400, 2.5 epochs; early stopping"
    assert training_summary({}) == "(no training record)"
