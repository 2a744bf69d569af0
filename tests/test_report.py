"""The run report: its numbers come from the run's artifacts, and the page renders in Chromium."""

import base64
import html.parser
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components.report import collect
from components.report.component import JSON_FILE
from components.report.render import SECTIONS, ReportData, numbers, page
from modules import names
from modules.hparams import TrainerConfig
from pipeline.config import DEFAULT_DATA, PipelineConfig
from pipeline.resolution import resolve
from tests.pipeline_runs import run_tf1_session

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
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


def tiny_data(task: str = "classification") -> ReportData:
    """Six examples, three outputs per network: network_b's raw scale is 10x network_a's."""
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
        "eval": {names.scalar_tag("loss", n): [(100, 0.3)] for n in names.NETWORKS},
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


def test_confusion_matrix_counts_each_true_and_predicted_pair():
    matrix = collect.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_histograms_share_bins_per_stage_and_count_every_output():
    values = numbers(tiny_data())
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


def test_page_has_every_section_and_only_inline_png_images():
    document, values = page(tiny_data(), "now")
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
            tiny_data().outputs.networks[names.NETWORK_A].prediction == tiny_data().outputs.labels
        )
    )
    assert "version <b>4</b>" in document and "3, 4" in document


def test_regression_report_has_no_confusion_matrix():
    document, values = page(tiny_data("regression"), "now")
    assert "confusion_matrices" not in values
    assert "Regression: no confusion matrix." in document and len(Page(document).images) == 2


def test_training_curves_keep_the_value_written_last_for_a_step_logged_twice(tmp_path):
    """A Trainer killed after step 100 and resumed from its step-50 checkpoint logs step 100 again."""
    for values in ({50: 1.0, 100: 0.5}, {100: 0.4, 150: 0.3}):
        writer = tf.summary.create_file_writer(str(tmp_path / "train"))
        with writer.as_default():
            for step, value in values.items():
                tf.summary.scalar("loss/network_a", value, step=step)
                tf.summary.histogram("outputs_raw/network_a", [1.0, 2.0, 3.0], step=step)
        writer.close()
    curves = collect.training_curves(str(tmp_path))
    assert curves["train"]["loss/network_a"] == [
        (50, 1.0),
        (100, pytest.approx(0.4)),
        (150, pytest.approx(0.3)),
    ]
    assert curves["eval"] == {}


# -- the default run's report ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(penguin_run):
    path = penguin_run.first_summary.report
    with open(os.path.join(os.path.dirname(path), JSON_FILE)) as handle:
        return path, json.load(handle)


@pytest.mark.slow
def test_local_runner_prints_the_report_path(penguin_run, report):
    path, _ = report
    assert f"run report: {path}" in penguin_run.stdout[0].splitlines()
    assert os.path.isfile(path)


@pytest.mark.slow
def test_tensorboard_overlays_train_and_eval_and_shows_output_histograms(penguin_run):
    tags = {}
    for phase in ("train", "eval"):
        pattern = os.path.join(penguin_run.first_summary.model_run, phase, "events.out.tfevents.*")
        tags[phase] = {
            value.tag
            for path in tf.io.gfile.glob(pattern)
            for event in tf.compat.v1.train.summary_iterator(path)
            for value in event.summary.value
        }
    for network in names.NETWORKS:
        loss = names.scalar_tag("loss", network)
        assert loss in tags["train"] and loss in tags["eval"], tags  # one chart, two runs
        for kind in ("outputs_raw", "outputs_normalized"):
            assert names.scalar_tag(kind, network) in tags["eval"], tags


