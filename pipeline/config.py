"""The one configuration object of a run, and the paths and Beam arguments derived from it.

Penguin defaults live here and nowhere else; any CSV works by overriding `data` and `label`:
`resolved()` reads the label column and settles the task, the class count and the normalization.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import io
import json
import os
from typing import List, Optional, Tuple

from modules import modes, names, paths
from modules.hparams import TrainerConfig
from modules.options import non_negative, option
from pipeline.beam import BeamConfig
from pipeline.labels import numeric_columns, read_label
from pipeline.project import REPO_ROOT

DEFAULT_DATA = os.path.join(REPO_ROOT, "data", "penguins.csv")
DEFAULT_INFERENCE_DATA = os.path.join(REPO_ROOT, "data", "unlabelled", "penguins.csv")
# Curated, for DEFAULT_DATA.
DEFAULT_SCHEMA = os.path.join(REPO_ROOT, "data", "penguins.schema.pbtxt")
ON_ANOMALY = ("fail", "warn")
DEFAULT_LABEL = "species"
DEFAULT_OUTPUT = "tfx_runs"
SMALL_DATA_ROWS = 10_000
SMALL_DATA_SPLIT = (14, 3, 3)  # 70 / 15 / 15 %: a small file needs eval rows to measure on
LARGE_DATA_SPLIT = (16, 2, 2)  # 80 / 10 / 10 %


def parse_split(text: str) -> Tuple[int, ...]:
    """`--split 14:3:3`: hash buckets of train, validation and eval."""
    try:
        train, validation, evaluation = (int(v) for v in text.split(":"))
    except ValueError:
        raise ValueError(
            f"expected TRAIN:VALIDATION:EVAL bucket counts such as 8:1:1, got {text!r}"
        ) from None
    return train, validation, evaluation


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Every knob of the pipeline. Paths are derived at run time, never read at import."""

    name: str = option(paths.DEFAULT_PIPELINE_NAME, "pipeline name", "run")
    data: str = option(
        DEFAULT_DATA, "CSV file or folder of CSV files with one header", "data", metavar="PATH"
    )
    label: str = option(
        DEFAULT_LABEL,
        "label column, or several numeric ones comma-separated for multi-target regression",
        "data",
    )
    # Empty: every column but the label.
    features: Tuple[str, ...] = option(
        (), "comma-separated feature columns (default: every other column)", "data"
    )
    output: str = option(
        DEFAULT_OUTPUT, "folder for pipeline root, metadata and serving models", "run"
    )
    # train : validation : eval hash buckets; empty: SMALL_DATA_SPLIT below SMALL_DATA_ROWS rows,
    # else LARGE_DATA_SPLIT (resolved()). Nothing is fitted on eval, the Evaluator's split.
    split: Tuple[int, ...] = option(
        (),
        f"hash buckets of the three splits (default: 14:3:3 below {SMALL_DATA_ROWS:,} rows, 16:2:2 from there)",
        "data",
        parse=parse_split,
        metavar="TRAIN:VALIDATION:EVAL",
    )
    # Unlabelled CSV for batch inference; "" for none; None: the embedded one with the embedded data.
    inference_data: Optional[str] = option(
        None,
        "unlabelled CSV for batch inference after the Pusher; 'none' to skip "
        "(default: data/unlabelled/penguins.csv with the embedded data, else none)",
        "data",
        metavar="PATH",
        none_word=True,
    )
    # Curated schema the data is validated against; "" infers one (SchemaGen) every run; None: the
    # curated penguin schema with the embedded data, else the kept schema (`kept_schema`) when an
    # earlier run left one, else inferred and kept.
    schema: Optional[str] = option(
        None,
        "curated Schema text proto the data must satisfy; 'none' infers one from each run's data and "
        "keeps nothing (default: data/penguins.schema.pbtxt with the embedded data; for other data "
        "the schema kept by an earlier run, OUTPUT/schema/NAME/schema.pbtxt, else one inferred from "
        "this run's data and kept there)",
        "data",
        metavar="PATH",
        none_word=True,
    )
    # Where the DataGate writes the inferred schema once the data passes ("": keep none). Set by
    # resolved(); a config file that names it re-uses the kept file once it exists.
    kept_schema: str = ""
    reinfer_schema: bool = option(
        False, "infer the schema again from this run's data and overwrite the kept one", "data"
    )
    on_anomaly: str = option(
        "fail",
        "what ExampleValidator's anomalies do: fail the run before Transform, or warn and go on",
        "data",
        choices=ON_ANOMALY,
    )
    # Drift: this run's statistics against those of the last blessed run's data (TFX's
    # DistributionValidator); a column over its bar stops the run like an anomaly. Bars: approximate
    # Jensen-Shannon divergence for numeric columns, L-infinity distance for categorical ones.
    drift: bool = option(
        False,
        "compare this run's statistics with the last blessed run's (DistributionValidator); a "
        "column beyond its bar stops the run before Transform, like an anomaly",
        "data",
    )
    max_drift_jsd: float = option(
        0.1, "drift bar of numeric columns: approximate Jensen-Shannon divergence", "data"
    )
    max_drift_linf: float = option(
        0.1,
        "drift bar of categorical columns: L-infinity distance of the value frequencies",
        "data",
    )
    drift_numeric: Tuple[str, ...] = ()  # numeric columns among features and labels (resolved())
    # Transform's own TFDV statistics (pre-transform: a copy of StatisticsGen's; post-transform and
    # its anomalies: read by no component here). Off: computing them costs seconds per run.
    transform_statistics: bool = option(
        False,
        "let Transform also compute pre- and post-transform statistics and anomalies (TFDV)",
        "data",
    )
    trainer: TrainerConfig = TrainerConfig()
    # >0: a Tuner (KerasTuner random search, each trial the joint loop) tries that many sizes and
    # learning rates of both networks first; the Trainer takes the best trial's.
    tune: int = option(
        0,
        "tune both networks' sizes and learning rates over N trials of the joint loop (TFX Tuner, "
        "KerasTuner random search) before the Trainer, which takes the best",
        "model",
        parse=non_negative,
        metavar="N",
    )
    # Blessing bars, each applied to network A, network B and the combined prediction. The default
    # one is data-relative: skill over the best constant predictor on the eval rows (AUC for two
    # classes, accuracy over the majority class for more, R^2 for regression; modules/skill.py).
    min_skill: float = option(
        0.2,
        "the default blessing bar for network A, network B and the combined prediction: the "
        "fraction in [0, 1) of the way from the best constant predictor on the eval rows to a "
        "perfect one (AUC >= 0.5 + F/2 for two classes, accuracy over the majority class for more, "
        "R^2 >= F for regression)",
        "run",
    )
    # Absolute bars, off unless given: accuracy (classification); MSE and MAE in the label's units
    # (regression).
    min_accuracy: Optional[float] = option(
        None, "classification: an absolute accuracy bar in (0, 1] as well (default: none)", "run"
    )
    max_mse: Optional[float] = option(
        None, "regression: an absolute MSE bar in the label's units as well (default: none)", "run"
    )
    max_mae: Optional[float] = option(
        None, "regression: an absolute MAE bar in the label's units as well (default: none)", "run"
    )
    # Columns whose values slice the Evaluator's metrics (each column on its own), and an optional
    # accuracy bar every such slice must meet (classification).
    slice_by: Tuple[str, ...] = option(
        (),
        "Evaluator metrics per value of each column too, for network A, network B and the combined "
        "model (report: 'Metrics per slice')",
        "run",
        metavar="COLUMN[,COLUMN]",
    )
    min_slice_accuracy: Optional[float] = option(
        None,
        "classification: an accuracy bar every slice of --slice-by must also meet (default: none)",
        "run",
    )
    # How much lower than the blessed baseline's skill a candidate's may be (absolute): on the
    # penguins' 58 eval rows one more wrong row costs 0.03 skill, eval noise and not a worse model.
    max_regression: float = 0.05
    label_classes: int = 0  # classes of a classification label, set by resolved()
    compare_to_baseline: bool = True  # False: no Resolver node (open-source KFP cannot run one)
    # Why this run is not compared with the blessed model although compare_to_baseline asked for
    # it (set by the local runner: that model reads columns this data lacks); "" otherwise.
    baseline_note: str = ""
    keep_versions: int = 3  # served versions kept per model
    # The serving root as TF Serving sees it, written into models.config ("": this host's path;
    # "/models" for `docker run -v <serving root>:/models tensorflow/serving`).
    serving_base: str = option(
        "",
        "the serving root as TF Serving will see it, written into models.config: /models for "
        "`docker run -v SERVING_ROOT:/models tensorflow/serving` (default: this host's path)",
        "run",
        metavar="PATH",
    )
    beam: BeamConfig = BeamConfig()  # runner profile of every Beam-based component
    cache: bool = option(
        True, "re-use cached component outputs (--no-cache re-runs every component)", "run"
    )

    @property
    def label_columns(self) -> Tuple[str, ...]:
        """`label` is one column, or several comma-separated numeric ones (multi-target regression)."""
        return names.label_columns(self.label)

    @property
    def label_key(self) -> str:
        return names.label_key(self.label_columns)

    @property
    def data_dir(self) -> str:
        return self.data if _is_dir(self.data) else os.path.dirname(self.data) or "."

    @property
    def data_pattern(self) -> str:
        """File pattern relative to `data_dir`, as CsvExampleGen's input config wants it."""
        return "*.csv" if _is_dir(self.data) else os.path.basename(self.data)

    @property
    def inference_dir(self) -> str:
        return os.path.dirname(self.inference_data) or "."

    @property
    def outputs(self) -> paths.OutputLayout:
        return paths.OutputLayout(self.output, self.name)

    @property
    def pipeline_root(self) -> str:
        return self.outputs.pipeline_root

    @property
    def metadata_path(self) -> str:
        return self.outputs.metadata_path

    @property
    def serving_dir(self) -> str:
        return self.outputs.serving_root

    def beam_pipeline_args(self) -> List[str]:
        return self.beam.pipeline_args()

    def transform_config(self) -> dict:
        return {
            names.CONFIG_FEATURES: list(self.features),
            names.CONFIG_LABEL: self.label_key,
            names.CONFIG_LABEL_COLUMNS: list(self.label_columns),
            names.CONFIG_TASK: self.trainer.task,
        }

    def trainer_config(self) -> dict:
        """The Trainer's custom_config. Step counts travel only in TrainArgs/EvalArgs (TFX's own
        carriers, shown in the Trainer's execution properties), so they are left out here."""
        trainer = {
            key: value
            for key, value in self.trainer.to_dict().items()
            if key not in names.STEP_COUNTS
        }
        return {**self.transform_config(), names.CONFIG_TRAINER: trainer}

    def report_config(self) -> str:
        """The whole configuration as JSON, for the run report (which shows it and reads the
        serving root from it when nothing was pushed)."""
        return json.dumps(
            {**dataclasses.asdict(self), "serving_dir": self.serving_dir}, sort_keys=True
        )

    def resolved(self) -> "PipelineConfig":
        """Checks the data and fills `features` from the CSV header; fails before any component runs."""
        self.trainer.validate()
        beam = self.beam.resolved()
        beam.validate()
        self._check_bars()
        if self.serving_base and not (
            paths.is_uri(self.serving_base) or self.serving_base.startswith("/")
        ):
            raise ValueError(
                f"serving_base must be an absolute path or a URI as TF Serving sees it "
                f"(e.g. /models), got {self.serving_base!r}"
            )
        if (self.trainer.warm_start or self.drift) and not self.compare_to_baseline:
            raise ValueError(
                "warm_start and drift look up the latest blessed run, which needs the baseline "
                "resolver (compare_to_baseline)"
            )
        if self.tune < 0:
            raise ValueError(f"tune trials must be >= 0, got {self.tune}")
        if self.keep_versions < 1:
            raise ValueError(f"keep_versions must be >= 1, got {self.keep_versions}")
        if self.split and (len(self.split) != 3 or min(self.split) <= 0):
            raise ValueError(
                "split is three positive bucket counts (train, validation, eval), "
                f"got {list(self.split)}"
            )
        if self.on_anomaly not in ON_ANOMALY:
            raise ValueError(
                f"on_anomaly must be one of {', '.join(ON_ANOMALY)}, got {self.on_anomaly!r}"
            )
        columns = read_header(self.data)
        for label in self.label_columns:
            if label not in columns:
                raise ValueError(
                    f"label column {label!r} is not in {self.data} (columns: {', '.join(columns)})"
                )
        if len(self.label_columns) > 1 and names.TARGETS in columns:
            raise ValueError(
                f"several labels are stacked under the name {names.TARGETS!r}, which is also a column; "
                "rename that column"
            )
        trainer, label_classes, rows = self._label_settings()
        split = self.split or (SMALL_DATA_SPLIT if rows < SMALL_DATA_ROWS else LARGE_DATA_SPLIT)
        features = self.features or tuple(c for c in columns if c not in self.label_columns)
        unknown = [f for f in features if f not in columns]
        if unknown:
            raise ValueError(
                f"feature column(s) {', '.join(unknown)} not in {self.data} (columns: {', '.join(columns)})"
            )
        absent = [c for c in self.slice_by if c not in columns]
        if absent:
            raise ValueError(
                f"slice column(s) {', '.join(absent)} not in {self.data} (columns: {', '.join(columns)})"
            )
        if self.min_slice_accuracy is not None and not self.slice_by:
            raise ValueError("min_slice_accuracy needs slice_by (the columns to slice by)")
        if set(self.label_columns) & set(features):
            raise ValueError(f"label {self.label!r} cannot also be a feature")
        inference_data = self.inference_data
        if inference_data is None:
            inference_data = DEFAULT_INFERENCE_DATA if self.data == DEFAULT_DATA else ""
        if inference_data:
            absent = [f for f in features if f not in read_header(inference_data)]
            if absent:
                raise ValueError(
                    f"inference data {inference_data} lacks feature column(s) {', '.join(absent)}"
                )
        schema, kept_schema = self._schema_source()
        if schema:
            schema = paths.absolute(schema)
            _check_schema(schema, (*self.label_columns, *features))
        output = paths.absolute(self.output)
        drift_numeric = ()
        if self.drift:
            drift_numeric = tuple(
                numeric_columns(csv_files(self.data), (*features, *self.label_columns))
            )
        return dataclasses.replace(
            self,
            split=tuple(split),
            drift_numeric=drift_numeric,
            features=tuple(features),
            output=output,
            inference_data=inference_data,
            schema=schema,
            kept_schema=kept_schema,
            trainer=trainer,
            label_classes=label_classes,
            beam=beam,
        )

    def _schema_source(self) -> Tuple[str, str]:
        """(schema to import or "" to infer, path to keep the inferred one at or "")."""
        if self.reinfer_schema and self.schema:
            raise ValueError(
                "reinfer_schema infers a new schema in place of the kept one; it cannot be used "
                f"with a given schema ({self.schema})"
            )
        if self.schema is None and self.data == DEFAULT_DATA:
            return DEFAULT_SCHEMA, ""
        kept = self.kept_schema
        if self.schema is None:
            kept = paths.OutputLayout(paths.absolute(self.output), self.name).kept_schema
        elif self.schema:
            return self.schema, ""
        if kept and paths.exists(kept) and not self.reinfer_schema:
            return kept, ""
        return "", kept

    def _label_settings(self) -> Tuple[TrainerConfig, int, int]:
        """The trainer config with task, mode and loss settled by the label column, the number of
        classes (0 for regression) and the number of rows."""
        profiles = [read_label(csv_files(self.data), column) for column in self.label_columns]
        if len(profiles) > 1:  # several targets: regression, each column checked on its own
            if self.trainer.task == modes.CLASSIFICATION:
                raise ValueError(
                    f"several label columns ({self.label}) are regression targets; drop --task "
                    "classification or give one label"
                )
            task = modes.REGRESSION
        else:
            task = profiles[0].task() if self.trainer.task == modes.AUTO else self.trainer.task
        for profile in profiles:
            profile.check(task)
        n_outputs = len(profiles) if task == modes.REGRESSION else profiles[0].n_outputs(task)
        classes = n_outputs if task == modes.CLASSIFICATION else 0
        return self.trainer.resolved(task, n_outputs), classes, profiles[0].rows

    def _check_bars(self) -> None:
        for name in ("min_accuracy", "min_slice_accuracy"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ValueError(
                    f"{name} is a fraction in (0, 1], got {value} "
                    f"(for {value:g} %, pass {value / 100:g})"
                )
        if not 0.0 <= self.min_skill < 1.0:
            raise ValueError(
                f"min_skill is a fraction in [0, 1) of the way from the best constant predictor "
                f"to a perfect one, got {self.min_skill}"
            )
        for name in ("max_mse", "max_mae"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        for name in ("max_drift_jsd", "max_drift_linf"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.max_regression < 0:
            raise ValueError(f"max_regression must be >= 0, got {self.max_regression}")


def csv_files(path: str) -> List[str]:
    """The CSV file, or every *.csv file in the folder."""
    if not paths.exists(path):
        raise FileNotFoundError(f"data path {path} does not exist")
    files = paths.glob_files(os.path.join(path, "*.csv")) if _is_dir(path) else [path]
    if not files:
        raise FileNotFoundError(f"no *.csv file in {path}")
    return files


def read_header(path: str) -> List[str]:
    """Column names of a CSV file, or of the first CSV file in a folder (all must agree)."""
    files = csv_files(path)
    headers = {}
    for file in files:
        with paths.open_text(file) as handle:
            first = handle.readline()
            if not first.strip():
                raise ValueError(f"{file} is empty: expected a header line")
            if not any(line.strip() for line in handle):
                raise ValueError(f"{file} has a header but no data rows")
        header = next(csv.reader(io.StringIO(first)))
        _check_header(file, header)
        headers[file] = header
    reference = headers[files[0]]
    for file, header in headers.items():
        if header != reference:
            raise ValueError(f"{file} has columns {header}, but {files[0]} has {reference}")
    return reference


def _check_header(file: str, header: List[str]) -> None:
    """Refuses what spreadsheets, R and pandas exports put in a header that CsvExampleGen would
    take silently: a byte-order mark (read into the first column's name), an unnamed column (a
    pandas index written by `to_csv`), a name given twice (one column would shadow the other)."""
    if header and header[0].startswith("\ufeff"):
        raise ValueError(
            f"{file} starts with a UTF-8 byte-order mark (what a spreadsheet's 'CSV UTF-8' export "
            f"writes); the first column would be named {header[0]!r}: save it as plain CSV or "
            "strip the first 3 bytes"
        )
    unnamed = [i + 1 for i, name in enumerate(header) if not name.strip()]
    if unnamed:
        raise ValueError(
            f"{file}: column {unnamed[0]} of the header has no name (a pandas index written by "
            "to_csv? write it with index=False, or name the column)"
        )
    counts = collections.Counter(header)
    repeated = [f"{name!r} ({n} times)" for name, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(
            f"{file}: the header repeats column name(s) {', '.join(repeated)}; every column "
            "needs its own name"
        )


def _check_schema(path: str, columns: Tuple[str, ...]) -> None:
    """The schema file parses and describes every column the pipeline uses."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not paths.exists(path):
        raise FileNotFoundError(f"schema file {path} does not exist")
    try:
        with paths.open_text(path) as handle:
            schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    except text_format.ParseError as error:
        raise ValueError(f"schema file {path} is not a Schema text proto: {error}") from None
    absent = [c for c in columns if c not in {f.name for f in schema.feature}]
    if absent:
        raise ValueError(f"schema file {path} does not describe column(s) {', '.join(absent)}")


def _is_dir(path: str) -> bool:
    return paths.isdir(path)
