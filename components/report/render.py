"""Turns a `ReportData` into one self-contained HTML page (PNG figures inlined as data: URIs)
and a JSON file with the same numbers, for scripts and tests."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from components.report.collect import (
    Curve,
    SplitOutputs,
    confusion_matrix,
    summary_statistics,
)
from modules import names

BINS = 40
COLORS = {names.NETWORK_A: "#1f77b4", names.NETWORK_B: "#d62728"}
SECTIONS = (
    ("verdict", "Verdict"),
    ("config", "Run configuration"),
    ("data", "Data checks: schema and drift"),
    ("scales", "Output scales before and after normalization"),
    ("training", "Training curves"),
    ("metrics", "Evaluator metrics"),
    ("slices", "Metrics per slice"),
    ("baselines", "Against simple models"),
    ("calibration", "Calibration of the served probabilities"),
    ("confusion", "Confusion matrices"),
    ("versions", "Pushed and served versions"),
)


@dataclasses.dataclass
class ReportData:
    config: Dict[str, Any]  # the run's PipelineConfig, as given to the component
    outputs: SplitOutputs
    class_names: Tuple[str, ...]  # by class id; empty for regression
    curves: Dict[str, Dict[str, Curve]]  # train/eval -> tag -> [(step, value)]
    metrics: Dict[str, Dict[str, Dict[str, float]]]  # model -> output -> metric -> value
    thresholds_ok: bool
    threshold_failures: List[str]
    blessed: bool
    pushed: Dict[str, Any]  # pushed, version, serving_root
    served: Dict[str, List[int]]  # model -> versions in the serving root
    # Prediction -> T, ECE.
    calibration: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
    # Slice (`island=Biscoe`) -> output -> metric -> value, candidate model.
    slices: Dict[str, Dict[str, Dict[str, float]]] = dataclasses.field(default_factory=dict)
    # The DataGate's report lines and drift distances (collect.data_checks).
    data_checks: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # The Trainer's training.json: steps, epochs, why it stopped, trained sizes.
    training: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # Model (trivial, linear, both networks, combined) -> metric -> value on the report's split.
    baselines: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)


def calibration_on_split(outputs: SplitOutputs) -> Dict[str, Dict[str, float]]:
    """Per prediction, ECE (15 bins, top label) on the report's split of softmax(scores) (no
    calibration) and of the served probabilities: the split nothing was fitted on."""
    from modules.calibration import expected_calibration_error, softmax

    labels = outputs.labels.astype(np.int64)
    return {
        name: {
            "ece_before": expected_calibration_error(softmax(outputs.scores[name]), labels),
            "ece_after": expected_calibration_error(outputs.probabilities[name], labels),
        }
        for name in outputs.probabilities
    }


def histograms(outputs: SplitOutputs) -> Dict[str, Dict[str, Any]]:
    """raw / normalized -> shared bin edges and each network's counts (one set of bins per panel,
    so the two networks are compared on the same axis)."""
    result = {}
    for stage in ("raw", "normalized"):
        values = {n: getattr(o, stage).reshape(-1) for n, o in outputs.networks.items()}
        edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=BINS)
        result[stage] = {
            "edges": edges.tolist(),
            "counts": {n: np.histogram(v, bins=edges)[0].tolist() for n, v in values.items()},
        }
    return result


def numbers(data: ReportData) -> Dict[str, Any]:
    """Every figure the page shows, as JSON-ready values."""
    outputs = data.outputs
    stats = {
        n: {stage: summary_statistics(getattr(o, stage)) for stage in ("raw", "normalized")}
        for n, o in outputs.networks.items()
    }
    result = {
        "config": data.config,
        "split": outputs.split,
        "examples": int(outputs.labels.shape[0]),
        "statistics": stats,
        "histograms": histograms(outputs),
        "curves": data.curves,
        "metrics": data.metrics,
        "thresholds_ok": data.thresholds_ok,
        "threshold_failures": data.threshold_failures,
        "blessed": data.blessed,
        "pushed": data.pushed,
        "served_versions": data.served,
        "class_names": list(data.class_names),
        "calibration": data.calibration,
        "calibration_on_split": calibration_on_split(outputs),
        "training": data.training,
        "baselines": data.baselines,
        "slices": data.slices,
        "data_checks": data.data_checks,
    }
    if data.class_names:
        n = len(data.class_names)
        matrices = {
            name: confusion_matrix(outputs.labels, o.prediction, n)
            for name, o in outputs.networks.items()
        }
        matrices[names.COMBINED] = confusion_matrix(outputs.labels, outputs.combined, n)
        result["confusion_matrices"] = {k: m.tolist() for k, m in matrices.items()}
        result["accuracy"] = {k: float(np.trace(m) / m.sum()) for k, m in matrices.items()}
    return result


# -- figures -----------------------------------------------------------------------------------
def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display: the component runs in pipelines and containers
    import matplotlib.pyplot as plt

    return plt


def scales_figure(
    hist: Dict[str, Dict[str, Any]], stats: Dict[str, Dict[str, Dict[str, float]]], mode: str
) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for axis, stage in zip(axes, ("raw", "normalized"), strict=False):
        edges = np.asarray(hist[stage]["edges"])
        for network, counts in hist[stage]["counts"].items():
            s = stats[network][stage]
            axis.stairs(
                counts,
                edges,
                color=COLORS[network],
                linewidth=1.8,
                label=f"{network}: mean {s['mean']:.3g}, std {s['std']:.3g}",
            )
        title = (
            "raw outputs (before normalization)"
            if stage == "raw"
            else f"normalized outputs ({mode})"
        )
        axis.set(title=title, xlabel="output value", ylabel="count")
        axis.legend(fontsize=8)
    return _png(figure)


def training_figure(curves: Dict[str, Dict[str, Curve]]) -> Optional[str]:
    train = curves.get("train", {})
    if not train:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 3.6))
    for network in names.NETWORKS:
        points = train.get(names.scalar_tag("loss", network), [])
        if points:
            steps, values = zip(*points, strict=False)
            axis.plot(steps, values, marker="o", markersize=3, color=COLORS[network], label=network)
    axis.set(
        title="training loss per step (mean since the previous point)", xlabel="step", ylabel="loss"
    )
    if all(v > 0 for points in train.values() for _, v in points):
        axis.set_yscale("log")
    axis.legend()
    return _png(figure)


def confusion_figure(matrices: Dict[str, List[List[int]]], class_names: Sequence[str]) -> str:
    plt = _pyplot()
    shown = [*names.NETWORKS, names.COMBINED]
    figure, axes = plt.subplots(1, len(shown), figsize=(4.6 * len(shown), 4.2))
    for axis, name in zip(axes, shown, strict=False):
        matrix = np.asarray(matrices[name])
        axis.imshow(matrix, cmap="Blues")
        for (row, column), count in np.ndenumerate(matrix):
            axis.text(
                column,
                row,
                str(count),
                ha="center",
                va="center",
                color="white" if count > matrix.max() / 2 else "black",
            )
        ticks = range(len(class_names))
        axis.set_xticks(ticks, class_names, rotation=30)
        axis.set_yticks(ticks, class_names)
        axis.set(title=name, xlabel="predicted", ylabel="true")
    figure.tight_layout()
    return _png(figure)


# -- page --------------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{int(value):,}" if value.is_integer() else f"{value:.4f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _section(key: str, body: str) -> str:
    title = dict(SECTIONS)[key]
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{body}</section>'


def _config_section(
    config: Dict[str, Any], split: str, examples: int, training: Dict[str, Any]
) -> str:
    trainer = config.get("trainer", {})
    rows = [
        ("data", config.get("data")),
        ("label", config.get("label")),
        ("features", ", ".join(config.get("features", []))),
        ("task", trainer.get("task")),
        ("normalization", trainer.get("normalization")),
        ("loss", trainer.get("loss")),
        ("training", _training_summary(training)),
        ("batch size", trainer.get("batch_size")),
        ("seed", trainer.get("seed")),
        ("report split", f"{split} ({examples} examples)"),
    ]
    for network in names.NETWORKS:
        spec = trainer.get(network, {})
        hidden = training.get(f"{network}_hidden_units", spec.get("hidden_units", []))
        rows.append(
            (
                f"{network} architecture",
                f"hidden {list(hidden)}, {spec.get('activation')}, "
                f"dropout {spec.get('dropout')}, Adam lr {spec.get('learning_rate')}",
            )
        )
    everything = _table(("option", "value"), _flat(config))
    return (
        _table(("setting", "value"), rows)
        + f"<details><summary>Every option (as in the run's config.yaml)</summary>{everything}"
        "</details>"
    )


def _training_summary(training: Dict[str, Any]) -> str:
    if not training:
        return "(no training record)"
    epochs = f", {training['epochs']:g} epochs" if training.get("epochs") is not None else ""
    return (
        f"{training['steps']} steps of at most {training.get('max_steps')}{epochs}; "
        f"{training.get('stopped', '')}"
    )


def _flat(values: Dict[str, Any], prefix: str = "") -> List[Tuple[str, str]]:
    """Nested configuration -> (dotted key, readable value) rows."""
    rows: List[Tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        elif isinstance(value, (list, tuple)):
            rows.append((f"{prefix}{key}", ", ".join(map(str, value)) or "(none)"))
        else:
            rows.append((f"{prefix}{key}", "(none)" if value is None else str(value)))
    return rows


# The skill bar's figures first (modules/skill.py: skill over the best constant predictor on the
# eval rows, our AUC for two classes, the constant predictor's figure), then the absolute ones.
HEADLINE_METRICS = (
    names.SKILL,
    names.AUC,
    *(names.trivial_metric(m) for m in names.SKILL_MEASURES),
    *names.ABSOLUTE_METRICS,
)


def _verdict_section(data: ReportData) -> str:
    """Blessed or not, what was pushed, why not, and the headline metric of each model."""
    pushed = data.pushed
    if data.blessed:
        verdict = "Blessed" + (
            f": version <b>{pushed.get('version')}</b> of every model pushed"
            if pushed.get("pushed")
            else " (this model was already served; nothing new pushed)"
        )
    else:
        verdict = "<b>Not blessed</b>: nothing pushed, the served versions are unchanged"
    failures = "".join(f"<li>{html.escape(f)}</li>" for f in data.threshold_failures)
    candidate = data.metrics.get("candidate", {})
    headline = [
        (output, metric, values[metric])
        for output, values in sorted(candidate.items())
        for metric in HEADLINE_METRICS
        if metric in values
    ]
    return (
        f"<p style='font-size:1.3em'>{verdict}.</p>"
        + (f"<p>Failed thresholds:</p><ul>{failures}</ul>" if failures else "")
        + _table(("model", "metric", "value"), headline)
    )


def _scales_section(values: Dict[str, Any], mode: str) -> str:
    stats = values["statistics"]
    rows = [
        (n, stage, *stats[n][stage].values())
        for n in names.NETWORKS
        for stage in ("raw", "normalized")
    ]
    ratio = {
        stage: stats[names.NETWORK_A][stage]["std"]
        / max(stats[names.NETWORK_B][stage]["std"], 1e-12)
        for stage in ("raw", "normalized")
    }
    return (
        _image(
            scales_figure(values["histograms"], stats, mode),
            "histograms of raw and normalized outputs",
        )
        + f"<p>Spread ratio std(network_a) / std(network_b): raw <b>{ratio['raw']:.3f}</b>, "
        f"normalized <b>{ratio['normalized']:.3f}</b> (1.0 = same scale).</p>"
        + _table(("network", "stage", "mean", "std", "min", "p01", "p99", "max"), rows)
    )


def _training_section(curves: Dict[str, Dict[str, Curve]]) -> str:
    png = training_figure(curves)
    figure = (
        _image(png, "training loss per step") if png else "<p>No training scalars were logged.</p>"
    )
    final = [
        (tag, step, value)
        for tag, points in curves.get("eval", {}).items()
        for step, value in points[-1:]
    ]
    return (
        figure
        + "<h3>Trainer's own evaluation (end of training)</h3>"
        + _table(("metric", "step", "value"), final)
    )


def _metrics_section(data: ReportData) -> str:
    models = [m for m in ("candidate", "baseline", "diff") if m in data.metrics]
    rows = []
    for output in sorted(data.metrics.get("candidate", {})):
        for metric in sorted(data.metrics["candidate"][output]):
            rows.append(
                (output, metric, *(data.metrics[m].get(output, {}).get(metric, "") for m in models))
            )
    header = ("output", "metric", *("change vs baseline" if m == "diff" else m for m in models))
    verdict = (
        "every threshold held"
        if data.thresholds_ok
        else "thresholds failed:<ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in data.threshold_failures)
        + "</ul>"
    )
    note = data.config.get("baseline_note") or "no blessed baseline yet"
    baseline = (
        ""
        if "baseline" in data.metrics
        else f"<p>Not compared with a blessed model: {html.escape(note)}.</p>"
    )
    return (
        f"<p>Blessed: <b>{'yes' if data.blessed else 'no'}</b>; {verdict}</p>"
        + baseline
        + _table(header, rows)
    )


def _data_section(checks: Dict[str, Any]) -> str:
    """The DataGate's verdict, then per split and column the drift distance against its bar."""
    lines = "<br>".join(html.escape(line) for line in checks.get("report", []))
    rows = []
    for split, columns in sorted(checks.get("drift", {}).items()):
        for column, measured in sorted(columns.items()):
            for kind, value in measured.items():
                if not kind.endswith("_threshold"):
                    bar = measured.get(f"{kind}_threshold", "")
                    verdict = "over the bar" if bar != "" and value > bar else "within"
                    rows.append((split, column, kind.replace("_", " "), value, bar, verdict))
    drift = (
        _table(("split", "column", "distance", "measured", "bar", ""), rows)
        if rows
        else "<p>No drift comparison in this run (enable it with <code>--drift</code>; the "
        "first run has no blessed run to compare with).</p>"
    )
    return f"<p>{lines}</p>" + drift


