"""The run report's figures (matplotlib, drawn off-screen), each returned as a base64 PNG."""

from __future__ import annotations

import base64
import io
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from components.report.collect import Curve
from modules import names

COLORS = {names.NETWORK_A: "#1f77b4", names.NETWORK_B: "#d62728"}


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
