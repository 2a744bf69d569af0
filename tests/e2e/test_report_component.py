"""The run report component (components/report/component.py) on the default run: its numbers
agree with the pushed model, the Evaluator and the Trainer, and the page renders in Chromium."""

import collections
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components.report import collect
from components.report.component import JSON_FILE
from components.report.render import SECTIONS
from modules import names
from modules.hparams import TrainerConfig
from pipeline.config import DEFAULT_DATA, PipelineConfig
from pipeline.resolution import resolve
from tests.tf1_subprocess import run_tf1_session

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


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
def test_tensorboard_overlays_train_and_exported_and_shows_output_histograms(penguin_run):
    tags = {}
    for phase in ("train", names.EXPORTED_RUN):
        pattern = os.path.join(penguin_run.first_summary.model_run, phase, "events.out.tfevents.*")
        tags[phase] = {
            value.tag
            for path in tf.io.gfile.glob(pattern)
            for event in tf.compat.v1.train.summary_iterator(path)
            for value in event.summary.value
        }
    for network in names.NETWORKS:
        loss = names.scalar_tag("loss", network)
        assert loss in tags["train"] and loss in tags[names.EXPORTED_RUN], (
            tags
        )  # one chart, two runs
        for kind in ("outputs_raw", "outputs_normalized"):
            assert names.scalar_tag(kind, network) in tags[names.EXPORTED_RUN], tags


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
def test_the_reports_attributions_are_what_the_pushed_models_serve_for_the_same_rows(
    penguin_run, report, tmp_path
):
    """Issue 36's no-skew check: every pushed model's explain signature, in a TF1 session as TF
    Serving runs it, on the eval rows the report shows, returns the report's numbers (1e-5)."""
    from components.pusher import versions

    _, values = report
    record, examples = values["explanations"], penguin_run.eval_examples()
    assert record["split"] == "eval" and record["rows"] == len(examples)
    assert len(record["columns"]) == 7 and len(record["examples"]) == 4
    root = penguin_run.first_summary.serving_root
    for model in names.SERVED_MODELS:
        folder = os.path.join(root, model, str(versions(os.path.join(root, model))[-1]))
        rows = [e["index"] for e in record["examples"]]
        served = run_tf1_session(
            folder,
            names.EXPLAIN,
            {names.EXAMPLES_INPUT: np.array([examples[i] for i in rows])},
            str(tmp_path),
        )
        assert [c.decode() for c in served[names.ATTRIBUTED_COLUMNS]] == record["columns"]
        for j, example in enumerate(record["examples"]):
            mine = example["models"][model]
            np.testing.assert_allclose(
                mine["attributions"], served[names.ATTRIBUTIONS][j], atol=1e-5, err_msg=model
            )
            assert abs(mine["prediction"] - served[names.PREDICTION][j]) < 1e-5
        assert max(record["importance"][model]) > 0


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
        (final,) = values["curves"][names.EXPORTED_RUN][names.scalar_tag("accuracy", network)]
        # train and eval share the tag, so TensorBoard overlays the two loss curves
        assert names.scalar_tag("loss", network) in values["curves"][names.EXPORTED_RUN]
        assert final == [
            record["steps"],
            pytest.approx(record[f"{names.EXPORTED_RUN}_{network}_accuracy"], abs=1e-6),
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


@pytest.mark.slow
def test_the_penguin_report_compares_with_the_simple_models(penguin_run):
    import json
    import os

    from components.report.component import JSON_FILE

    with open(os.path.join(os.path.dirname(penguin_run.first_summary.report), JSON_FILE)) as f:
        values = json.load(f)
    figures = values["baselines"]
    assert set(figures) == {"trivial", "linear", *names.NETWORKS, names.COMBINED}

    def species(split):
        examples = [tf.train.Example.FromString(r) for r in penguin_run.split_examples(split)]
        return [e.features.feature["species"].bytes_list.value[0].decode() for e in examples]

    majority = collections.Counter(species(names.TRAIN_SPLIT)).most_common(1)[0][0]
    evaluation = species(names.EVAL_SPLIT)
    assert figures["trivial"]["accuracy"] == pytest.approx(
        evaluation.count(majority) / len(evaluation)
    )
    for name in (*names.NETWORKS, names.COMBINED):
        assert figures[name]["accuracy"] == pytest.approx(values["accuracy"][name])
    assert figures["linear"]["accuracy"] > 0.9
