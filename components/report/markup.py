"""The HTML pieces every section of the run report is built from, and the page's sections."""

from __future__ import annotations

import html
from typing import Any, Sequence

SECTIONS = (
    ("verdict", "Verdict"),
    ("config", "Run configuration"),
    ("columns", "Columns: what each became, and why"),
    ("data", "Data checks: schema and drift"),
    ("scales", "Output scales before and after normalization"),
    ("training", "Training curves"),
    ("metrics", "Evaluator metrics"),
    ("slices", "Metrics per slice"),
    ("baselines", "Against simple models"),
    ("combination", "How the combined prediction weighs the two networks"),
    ("explanations", "What each model relies on"),
    ("calibration", "Calibration of the served probabilities"),
    ("confusion", "Confusion matrices"),
    ("versions", "Pushed and served versions"),
)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{int(value):,}" if value.is_integer() else f"{value:.4f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(png: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def section(key: str, body: str) -> str:
    title = dict(SECTIONS)[key]
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{body}</section>'


STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;
text-align:left;vertical-align:top}th{background:#f2f2f2}img{max-width:100%}section{margin-bottom:2em}
td{word-break:break-word;max-width:760px}"""
