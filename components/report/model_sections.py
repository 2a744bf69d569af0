"""The report's sections about the models: output scales, training curves, metrics, slices,
simple baselines, calibration and confusion matrices."""

from __future__ import annotations

import html
from typing import Any, Dict, Sequence

from components.report import figures
from components.report.collect import Curve
from components.report.markup import image, table
from components.report.numbers import ReportData
from modules import names


def scales_section(values: Dict[str, Any], mode: str) -> str:
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
        image(
            figures.scales_figure(values["histograms"], stats, mode),
            "histograms of raw and normalized outputs",
        )
        + f"<p>Spread ratio std(network_a) / std(network_b): raw <b>{ratio['raw']:.3f}</b>, "
        f"normalized <b>{ratio['normalized']:.3f}</b> (1.0 = same scale).</p>"
        + table(("network", "stage", "mean", "std", "min", "p01", "p99", "max"), rows)
    )


def training_section(curves: Dict[str, Dict[str, Curve]]) -> str:
    png = figures.training_figure(curves)
    figure = (
        image(png, "training loss per step") if png else "<p>No training scalars were logged.</p>"
    )
    final = [
        (tag, step, value)
        for tag, points in curves.get(names.EXPORTED_RUN, {}).items()
        for step, value in points[-1:]
    ]
    return (
        figure
        + "<h3>The exported weights on the validation sample (end of training)</h3>"
        + table(("metric", "step", "value"), final)
    )


def metrics_section(data: ReportData) -> str:
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
        + table(header, rows)
    )


def slices_section(slices: Dict[str, Dict[str, Dict[str, float]]]) -> str:
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
    return table(("slice", "output", "examples", *metrics), rows)


def baselines_section(baselines: Dict[str, Dict[str, float]], split: str) -> str:
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
        + table(("model", *metrics), rows)
    )


def combination_section(record: Dict[str, Any]) -> str:
    """The fitted weights and why: each candidate's loss on the validation rows it was fitted on."""
    if not record:
        return "<p>No combination record.</p>"
    loss = record["validation_loss"]
    weights = ", ".join(f"{w:.2f}" for w in sorted(set(record["weights"])))
    rows = [
        (candidate, weight, f"{loss[key]:.5f}")
        for candidate, weight, key in (
            ("network A alone", "1.00", names.NETWORK_A),
            ("network B alone", "0.00", names.NETWORK_B),
            ("the average", "0.50", "equal"),
            ("fitted (served)", weights, "fitted"),
        )
    ]
    return (
        "<p>The combined prediction serves w &times; network A's scores + (1 - w) &times; "
        "network B's, w chosen on a grid of 21 values from 0 to 1 by the validation loss each "
        f"has once its calibration map is fitted ({html.escape(record['criterion'])}, "
        f"{record['examples']:,} validation rows; a weight per target for regression).</p>"
        + table(("candidate", "weight on network A", "validation loss"), rows)
    )


def calibration_section(
    calibration: Dict[str, Dict[str, Any]], on_split: Dict[str, Dict[str, float]], split: str
) -> str:
    if not calibration:
        return "<p>No calibration record.</p>"
    if "temperature" not in next(iter(calibration.values())):
        return _regression_calibration(calibration)
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
        "<p>Served probabilities are softmax((scores @ W) / T + b): no map (T = 1, b = 0, W = I), "
        "a temperature T, T and a per-class offset b, or a matrix W with offsets b (T = 1), "
        "whichever held-out validation rows prefer, fitted on the validation split after "
        "training (the matrix is in calibration.json). Expected calibration error (15 bins, "
        "top label) before (no map) and "
        f"after: on the validation rows it was fitted on, and on the {split} split, which "
        "nothing was fitted on.</p>"
        + table(
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


def _regression_calibration(calibration: Dict[str, Dict[str, Any]]) -> str:
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
        + table(
            ("prediction", "slope", "intercept", "MSE before", "MSE after", "validation rows"),
            rows,
        )
    )


def confusion_section(values: Dict[str, Any], class_names: Sequence[str]) -> str:
    if "confusion_matrices" not in values:
        return "<p>Regression: no confusion matrix.</p>"
    accuracy = ", ".join(f"{k} {v:.4f}" for k, v in values["accuracy"].items())
    return (
        image(
            figures.confusion_figure(values["confusion_matrices"], class_names),
            "confusion matrices",
        )
        + f"<p>Accuracy from these matrices: {html.escape(accuracy)}.</p>"
    )


SHOWN_COLUMNS, EXAMPLE_COLUMNS = 30, 8
MODEL_TITLES = {
    names.COMBINED: "combined",
    names.NETWORK_A: "network A",
    names.NETWORK_B: "network B",
}


def explanations_section(record: Dict[str, Any]) -> str:
    """Each model's mean |attribution| per column, where the networks disagree, example rows."""
    if not record:
        return "<p>No explanations recorded.</p>"
    models = list(record["importance"])
    columns, disagreement = record["columns"], record["disagreement"]
    order = sorted(range(len(columns)), key=lambda j: -record["importance"][models[0]][j])
    rows = [
        (columns[j], *(record["importance"][m][j] for m in models), disagreement[j])
        for j in order[:SHOWN_COLUMNS]
    ]
    most = sorted(range(len(columns)), key=lambda j: -disagreement[j])[:3]
    hidden = len(columns) - len(rows)
    return (
        f"<p>Integrated gradients of each served model (its <code>explain</code> signature, the "
        f"graph TF Serving answers with) on the first {record['rows']:,} rows of the "
        f"{html.escape(record['split'])} split, which nothing was fitted on. An attribution is in "
        "the units of what the model predicts: the probability of its predicted class, or the "
        "label's (first) target; a row's attributions sum to its prediction less the prediction "
        "at the baseline, the mean train input. Importance: the mean |attribution|; "
        "disagreement: the mean |network A's - network B's| on the same rows.</p>"
        + table(
            ("column", *(f"{MODEL_TITLES[m]} importance" for m in models), "A vs B disagreement"),
            rows,
        )
        + (f"<p>{hidden:,} more columns matter less to the combined model.</p>" if hidden else "")
        + "<p>The networks disagree most on: "
        + ", ".join(f"{html.escape(columns[j])} ({disagreement[j]:.4f})" for j in most)
        + ". The rows where their attributions differ most:</p>"
        + "".join(_example_row(example, columns, models) for example in record["examples"])
    )


def _example_row(example: Dict[str, Any], columns: Sequence[str], models: Sequence[str]) -> str:
    """One row's values and each model's attributions of its most attributed columns."""
    explained = example["models"]
    size = [max(abs(explained[m]["attributions"][j]) for m in models) for j in range(len(columns))]
    shown = sorted(range(len(columns)), key=lambda j: -size[j])[:EXAMPLE_COLUMNS]
    predictions = "; ".join(
        f"{MODEL_TITLES[m]} {explained[m]['prediction']:.4g} "
        f"(baseline {explained[m]['baseline_prediction']:.4g})"
        for m in models
    )
    rows = [
        (
            columns[j],
            example["values"][columns[j]],
            *(explained[m]["attributions"][j] for m in models),
        )
        for j in shown
    ]
    return f"<p>Row {example['index']:,} of the split: {html.escape(predictions)}.</p>" + table(
        ("column", "value", *(MODEL_TITLES[m] for m in models)), rows
    )
