"""The report page (components/report/render.py): every section, inline images only."""

import base64

import numpy as np
import pytest

from components.report.render import SECTIONS, page
from modules import names
from tests.report_fixture import PNG_SIGNATURE, Page, report_data


def test_page_has_every_section_and_only_inline_png_images():
    document, values = page(report_data(), "now")
    parsed = Page(document)
    assert parsed.sections == [key for key, _ in SECTIONS]
    assert parsed.titles == [title for _, title in SECTIONS]
    assert len(parsed.images) == 3  # scales, training, confusion
    for source in parsed.images:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix) and base64.b64decode(source[len(prefix) :]).startswith(
            PNG_SIGNATURE
        )
    assert values["accuracy"][names.NETWORK_A] == pytest.approx(
        np.mean(
            report_data().outputs.networks[names.NETWORK_A].prediction
            == report_data().outputs.labels
        )
    )
    assert "version <b>4</b>" in document and "3, 4" in document


def test_regression_report_has_no_confusion_matrix():
    document, values = page(report_data("regression"), "now")
    assert "confusion_matrices" not in values
    assert "Regression: no confusion matrix." in document and len(Page(document).images) == 2
