"""The report's charts (components/report/figures.py): PNG images, none for what a run lacks."""

import base64

from components.report.figures import confusion_figure, training_figure
from modules import names
from tests.report_fixture import PNG_SIGNATURE


def test_the_confusion_chart_is_a_png_of_every_model():
    matrices = {name: [[3, 1], [0, 4]] for name in (*names.NETWORKS, names.COMBINED)}
    png = base64.b64decode(confusion_figure(matrices, ["no", "yes"]))
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000


def test_no_training_chart_without_training_curves():
    assert training_figure({}) is None
    curves = {
        "train": {names.scalar_tag("loss", n): [(50, 0.5), (100, -0.1)] for n in names.NETWORKS}
    }
    assert base64.b64decode(training_figure(curves)).startswith(PNG_SIGNATURE)
