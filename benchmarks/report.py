"""The benchmark table (Markdown, as README carries it) and chart (PNG)."""

from __future__ import annotations

from typing import List, Sequence

from benchmarks.common import Comparison, machine_line

RESULTS_NAME = "benchmarks/results/latest.json"


def _figure(value: float, unit: str) -> str:
    if unit == "FLOP/s":
        return f"{value / 1e9:,.1f} GFLOP/s"
    if unit in ("s", "ms", "GiB"):
        return f"{value:,.3g} {unit}" if value < 10 else f"{value:,.1f} {unit}"
    return f"{value:,.0f} {unit}"


def table(comparisons: Sequence[Comparison]) -> str:
    lines = [
        "| group | comparison | ours | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        met = "-" if c.met is None else ("yes" if c.met else "**no**")
        lines.append(
            f"| {c.group} | {c.name} | {c.ours.label}: {_figure(c.ours.value, c.ours.unit)} | "
            f"{c.baseline.label}: {_figure(c.baseline.value, c.baseline.unit)} | {c.ratio:.2f} | "
            f"{c.target or '-'} | {met} |"
        )
    return "\n".join(lines)


def chart(comparisons: Sequence[Comparison], path: str, title: str) -> None:
    """One bar per comparison: ratio ours / baseline on a log axis, its target as a black tick.
    Green: target met, red: missed, grey: no target."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: List[Comparison] = list(comparisons)[::-1]
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.6))
    colors = ["#9e9e9e" if c.met is None else ("#2e7d32" if c.met else "#c62828") for c in rows]
    y = range(len(rows))
    # Bars grow from 1.0 (parity) towards the ratio, so a ratio below 1 points left.
    ax.barh(list(y), [c.ratio - 1.0 for c in rows], left=1.0, color=colors, height=0.7)
    for i, c in enumerate(rows):
        if c.target:
            bound = float(c.target.split()[1])
            ax.plot([bound, bound], [i - 0.42, i + 0.42], color="black", linewidth=2)
        right = c.ratio >= 1.0
        ax.text(
            c.ratio,
            i,
            f" {c.ratio:.2f} " if right else f"{c.ratio:.2f} ",
            va="center",
            fontsize=7,
            ha="left" if right else "right",
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks([0.1, 0.2, 0.5, 1, 2, 5, 10])
    low = min([c.ratio for c in rows] + [float(c.target.split()[1]) for c in rows if c.target])
    high = max([c.ratio for c in rows] + [float(c.target.split()[1]) for c in rows if c.target])
    ax.set_xlim(low / 1.3, high * 1.3)
    ax.axvline(1.0, color="black", linewidth=0.6, linestyle=":")
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"[{c.group}] {c.name}" for c in rows], fontsize=7)
    ax.set_xlabel(
        "ratio ours / baseline (log scale; black tick: target; "
        "higher is better for /s, lower for s, ms, GiB)",
        fontsize=8,
    )
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def component_table(details: dict) -> str:
    """Per-component seconds (median over runs) of both pipelines, from ML Metadata."""
    seconds = details.get("pipeline", {}).get("component_seconds", {})
    if not seconds:
        return ""
    sides = list(seconds)
    components = sorted(
        {c for side in sides for c in seconds[side]},
        key=lambda c: -max(seconds[s].get(c, 0.0) for s in sides),
    )
    lines = ["| component | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides)]
    for component in components:
        cells = [
            f"{seconds[s][component]:.1f} s" if component in seconds[s] else "-" for s in sides
        ]
        lines.append(f"| {component} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _heading(payload: dict) -> str:
    m = payload["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    command = "python -m benchmarks.run" + (" --quick" if payload["quick"] else "")
    if payload.get("groups"):
        command += " --only " + " ".join(payload["groups"])
    commit = f", commit {payload['commit']}" if payload.get("commit") else ""
    return f"Measured {payload['date']} on {machine_line(m)} ({versions}) by `{command}`{commit}"


def summary_section(payload: dict) -> str:
    """README's digest: how many targets held, the pipeline comparison and every missed target."""
    comparisons = [Comparison.from_dict(c) for c in payload["comparisons"]]
    targeted = [c for c in comparisons if c.target]
    shown = [c for c in targeted if c.group == "pipeline" or not c.met]
    met = sum(1 for c in targeted if c.met)
    return (
        f"{_heading(payload)}: {met} of {len(targeted)} targets met; the pipeline comparison and "
        "every missed target:\n\n" + table(shown)
    )


def full_section(payload: dict) -> str:
    """docs/benchmarks.md's record of one run: every comparison, then each component's time."""
    comparisons = [Comparison.from_dict(c) for c in payload["comparisons"]]
    parts = [_heading(payload) + ":", table(comparisons)]
    components = component_table(payload["details"])
    if components:
        parts += [
            "Per component (from the run's ML Metadata: execution create to last update):",
            components,
        ]
    return "\n\n".join(parts)


def main() -> None:
    """Prints the Markdown tables of a `run.py` JSON file (what README carries)."""
    import json
    import sys

    with open(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/latest.json") as handle:
        report = json.load(handle)
    m = report["machine"]
    print(f"{report['date']}, {m['cores']} cores ({m['cpu']}), {m['memory_gib']:g} GiB\n")
    print(table([Comparison.from_dict(c) for c in report["comparisons"]]))
    extra = component_table(report["details"])
    if extra:
        print("\n" + extra)


if __name__ == "__main__":
    main()
