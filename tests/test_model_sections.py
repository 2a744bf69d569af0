"""The report's model sections (components/report/model_sections.py)."""

import numpy as np
import pytest

from components.report.render import page
from modules import names
from tests.report_fixture import report_data


def test_calibration_section_shows_each_predictions_map_and_what_it_changed():
    data = report_data()
    data.calibration = {
        name: {
            "method": "temperature+offset",
            "temperature": 0.25,
            "offset": [0.0, 1.5, -2.0],
            "ece_before": 0.42,
            "ece_after": 0.01,
            "examples": 6,
        }
        for name in (*names.NETWORKS, names.COMBINED)
    }
    # On the report's split: uncalibrated softmax(scores), and served probabilities that put
    # 0.9 on each row's own class (ECE 0.1: always right, 0.9 confident).
    labels = data.outputs.labels
    for name in (*names.NETWORKS, names.COMBINED):
        data.outputs.scores[name] = np.zeros((6, 3))  # softmax 1/3 each: ECE |1/3 - 1/3| = 0
        served = np.full((6, 3), 0.05)
        served[np.arange(6), labels] = 0.9
        data.outputs.probabilities[name] = served
    document, values = page(data, "now")
    assert values["calibration"][names.COMBINED]["ece_after"] == 0.01
    on_eval = values["calibration_on_split"][names.COMBINED]
    assert on_eval["ece_after"] == pytest.approx(0.1)
    assert on_eval["ece_before"] == pytest.approx(abs(np.mean(labels == 0) - 1 / 3))
    assert document.count("<td>0.4200 / 0.0100 (6 rows)</td>") == 3
    assert document.count("<td>0.1000</td>") == 3 and "<td>0, 1.5, -2</td>" in document
    data = report_data("regression")
    data.calibration = {
        names.COMBINED: {
            "slope": [0.6, 0.5],
            "intercept": [0.1, 0.0],
            "mse_before": 4430.0,
            "mse_after": 3739.0,
            "examples": 6,
        }
    }
    document, _ = page(data, "now")
    assert (
        "<td>0.6, 0.5</td>" in document
        and "<td>4430</td>" in document
        and "<td>3739</td>" in document
    )


def test_explanations_section_ranks_columns_names_disagreement_and_shows_example_rows():
    from components.report.model_sections import explanations_section

    models = [names.COMBINED, *names.NETWORKS]
    record = {
        "split": "eval",
        "rows": 1500,
        "columns": ["Bill Length (mm)", "island", "sex"],
        "importance": {
            names.COMBINED: [0.1, 0.3, 0.02],
            names.NETWORK_A: [0.2, 0.25, 0.01],
            names.NETWORK_B: [0.05, 0.35, 0.2],
        },
        "disagreement": [0.15, 0.1, 0.19],
        "examples": [
            {
                "index": 1234,
                "values": {"Bill Length (mm)": "39.1", "island": "Biscoe", "sex": ""},
                "models": {
                    m: {
                        "prediction": 0.9,
                        "baseline_prediction": 0.4,
                        "attributions": [0.125, 0.25, 0.125],
                    }
                    for m in models
                },
            }
        ],
    }
    body = explanations_section(record)
    assert "first 1,500 rows of the eval split" in body
    ranked = [body.index(f"<td>{c}</td>") for c in ("island", "Bill Length (mm)", "sex")]
    assert ranked == sorted(ranked)  # by the combined model's importance
    assert "disagree most on: sex (0.1900), Bill Length (mm) (0.1500), island (0.1000)" in body
    assert "Row 1,234 of the split: combined 0.9 (baseline 0.4)" in body
    assert "<td>Biscoe</td>" + "<td>0.2500</td>" * 3 in body
    assert explanations_section({}) == "<p>No explanations recorded.</p>"
