"""A PipelineConfig resolved against its data, before any component runs: the task, class count,
mode and loss from the label column, the features and split sizes from the CSV, which schema to
import or keep, and every bar and setting checked, so a bad option fails in one line."""

from __future__ import annotations

import dataclasses
from typing import List, Sequence, Tuple

from modules import columns, modes, paths
from modules.columns import ColumnSpec
from modules.hparams import TrainerConfig
from pipeline import column_choice, option_checks, prepared_data
from pipeline.config import (
    DEFAULT_DATA,
    DEFAULT_INFERENCE_DATA,
    DEFAULT_SCHEMA,
    LARGE_DATA_SPLIT,
    ROW_KEY,
    ROWS_NUMBERED,
    SMALL_DATA_ROWS,
    SMALL_DATA_SPLIT,
    PipelineConfig,
)
from pipeline.csv_reading import CsvForm
from pipeline.data_files import check_schema, csv_files, read_forms
from pipeline.labels import LabelProfile, numeric_columns


def resolve(config: PipelineConfig) -> PipelineConfig:
    """Checks the settings and the data, decides each column's kind from the CSV and settles
    every `auto`; fails in one line before any component runs."""
    config.trainer.validate()
    beam = config.beam.resolved()
    beam.validate()
    option_checks.check_bars(config)
    option_checks.check_settings(config)
    forms = read_forms(config.data)
    option_checks.check_labels(config, forms[0].header)
    data = prepared_data.profile(forms, config.label_columns)
    drop = config.on_missing_label == "drop"
    trainer, label_classes = _label_settings(config, data.labels, drop)
    option_checks.check_task_settings(config, trainer)
    rows = data.rows - (data.unlabelled if drop else 0)
    split = config.split or (SMALL_DATA_SPLIT if rows < SMALL_DATA_ROWS else LARGE_DATA_SPLIT)
    specs, features = _column_specs(config, data)
    option_checks.check_keys(config, features)
    inference_data = config.inference_data
    if inference_data is None:
        inference_data = DEFAULT_INFERENCE_DATA if config.data == DEFAULT_DATA else ""
    inference_forms = _check_inference_data(config, inference_data, features)
    schema, kept_schema = _schema_source(config)
    if schema:
        schema = paths.absolute(schema)
        check_schema(schema, (*config.label_columns, *features))
    output = paths.absolute(config.output)
    prepared_path, prepared_inference, notes = _prepared(
        dataclasses.replace(config, output=output, inference_data=inference_data),
        data,
        inference_forms,
    )
    drift_numeric = ()
    if config.drift:
        drift_numeric = tuple(
            numeric_columns(
                csv_files(prepared_path or config.data), (*features, *config.label_columns)
            )
        )
    return dataclasses.replace(
        config,
        split=tuple(split),
        drift_numeric=drift_numeric,
        features=features,
        column_specs=specs,
        prepared_data=prepared_path,
        prepared_inference_data=prepared_inference,
        row_key=ROW_KEY if inference_forms and not config.key_columns else "",
        unlabelled_rows=data.unlabelled if drop else 0,
        data_notes=notes,
        output=output,
        inference_data=inference_data,
        schema=schema,
        kept_schema=kept_schema,
        trainer=trainer,
        label_classes=label_classes,
        beam=beam,
    )


def _prepared(
    config: PipelineConfig, data: prepared_data.DataProfile, inference_forms: List[CsvForm]
) -> Tuple[str, str, Tuple[str, ...]]:
    """(the data CsvExampleGen reads, the inference data it reads, why each was copied): "" where
    a file is read in place."""
    folder = config.outputs.prepared_dir
    drop = config.on_missing_label == "drop"
    notes = prepared_data.copy_reasons(data, drop, paths.isdir(config.data))
    path = prepared_data.prepare(data, config.label_columns, drop, folder) if notes else ""
    inference_path = ""
    if inference_forms:
        inference = prepared_data.profile(inference_forms, ())
        copied = prepared_data.copy_reasons(inference, False, paths.isdir(config.inference_data))
        numbered = not config.key_columns and ROW_KEY not in inference.header
        if copied or numbered:
            number = ROW_KEY if numbered else ""
            inference_path = prepared_data.prepare(inference, (), False, folder, number)
        notes += [f"inference data: {note}" for note in copied]
        if numbered:
            notes.append(ROWS_NUMBERED)
    return path, inference_path, tuple(notes)


