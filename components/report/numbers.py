"""The numbers the run report shows, from what collect.py read: output statistics and histograms,
calibration measured on the report's split, confusion matrices and accuracies (also report.json)."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple

import numpy as np

from components.report.collect import Curve, SplitOutputs, confusion_matrix, summary_statistics
from modules import names

BINS = 40


@dataclasses.dataclass
class ReportData:
    config: Dict[str, Any]  # the run's PipelineConfig, as given to the component
    outputs: SplitOutputs
    class_names: Tuple[str, ...]  # by class id; empty for regression
    curves: Dict[str, Dict[str, Curve]]  # train/exported -> tag -> [(step, value)]
    metrics: Dict[str, Dict[str, Dict[str, float]]]  # model -> output -> metric -> value
    thresholds_ok: bool
    threshold_failures: List[str]
    blessed: bool
    pushed: Dict[str, Any]  # pushed, version, serving_root
    served: Dict[str, List[int]]  # model -> versions in the serving root
    # Prediction -> T, ECE.
    calibration: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
    # The combination weights and each candidate's validation loss (modules/combination.py).
    combination: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # Slice (`island=Biscoe`) -> output -> metric -> value, candidate model.
    slices: Dict[str, Dict[str, Dict[str, float]]] = dataclasses.field(default_factory=dict)
    # The DataGate's report lines and drift distances (collect.data_checks).
    data_checks: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # The Trainer's training.json: steps, epochs, why it stopped, trained sizes.
    training: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # Model (trivial, linear, both networks, combined) -> metric -> value on the report's split.
    baselines: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
    # Each model's attributions on the report's split (explanations.Explanations, as a dict).
    explanations: Dict[str, Any] = dataclasses.field(default_factory=dict)


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
        "combination": data.combination,
        "calibration_on_split": calibration_on_split(outputs),
        "training": data.training,
        "baselines": data.baselines,
        "slices": data.slices,
        "data_checks": data.data_checks,
        "explanations": data.explanations,
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
