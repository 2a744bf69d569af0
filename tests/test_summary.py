"""The run summary's lines (pipeline/summary.py): the verdict, the metrics and the serve command."""

from pipeline.summary import RunSummary, serve_command


def summary(**changes) -> RunSummary:
    values = dict(
        blessed=True,
        pushed_to="/out/serving/twinnorm/combined/3",
        serving_root="/out/serving/twinnorm",
        metrics={"network_a": {"auc": 0.91234567, "example_count": 57.0}},
        executions={},
        report="/out/report.html",
        pushed_version=3,
    )
    return RunSummary(**{**values, **changes})


def test_the_verdict_names_the_pushed_version_or_why_nothing_was_pushed():
    assert summary().verdict() == "blessed, pushed version 3"
    assert summary(pushed_to=None).verdict() == "blessed"
    assert summary(blessed=False, pushed_to=None).verdict() == "NOT blessed, nothing pushed"
    assert summary(blessed=None).verdict() == "not evaluated"


def test_lines_give_failures_metrics_and_where_to_look():
    lines = summary(
        blessed=False, failed_thresholds=["network_a auc = 0.5, below the bar 0.9"]
    ).lines()
    assert lines[0] == "  failed: network_a auc = 0.5, below the bar 0.9"
    assert lines[1] == "  network_a: auc=0.912346, example_count=57"
    assert "serve: " + serve_command("/out/serving/twinnorm") in lines
    assert "run report: /out/report.html" in lines


def test_the_serve_command_mounts_the_serving_root_where_the_config_says_it_is():
    assert serve_command("/out/s") == (
        "tensorflow_model_server --port=8500 --rest_api_port=8501 "
        "--model_config_file=/out/s/models.config"
    )
    assert serve_command("/out/s", "/models") == (
        "docker run -p 8500:8500 -p 8501:8501 -v /out/s:/models "
        "tensorflow/serving --model_config_file=/models/models.config"
    )