def _slices_section(slices: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """One row per slice and output: example count and the gated metrics."""
    if not slices:
        return "<p>No slices: pass <code>--slice-by COLUMN</code> for metrics per value.</p>"
    metrics = [
        m
        for m in names.ABSOLUTE_METRICS
        if any(m in v for o in slices.values() for v in o.values())
    ]
    rows = []
    for name, outputs in slices.items():
        count = outputs.get("all", {}).get("example_count", "")
        for output, values in sorted(outputs.items()):
            if output != "all":
                rows.append(
                    (
                        name,
                        output,
                        int(count) if count != "" else "",
                        *(values.get(m, "") for m in metrics),
                    )
                )
    return _table(("slice", "output", "examples", *metrics), rows)


def _baselines_section(baselines: Dict[str, Dict[str, float]], split: str) -> str:
    if not baselines:
        return "<p>No comparison recorded.</p>"
    metrics = sorted({m for figures in baselines.values() for m in figures})
    described = {
        "trivial": "trivial: the train split's majority class or mean label",
        "linear": "linear: logistic regression or least squares on the same transformed train split",
    }
    rows = [
        (described.get(name, name), *(f"{figures.get(m, float('nan')):.4f}" for m in metrics))
        for name, figures in baselines.items()
    ]
    return (
        f"<p>On the {split} split, which none of these models was fitted on: the simple models a "
        "user would otherwise train, beside network A, network B and the combined model.</p>"
        + _table(("model", *metrics), rows)
    )


def _calibration_section(
    calibration: Dict[str, Dict[str, Any]], on_split: Dict[str, Dict[str, float]], split: str
) -> str:
    if not calibration:
        return "<p>No calibration record.</p>"
    if "temperature" not in next(iter(calibration.values())):

        def numbers(values) -> str:
            return ", ".join(f"{v:.4g}" for v in values)

        rows = [
            (
                name,
                numbers(c["slope"]),
                numbers(c["intercept"]),
                f"{c['mse_before']:.4g}",
                f"{c['mse_after']:.4g}",
                c["examples"],
            )
            for name, c in calibration.items()
        ]
        return (
            "<p>Served values are (slope x scores + intercept) mapped back to the label's units, "
            "the map fitted on the validation split after training; MSE in the label's units "
            "before and after, on those validation rows.</p>"
            + _table(
                ("prediction", "slope", "intercept", "MSE before", "MSE after", "validation rows"),
                rows,
            )
        )
    rows = []
    for name, c in calibration.items():
        measured = on_split.get(name, {})
        rows.append(
            (
                name,
                c.get("method", "temperature"),
                f"{c['temperature']:.4g}",
                ", ".join(f"{b:.3g}" for b in c.get("offset", [])) or "-",
                f"{c['ece_before']:.4f} / {c['ece_after']:.4f} ({c['examples']} rows)",
                f"{measured['ece_before']:.4f}" if measured else "-",
                f"{measured['ece_after']:.4f}" if measured else "-",
            )
        )
    return (
        "<p>Served probabilities are softmax(scores / T + b): no map (T = 1, b = 0), a "
        "temperature T, or T and a per-class offset b, whichever held-out validation rows prefer, "
        "fitted on the validation split after training. Expected calibration error (15 bins, "
        "top label) before (T = 1, b = 0) and "
        f"after: on the validation rows it was fitted on, and on the {split} split, which "
        "nothing was fitted on.</p>"
        + _table(
            (
                "prediction",
                "map",
                "temperature T",
                "offset b",
                "validation ECE before / after",
                f"{split} ECE before",
                f"{split} ECE after",
            ),
            rows,
        )
    )


def _confusion_section(values: Dict[str, Any], class_names: Sequence[str]) -> str:
    if "confusion_matrices" not in values:
        return "<p>Regression: no confusion matrix.</p>"
    accuracy = ", ".join(f"{k} {v:.4f}" for k, v in values["accuracy"].items())
    return (
        _image(confusion_figure(values["confusion_matrices"], class_names), "confusion matrices")
        + f"<p>Accuracy from these matrices: {html.escape(accuracy)}.</p>"
    )


def _versions_section(data: ReportData) -> str:
    pushed = data.pushed
    line = (
        f"This run pushed version <b>{pushed.get('version')}</b> of every model to "
        f"{html.escape(str(pushed.get('serving_root')))}."
        if pushed.get("pushed")
        else "This run pushed nothing (not blessed); the served versions below are unchanged."
    )
    rows = [(model, ", ".join(map(str, found)) or "none") for model, found in data.served.items()]
    return f"<p>{line}</p>" + _table(("served model", "versions in the serving root"), rows)


STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;
text-align:left;vertical-align:top}th{background:#f2f2f2}img{max-width:100%}section{margin-bottom:2em}
td{word-break:break-word;max-width:760px}"""


def page(data: ReportData, created: str) -> Tuple[str, Dict[str, Any]]:
    """The HTML page and the numbers it shows."""
    values = numbers(data)
    mode = data.config.get("trainer", {}).get("normalization", "")
    body = "".join(
        [
            _section("verdict", _verdict_section(data)),
            _section(
                "config",
                _config_section(data.config, data.outputs.split, values["examples"], data.training),
            ),
            _section("data", _data_section(data.data_checks)),
            _section("scales", _scales_section(values, mode)),
            _section("training", _training_section(data.curves)),
            _section("metrics", _metrics_section(data)),
            _section("slices", _slices_section(data.slices)),
            _section("baselines", _baselines_section(data.baselines, data.outputs.split)),
            _section(
                "calibration",
                _calibration_section(
                    data.calibration, values["calibration_on_split"], data.outputs.split
                ),
            ),
            _section("confusion", _confusion_section(values, data.class_names)),
            _section("versions", _versions_section(data)),
        ]
    )
    title = f"twinnorm run report: {data.config.get('name', '')} ({mode})"
    document = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Written {html.escape(created)}.</p>{body}</body></html>"
    )
    return document, values