@pytest.mark.slow
def test_report_statistics_match_the_published_model_on_the_eval_rows(
    penguin_run, report, tmp_path
):
    """Recomputed independently: the pushed model, in a TF1 session, on ExampleGen's eval split."""
    _, values = report
    examples = penguin_run.eval_examples()
    outputs = run_tf1_session(
        penguin_run.first_summary.pushed_to,
        names.SERVING_DEFAULT,
        {names.EXAMPLES_INPUT: examples},
        str(tmp_path),
    )
    assert values["examples"] == len(examples)
    for network in names.NETWORKS:
        for stage, kind in (("raw", names.RAW), ("normalized", names.SCORES)):
            expected = collect.summary_statistics(outputs[names.output_key(network, kind)])
            assert values["statistics"][network][stage] == pytest.approx(
                expected, rel=1e-5, abs=1e-6
            )
            assert (
                sum(values["histograms"][stage]["counts"][network])
                == outputs[names.output_key(network, kind)].size
            )


@pytest.mark.slow
def test_report_metrics_agree_with_the_evaluator_and_the_trainer(penguin_run, report):
    _, values = report
    tfma = penguin_run.first_summary.metrics
    config = resolve(PipelineConfig()).trainer  # what the CLI resolved: classification, range, mse
    assert (
        values["config"]["data"] == DEFAULT_DATA
        and TrainerConfig.from_dict(values["config"]["trainer"]) == config
    )
    vocabulary = tft.TFTransformOutput(
        penguin_run.artifact_dir("Transform", "transform_graph")
    ).vocabulary_by_name(names.vocabulary_name(values["config"]["label"]))
    assert values["class_names"] == [v.decode() for v in vocabulary]
    for network in names.NETWORKS:
        accuracy = tfma[network]["sparse_categorical_accuracy"]
        assert values["accuracy"][network] == pytest.approx(
            accuracy, abs=1e-6
        )  # confusion matrix vs TFMA
        assert values["metrics"]["candidate"][network]["sparse_categorical_accuracy"] == accuracy
        record = values["training"]
        steps = [step for step, _ in values["curves"]["train"][names.scalar_tag("loss", network)]]
        logged = list(range(config.log_every, record["steps"] + 1, config.log_every))
        assert steps == logged + ([record["steps"]] if record["steps"] % config.log_every else [])
        # The final validation of the exported weights (the validation split, not eval).
        (final,) = values["curves"]["eval"][names.scalar_tag("accuracy", network)]
        # train and eval share the tag, so TensorBoard overlays the two loss curves
        assert names.scalar_tag("loss", network) in values["curves"]["eval"]
        assert final == [
            record["steps"],
            pytest.approx(record[f"eval_{network}_accuracy"], abs=1e-6),
        ]
    assert values["accuracy"][names.COMBINED] == pytest.approx(
        tfma[names.COMBINED]["sparse_categorical_accuracy"], abs=1e-6
    )
    assert "baseline" not in values["metrics"]  # the first run has no blessed baseline
    assert values["blessed"] and values["thresholds_ok"]
    assert values["pushed"] == {
        "pushed": True,
        "version": 1,
        "serving_root": penguin_run.serving_root,
    }
    assert values["served_versions"] == {m: [1] for m in names.SERVED_MODELS}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(
            f"{CHROMIUM} or {CHROMEDRIVER} missing: Debian's chromium and chromium-driver are not "
            "installed (make test installs them with apt-get where it can)"
        )
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_report_renders_in_headless_chromium_with_every_section_and_image(
    report, browser, tmp_path
):
    import matplotlib.image

    path, _ = report
    browser.get(f"file://{path}")
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('section > h2'), h => h.textContent)"
    )
    assert titles == [title for _, title in SECTIONS]
    images = browser.execute_script(
        "return Array.from(document.images, i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) == 3, images
    assert all(
        complete and width > 300 and height > 200 for _, complete, width, height in images
    ), images
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert all(name.startswith("data:") for name in fetched), (
        fetched
    )  # self-contained: nothing fetched
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    pixels = matplotlib.image.imread(str(screenshot))
    assert (
        pixels.shape[0] >= height and pixels[..., :3].std() > 0.05
    )  # a page with content, not a blank one


def test_calibration_section_shows_each_predictions_map_and_what_it_changed():
    data = tiny_data()
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
    data = tiny_data("regression")
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