def _column_specs(
    config: PipelineConfig, data: prepared_data.DataProfile
) -> Tuple[Tuple[ColumnSpec, ...], Tuple[str, ...]]:
    """(the spec of every candidate column, ignored ones included; the feature columns)."""
    columns.check_kinds(config.columns)
    header = data.header
    candidates = config.features or tuple(
        c for c in header if c not in (*config.label_columns, *config.key_columns)
    )
    option_checks.check_columns(config, list(header), candidates)
    overrides = dict(config.columns)
    outside = [c for c in overrides if c in header and c not in candidates]
    if outside:
        raise ValueError(
            f"--columns sets the kind of {', '.join(map(repr, outside))}, which is not a feature "
            "(the label, a key column, or left out of --features)"
        )
    specs = column_choice.choose(data.samples, candidates, overrides, bool(config.features))
    features = tuple(spec.name for spec in columns.used(specs))
    if not features:
        raise ValueError(
            f"no feature column is left in {config.data}, every one is left out: "
            + "; ".join(f"{spec.name} ({spec.reason})" for spec in specs)
            + "; name them with --features or --columns NAME=KIND to keep them"
        )
    return specs, features


def _check_inference_data(
    config: PipelineConfig, inference_data: str, features: Tuple[str, ...]
) -> List[CsvForm]:
    """The inference data carries every feature and every key column; a key is never the label."""
    keys = config.key_columns
    if keys and not inference_data:
        raise ValueError("key_columns name columns of the inference data: give --inference-data")
    if config.explained_models and not inference_data:
        raise ValueError(
            f"--explain {config.explain} adds attributions to the batch predictions of the "
            "inference data: give --inference-data, or leave --explain out"
        )
    labels = [k for k in keys if k in config.label_columns]
    if labels:
        raise ValueError(f"key column(s) {', '.join(labels)} are the label")
    if not inference_data:
        return []
    forms = read_forms(inference_data)
    for kind, wanted in (("feature", features), ("key", keys)):
        absent = [c for c in wanted if c not in forms[0].header]
        if absent:
            raise ValueError(
                f"inference data {inference_data} lacks {kind} column(s) {', '.join(absent)}"
            )
    return forms


def _schema_source(config: PipelineConfig) -> Tuple[str, str]:
    """(schema to import or "" to infer, path to keep the inferred one at or "")."""
    if config.reinfer_schema and config.schema:
        raise ValueError(
            "reinfer_schema infers a new schema in place of the kept one; it cannot be used "
            f"with a given schema ({config.schema})"
        )
    if config.schema is None and config.data == DEFAULT_DATA:
        return DEFAULT_SCHEMA, ""
    kept = config.kept_schema
    if config.schema is None:
        kept = paths.OutputLayout(paths.absolute(config.output), config.name).kept_schema
    elif config.schema:
        return config.schema, ""
    if kept and paths.exists(kept) and not config.reinfer_schema:
        return kept, ""
    return "", kept


def _label_settings(
    config: PipelineConfig, profiles: Sequence[LabelProfile], drop_missing: bool
) -> Tuple[TrainerConfig, int]:
    """The trainer config with task, mode and loss settled by the label column, and the number of
    classes (0 for regression)."""
    if len(profiles) > 1:  # several targets: regression, each column checked on its own
        if config.trainer.task == modes.CLASSIFICATION:
            raise ValueError(
                f"several label columns ({config.label}) are regression targets; drop --task "
                "classification or give one label"
            )
        task = modes.REGRESSION
    else:
        task = profiles[0].task() if config.trainer.task == modes.AUTO else config.trainer.task
    for profile in profiles:
        profile.check(task, drop_missing)
    n_outputs = len(profiles) if task == modes.REGRESSION else profiles[0].n_outputs(task)
    classes = n_outputs if task == modes.CLASSIFICATION else 0
    return config.trainer.resolved(task, n_outputs), classes
