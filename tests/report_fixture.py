"""A ReportData of made-up numbers for the report's section tests, and an HTML reader of the
page those sections make."""

import html.parser

import numpy as np

from components.report import collect
from components.report.numbers import ReportData
from modules import names
from modules.hparams import TrainerConfig

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(html.parser.HTMLParser):
    """Section ids, h2 titles and img sources of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.sections, self.titles, self.images, self._in_h2 = [], [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "img":
            self.images.append(attrs["src"])
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.titles.append(data)
            self._in_h2 = False


def report_data(task: str = "classification") -> ReportData:
    """A report's data for six examples, three outputs per network: network_b's raw scale is 10x network_a's."""
    rng = np.random.default_rng(0)
    raw_a = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 2, 0, 1, 2])
    outputs = {}
    for network, raw in ((names.NETWORK_A, raw_a), (names.NETWORK_B, 10 * raw_a)):
        low, high = raw.min(axis=1, keepdims=True), raw.max(axis=1, keepdims=True)
        normalized = (raw - low) / (high - low)
        prediction = normalized.argmax(axis=1) if task == "classification" else normalized[:, 0]
        outputs[network] = collect.NetworkOutputs(raw, normalized, prediction)
    split = collect.SplitOutputs("eval", labels, outputs, outputs[names.NETWORK_A].prediction)
    curves = {
        "train": {names.scalar_tag("loss", n): [(50, 0.5), (100, 0.25)] for n in names.NETWORKS},
        names.EXPORTED_RUN: {names.scalar_tag("loss", n): [(100, 0.3)] for n in names.NETWORKS},
    }
    metrics = {"candidate": {n: {"sparse_categorical_accuracy": 0.5} for n in names.NETWORKS}}
    config = {
        "name": "tiny",
        "data": "tiny.csv",
        "label": "y",
        "features": ["x"],
        "trainer": {**TrainerConfig().to_dict(), "task": task},
    }
    return ReportData(
        config,
        split,
        ("a", "b", "c") if task == "classification" else (),
        curves,
        metrics,
        True,
        [],
        True,
        {"pushed": True, "version": 4, "serving_root": "/srv"},
        {m: [3, 4] for m in names.SERVED_MODELS},
    )
