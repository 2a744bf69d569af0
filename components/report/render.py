"""Turns a `ReportData` into one self-contained HTML page (PNG figures inlined as data: URIs)
and a JSON file with the same numbers, for scripts and tests."""

from __future__ import annotations

import html
from typing import Any, Dict, Tuple

from components.report import model_sections as model
from components.report import run_sections as run
from components.report.markup import SECTIONS, STYLE, section
from components.report.numbers import ReportData, numbers

__all__ = ["SECTIONS", "ReportData", "numbers", "page"]


def page(data: ReportData, created: str) -> Tuple[str, Dict[str, Any]]:
    """The HTML page and the numbers it shows."""
    values = numbers(data)
    mode = data.config.get("trainer", {}).get("normalization", "")
    body = "".join(
        [
            section("verdict", run.verdict_section(data)),
            section(
                "config",
                run.config_section(
                    data.config, data.outputs.split, values["examples"], data.training
                ),
            ),
            section("columns", run.columns_section(data.config)),
            section("data", run.data_section(data.data_checks)),
            section("scales", model.scales_section(values, mode)),
            section("training", model.training_section(data.curves)),
            section("metrics", model.metrics_section(data)),
            section("slices", model.slices_section(data.slices)),
            section("baselines", model.baselines_section(data.baselines, data.outputs.split)),
            section("combination", model.combination_section(data.combination)),
            section("explanations", model.explanations_section(data.explanations)),
            section(
                "calibration",
                model.calibration_section(
                    data.calibration, values["calibration_on_split"], data.outputs.split
                ),
            ),
            section("confusion", model.confusion_section(values, data.class_names)),
            section("versions", run.versions_section(data)),
        ]
    )
    title = f"twinnorm run report: {data.config.get('name', '')} ({mode})"
    document = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Written {html.escape(created)}.</p>{body}</body></html>"
    )
    return document, values
