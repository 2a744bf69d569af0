"""The one configuration object of a run, and the paths and Beam arguments derived from it.

Penguin defaults live here and nowhere else; any CSV works by overriding `data` and `label`:
`pipeline.resolution.resolve` reads the label column and settles the task, the class count and the normalization.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional, Tuple

from modules import names, paths
from modules.columns import ColumnSpec, parse_kinds, used
from modules.hparams import TrainerConfig
from modules.options import non_negative, option
from pipeline.beam import BeamConfig
from pipeline.project import REPO_ROOT

DEFAULT_DATA = os.path.join(REPO_ROOT, "data", "penguins.csv")
DEFAULT_INFERENCE_DATA = os.path.join(REPO_ROOT, "data", "unlabelled", "penguins.csv")
# Curated, for DEFAULT_DATA.
DEFAULT_SCHEMA = os.path.join(REPO_ROOT, "data", "penguins.schema.pbtxt")
ON_ANOMALY = ("fail", "warn")
ON_MISSING_LABEL = ("drop", "fail")
EXPLAIN = {"none": (), "combined": (names.COMBINED,), "all": names.SERVED_MODELS}
DEFAULT_LABEL = "species"
DEFAULT_OUTPUT = "tfx_runs"
# Each prediction row's key without --key-columns: its row in the inference data (from 1, on across a
# folder's files in name order); and the note saying so, the copy a run reading in place can drop.
ROW_KEY = "row_number"
ROWS_NUMBERED = f"inference data: rows numbered in a first column {ROW_KEY}"
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
    features: Tuple[str, ...] = option(
        (), "comma-separated feature columns (default: every other column)", "data"
    )
    columns: Tuple[Tuple[str, str], ...] = option(
        (),
        "the kind of a column where the guess is wrong: numeric, categorical, boolean, text, date "
        "or ignore (e.g. 'zip code=categorical,notes=text'; YAML: a mapping); the console's first "
        "lines say what each column became and why",
        "data",
        parse=parse_kinds,
        metavar="COLUMN=KIND[,...]",
    )
    on_missing_label: str = option(
        "drop",
        "rows whose label is empty: set them aside (counted in the console and the report, never "
        "trained or evaluated on) or fail before any component runs",
        "data",
        choices=ON_MISSING_LABEL,
    )
    # Set by resolve(): each feature's kind, the folder or file CsvExampleGen reads (a plain copy
    # when the data cannot be read in place, pipeline/prepared_data.py), and what was set aside.
    column_specs: Tuple[ColumnSpec, ...] = ()
    prepared_data: str = ""
    prepared_inference_data: str = ""
    unlabelled_rows: int = 0
    data_notes: Tuple[str, ...] = ()
    row_key: str = ""  # ROW_KEY when the inference data's rows are numbered (no key_columns)
    output: str = option(
        DEFAULT_OUTPUT, "folder for pipeline root, metadata and serving models", "run"
    )
    # train : validation : eval hash buckets; empty: SMALL_DATA_SPLIT below SMALL_DATA_ROWS rows,
    # else LARGE_DATA_SPLIT (resolve()). Nothing is fitted on eval, the Evaluator's split.
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
        "unlabelled CSV file or folder of CSV files for batch inference after the Pusher; "
        "'none' to skip (default: data/unlabelled/penguins.csv with the embedded data, else none)",
        "data",
        metavar="PATH",
        none_word=True,
    )
    key_columns: Tuple[str, ...] = option(
        (),
        "comma-separated columns of the inference data written beside each row's predictions "
        f"(e.g. an id); never used as features (default: {ROW_KEY}, the row's number in the "
        "inference data)",
        "data",
    )
    explain: str = option(
        "none",
        "add each feature column's attribution to the batch predictions (integrated gradients, "
        "the models' explain signature): for the combined model, or for all three models",
        "data",
        choices=tuple(EXPLAIN),
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
    # resolve(); a config file that names it re-uses the kept file once it exists.
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
    drift_numeric: Tuple[str, ...] = ()  # numeric columns among features and labels (resolve())
    # Transform's own TFDV statistics (pre-transform: a copy of StatisticsGen's; post-transform and
    # its anomalies: read by no component here). Off: computing them costs seconds per run.
    transform_statistics: bool = option(
        False,
        "let Transform also compute pre- and post-transform statistics and anomalies (TFDV)",
        "data",
    )
    trainer: TrainerConfig = TrainerConfig()
    tune: int = option(
        0,
        "tune both networks' sizes and learning rates over N trials of the joint loop (TFX Tuner, "
        "KerasTuner random search) before the Trainer, which takes the best",
        "model",
        parse=non_negative,
        metavar="N",
    )
    # Blessing bars, each applied to network A, network B and the combined prediction; the
    # default ones are data-relative (modules/skill.py).
    max_p_value: float = option(
        0.01,
        "the default blessing bar: network A, network B and the combined prediction each beat the "
        "best constant predictor on the eval rows by more than chance at the eval split's size, a "
        "one-sided test's p-value below P (AUC: Mann-Whitney; accuracy: binomial over the "
        "majority share; regression: correlation with the label)",
        "run",
        metavar="P",
    )
    min_skill: float = option(
        0.0,
        "and each at least the fraction F in [0, 1) of the way from that constant predictor to a "
        "perfect one (AUC >= 0.5 + F/2 for two classes, accuracy over the majority class for more, "
        "R^2 >= F for regression)",
        "run",
    )
    min_accuracy: Optional[float] = option(
        None, "classification: an absolute accuracy bar in (0, 1] as well (default: none)", "run"
    )
    max_mse: Optional[float] = option(
        None, "regression: an absolute MSE bar in the label's units as well (default: none)", "run"
    )
    max_mae: Optional[float] = option(
        None, "regression: an absolute MAE bar in the label's units as well (default: none)", "run"
    )
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
    label_classes: int = 0  # classes of a classification label, set by resolve()
    compare_to_baseline: bool = True  # False: no Resolver node (open-source KFP cannot run one)
    # Why this run is not compared with the blessed model although compare_to_baseline asked for
    # it (set by the local runner: that model reads columns this data lacks); "" otherwise.
    baseline_note: str = ""
    keep_versions: int = 3  # served versions kept per model
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
    def feature_specs(self) -> Tuple[ColumnSpec, ...]:
        """The specs of the feature columns, in `features` order (the ignored ones left out)."""
        return tuple(used(self.column_specs))

    @property
    def prediction_keys(self) -> Tuple[str, ...]:
        """The columns copied beside each prediction, so every row joins back to its input."""
        return self.key_columns or ((self.row_key,) if self.row_key else ())

    @property
    def explained_models(self) -> Tuple[str, ...]:
        """The models whose attributions the batch predictions carry (--explain)."""
        return EXPLAIN[self.explain]

    @property
    def label_key(self) -> str:
        return names.label_key(self.label_columns)

    @property
    def data_dir(self) -> str:
        """CsvExampleGen's input_base: the prepared copy's folder, the data folder or the file's."""
        return _input_base(self.prepared_data or self.data)

    @property
    def data_pattern(self) -> str:
        """File pattern relative to `data_dir`, as CsvExampleGen's input config wants it."""
        return _input_pattern(self.prepared_data or self.data)

    @property
    def inference_dir(self) -> str:
        """InferenceExampleGen's input_base."""
        return _input_base(self.prepared_inference_data or self.inference_data)

    @property
    def inference_pattern(self) -> str:
        """InferenceExampleGen's file pattern in `inference_dir`."""
        return _input_pattern(self.prepared_inference_data or self.inference_data)

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


def _input_base(path: str) -> str:
    return path if paths.isdir(path) else os.path.dirname(path) or "."


def _input_pattern(path: str) -> str:
    """Every file of a folder read in place is plain CSV (else it was copied into one file)."""
    return "*.csv" if paths.isdir(path) else os.path.basename(path)
