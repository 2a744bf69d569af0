"""The checks of a PipelineConfig's options against each other, the data's header and the
resolved task: each refuses in one line naming the option and why, before any component runs,
so nothing a user gave is dropped in silence or fails after the run."""

from __future__ import annotations

import re
from typing import List, Sequence

from modules import modes, names, paths
from modules.hparams import TrainerConfig
from pipeline.config import ON_ANOMALY, PipelineConfig

PIPELINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_settings(config: PipelineConfig) -> None:
    """Settings that need no data: the name, the serving base, what needs the baseline, counts,
    choices."""
    if not PIPELINE_NAME.fullmatch(config.name) or ".." in config.name:
        raise ValueError(
            f"--name {config.name!r}: a pipeline name is letters, digits, '_', '-' and '.' "
            "(starting with a letter or digit, no '..'); it names folders under --output and the "
            "served models"
        )
    if config.serving_base and not (
        paths.is_uri(config.serving_base) or config.serving_base.startswith("/")
    ):
        raise ValueError(
            f"serving_base must be an absolute path or a URI as TF Serving sees it "
            f"(e.g. /models), got {config.serving_base!r}"
        )
    if (config.trainer.warm_start or config.drift) and not config.compare_to_baseline:
        raise ValueError(
            "warm_start and drift look up the latest blessed run, which needs the baseline "
            "resolver (compare_to_baseline)"
        )
    if config.tune < 0:
        raise ValueError(f"tune trials must be >= 0, got {config.tune}")
    if config.keep_versions < 1:
        raise ValueError(f"keep_versions must be >= 1, got {config.keep_versions}")
    if config.split and (len(config.split) != 3 or min(config.split) <= 0):
        raise ValueError(
            "split is three positive bucket counts (train, validation, eval), "
            f"got {list(config.split)}"
        )
    if config.on_anomaly not in ON_ANOMALY:
        raise ValueError(
            f"on_anomaly must be one of {', '.join(ON_ANOMALY)}, got {config.on_anomaly!r}"
        )


def check_labels(config: PipelineConfig, columns: Sequence[str]) -> None:
    """Every label column is among the CSV's columns."""
    for label in config.label_columns:
        if label not in columns:
            raise ValueError(
                f"label column {label!r} is not in {config.data} (columns: {', '.join(columns)})"
            )
    if len(config.label_columns) > 1 and names.TARGETS in columns:
        raise ValueError(
            f"several labels are stacked under the name {names.TARGETS!r}, which is also a column; "
            "rename that column"
        )


def check_columns(config: PipelineConfig, columns: List[str], features: Sequence[str]) -> None:
    """Features and slice columns exist, and no label is also a feature."""
    listed = ", ".join(columns)
    unknown = [f for f in features if f not in columns]
    if unknown:
        raise ValueError(
            f"feature column(s) {', '.join(unknown)} not in {config.data} (columns: {listed})"
        )
    absent = [c for c in config.slice_by if c not in columns]
    if absent:
        raise ValueError(
            f"slice column(s) {', '.join(absent)} not in {config.data} (columns: {listed})"
        )
    if config.min_slice_accuracy is not None and not config.slice_by:
        raise ValueError("min_slice_accuracy needs slice_by (the columns to slice by)")
    if set(config.label_columns) & set(features):
        raise ValueError(f"label {config.label!r} cannot also be a feature")


# Bars and settings that only one task reads: the other task would drop them without a word.
TASK_BARS = {
    "min_accuracy": modes.CLASSIFICATION,
    "min_slice_accuracy": modes.CLASSIFICATION,
    "max_mse": modes.REGRESSION,
    "max_mae": modes.REGRESSION,
}


def check_task_settings(config: PipelineConfig, trainer: TrainerConfig) -> None:
    """Every bar and setting given applies to the resolved task and mode, else the run is refused
    naming the option (nothing given is ever dropped in silence)."""
    for name, task in TASK_BARS.items():
        if getattr(config, name) is not None and trainer.task != task:
            raise ValueError(
                f"--{name.replace('_', '-')} is a {task} bar, and label {config.label!r} is "
                f"{trainer.task}: it would never be applied; drop it"
                + ("" if trainer.task != modes.REGRESSION else " (or pass --task classification)")
            )
    if trainer.population_shared and trainer.normalization != "population":
        raise ValueError(
            f"--population-shared sets the statistics of normalization 'population', and this run "
            f"normalizes with {trainer.normalization!r}: pass --normalization population or drop it"
        )


def check_bars(config: PipelineConfig) -> None:
    for name in ("min_accuracy", "min_slice_accuracy"):
        value = getattr(config, name)
        if value is not None and not 0.0 < value <= 1.0:
            raise ValueError(
                f"{name} is a fraction in (0, 1], got {value} "
                f"(for {value:g} %, pass {value / 100:g})"
            )
    if not 0.0 <= config.min_skill < 1.0:
        raise ValueError(
            f"min_skill is a fraction in [0, 1) of the way from the best constant predictor "
            f"to a perfect one, got {config.min_skill}"
        )
    if not 0.0 < config.max_p_value < 1.0:
        raise ValueError(
            f"max_p_value is a p-value in (0, 1) (0.01: beaten by chance once in 100), "
            f"got {config.max_p_value}"
        )
    for name in ("max_mse", "max_mae"):
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    for name in ("max_drift_jsd", "max_drift_linf"):
        if not getattr(config, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(config, name)}")
    if config.max_regression < 0:
        raise ValueError(f"max_regression must be >= 0, got {config.max_regression}")


def check_keys(config: PipelineConfig, features: Sequence[str]) -> None:
    """A key column is copied beside each prediction and never read by the model."""
    keys_as_features = [k for k in config.key_columns if k in features]
    if keys_as_features:
        raise ValueError(
            f"--key-columns {', '.join(keys_as_features)} is also a feature: a key is copied "
            "beside each prediction and never read by the model; leave it out of --features"
        )
