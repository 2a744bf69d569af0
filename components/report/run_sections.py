"""The report's sections about the run: verdict, configuration, data checks, versions."""

from __future__ import annotations

import html
from typing import Any, Dict, List, Tuple

from components.report.markup import table
from components.report.numbers import ReportData
from modules import names
from modules.columns import specs_of
from modules.kinds.describe import describe


def config_section(
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
        ("training", training_summary(training)),
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
                f"{trainer.get('members', 1)} members x hidden {list(hidden)}, "
                f"{spec.get('activation')}, "
                f"dropout {spec.get('dropout')}, Adam lr {spec.get('learning_rate')}",
            )
        )
    everything = table(("option", "value"), _flat(config))
    return (
        table(("setting", "value"), rows)
        + f"<details><summary>Every option (as in the run's config.yaml)</summary>{everything}"
        "</details>"
    )


def columns_section(config: Dict[str, Any]) -> str:
    """Each candidate column's kind and why (decided before any component ran), the copy
    ExampleGen read and the rows set aside."""
    specs = specs_of(config.get("column_specs", []))
    rows = [describe(spec).split(": ", 1) for spec in specs]
    notes = (
        [f"Copied into plain CSV: {'; '.join(config['data_notes'])}."]
        if config.get("data_notes")
        else []
    )
    if config.get("unlabelled_rows"):
        notes.append(
            f"{config['unlabelled_rows']} row(s) with an empty label were set aside: never "
            "trained or evaluated on."
        )
    return table(("column", "kind (why) - what the model reads"), rows) + "".join(
        f"<p>{html.escape(note)}</p>" for note in notes
    )


def training_summary(training: Dict[str, Any]) -> str:
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


def verdict_section(data: ReportData) -> str:
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
        + table(("model", "metric", "value"), headline)
    )


def data_section(checks: Dict[str, Any]) -> str:
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
        table(("split", "column", "distance", "measured", "bar", ""), rows)
        if rows
        else "<p>No drift comparison in this run (enable it with <code>--drift</code>; the "
        "first run has no blessed run to compare with).</p>"
    )
    return f"<p>{lines}</p>" + drift


def versions_section(data: ReportData) -> str:
    pushed = data.pushed
    line = (
        f"This run pushed version <b>{pushed.get('version')}</b> of every model to "
        f"{html.escape(str(pushed.get('serving_root')))}."
        if pushed.get("pushed")
        else "This run pushed nothing (not blessed); the served versions below are unchanged."
    )
    rows = [(model, ", ".join(map(str, found)) or "none") for model, found in data.served.items()]
    return f"<p>{line}</p>" + table(("served model", "versions in the serving root"), rows)
