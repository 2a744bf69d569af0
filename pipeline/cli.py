"""Command-line options shared by every runner: they all build the same PipelineConfig."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Optional, Sequence, Tuple

from modules.hparams import LOSSES, NORMALIZATION_MODES, TASKS, WARM_START
from pipeline import config_file
from pipeline.beam import PROFILES, BeamConfig
from pipeline.config import (
    DEFAULT_OUTPUT,
    ON_ANOMALY,
    SMALL_DATA_ROWS,
    PipelineConfig,
    overrides,
    with_trainer,
)


class OneLineParser(argparse.ArgumentParser):
    """An option error is one line and exit 2, not the whole usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_pipeline_options(
    parser: argparse.ArgumentParser, output_folder: bool = True
) -> argparse.ArgumentParser:
    """Options every runner shares; `output_folder=False` for a runner whose `--output` means a file."""
    defaults = PipelineConfig()
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        help=f"CSV file or folder of CSV files (default: embedded penguins, {defaults.data})",
    )
    data.add_argument(
        "--label",
        help=f"label column, or several numeric ones comma-separated for multi-target "
        f"regression (default: {defaults.label})",
    )
    data.add_argument(
        "--features",
        type=_names,
        help="comma-separated feature columns (default: every other column)",
    )
    data.add_argument(
        "--inference-data",
        metavar="PATH",
        help="unlabelled CSV for batch inference after the Pusher; 'none' to skip "
        "(default: data/unlabelled/penguins.csv with the embedded data, else none)",
    )
    data.add_argument(
        "--schema",
        metavar="PATH",
        help="curated Schema text proto the data must satisfy; 'none' infers one from each run's "
        "data and keeps nothing (default: data/penguins.schema.pbtxt with the embedded data; "
        "for other data the schema kept by an earlier run, OUTPUT/schema/NAME/schema.pbtxt, else "
        "one inferred from this run's data and kept there)",
    )
    data.add_argument(
        "--reinfer-schema",
        action="store_true",
        default=None,
        help="infer the schema again from this run's data and overwrite the kept one",
    )
    data.add_argument(
        "--on-anomaly",
        choices=ON_ANOMALY,
        help="what ExampleValidator's anomalies do: fail the run before Transform, or warn and "
        "go on (default: fail)",
    )
    data.add_argument(
        "--drift",
        action="store_true",
        default=None,
        help="compare this run's statistics with the last blessed run's (DistributionValidator); "
        "a column beyond its bar stops the run before Transform, like an anomaly",
    )
    data.add_argument(
        "--max-drift-jsd",
        type=float,
        help="drift bar of numeric columns: approximate Jensen-Shannon divergence "
        f"(default: {defaults.max_drift_jsd})",
    )
    data.add_argument(
        "--max-drift-linf",
        type=float,
        help="drift bar of categorical columns: L-infinity distance of the value frequencies "
        f"(default: {defaults.max_drift_linf})",
    )
    data.add_argument(
        "--transform-statistics",
        action="store_true",
        default=None,
        help="let Transform also compute pre- and post-transform statistics and anomalies (TFDV)",
    )
    data.add_argument(
        "--split",
        type=_split,
        metavar="TRAIN:VALIDATION:EVAL",
        help="hash buckets of the three splits (default: 14:3:3 below "
        f"{SMALL_DATA_ROWS:,} rows, 16:2:2 from there)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--normalization",
        choices=NORMALIZATION_MODES,
        help="output normalization; auto: range for 3+ classes, population for a binary label "
        "or regression (default: auto)",
    )
    model.add_argument(
        "--population-shared",
        action="store_true",
        default=None,
        help="population mode: one set of statistics across both networks",
    )
    model.add_argument(
        "--loss",
        choices=LOSSES,
        help="training loss; auto: the mode's own for classification, mse for regression (default: auto)",
    )
    model.add_argument(
        "--task",
        choices=TASKS,
        help="auto: regression when every label value is a number and there are more than 20 "
        "distinct ones or any is fractional, else classification (default: auto)",
    )
    model.add_argument(
        "--train-steps",
        type=_positive,
        help="at most this many joint steps (default: from the data, "
        f"{defaults.trainer.max_epochs} epochs within [{defaults.trainer.min_steps}, "
        f"{defaults.trainer.max_steps}] steps)",
    )
    model.add_argument(
        "--patience",
        type=_non_negative,
        help="stop after this many validations without improvement, 0 never "
        f"(default: {defaults.trainer.patience})",
    )
    model.add_argument(
        "--eval-steps",
        type=_positive,
        help="batches per validation pass (default: the whole validation split)",
    )
    model.add_argument(
        "--batch-size", type=_positive, help=f"(default: {defaults.trainer.batch_size})"
    )
    model.add_argument(
        "--warm-start",
        choices=[choice for choice in WARM_START if choice],
        help="initialize network A, B or both from the latest blessed model's weights (TFX's "
        "base_model) and train jointly as usual (default: both from scratch)",
    )
    model.add_argument(
        "--tune",
        type=_positive,
        metavar="N",
        help="tune both networks' sizes and learning rates over N trials of the joint loop "
        "(TFX Tuner, KerasTuner random search) before the Trainer, which takes the best",
    )
    model.add_argument("--seed", type=int, help=f"(default: {defaults.trainer.seed})")
    model.add_argument(
        "--train-workers",
        type=_positive,
        help="training processes under MultiWorkerMirroredStrategy on this machine; the batch "
        "size stays global (default: 1)",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--config",
        metavar="FILE",
        help="YAML file holding any option (as --print-config writes it, each network's layers, "
        "activation, dropout and learning rate included); flags given beside it win",
    )
    run.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration as YAML and exit (nothing runs)",
    )
    if output_folder:
        run.add_argument(
            "--output",
            help=f"folder for pipeline root, metadata and serving models (default: ./{DEFAULT_OUTPUT})",
        )
    run.add_argument("--name", help=f"pipeline name (default: {defaults.name})")
    run.add_argument(
        "--min-skill",
        type=float,
        help="the default blessing bar for network A, network B and the combined prediction: the "
        "fraction in [0, 1) of the way from the best constant predictor on the eval rows to a "
        "perfect one (AUC >= 0.5 + F/2 for two classes, accuracy over the majority class for more, "
        f"R^2 >= F for regression; default: {defaults.min_skill})",
    )
    run.add_argument(
        "--min-accuracy",
        type=float,
        help="classification: an absolute accuracy bar in (0, 1] as well (default: none)",
    )
    run.add_argument(
        "--slice-by",
        type=_names,
        metavar="COLUMN[,COLUMN]",
        help="Evaluator metrics per value of each column too, for network A, network B and the "
        "combined model (report: 'Metrics per slice')",
    )
    run.add_argument(
        "--min-slice-accuracy",
        type=float,
        help="classification: an accuracy bar every slice of --slice-by must also meet "
        "(default: none)",
    )
    run.add_argument(
        "--max-mse",
        type=float,
        help="regression: an absolute MSE bar in the label's units as well (default: none)",
    )
    run.add_argument(
        "--max-mae",
        type=float,
        help="regression: an absolute MAE bar in the label's units as well (default: none)",
    )
    run.add_argument(
        "--serving-base",
        metavar="PATH",
        help="the serving root as TF Serving will see it, written into models.config: /models for "
        "`docker run -v SERVING_ROOT:/models tensorflow/serving` (default: this host's path)",
    )
    run.add_argument("--no-cache", action="store_true", help="re-run every component")
    beam = parser.add_argument_group(
        "Beam (ExampleGen, StatisticsGen, Transform, Evaluator, BulkInferrer)"
    )
    beam.add_argument(
        "--beam",
        choices=PROFILES,
        metavar="PROFILE",
        help=f"runner profile: {', '.join(PROFILES)} (default: local, or multiprocess with "
        "--beam-workers > 1)",
    )
    beam.add_argument(
        "--beam-workers", type=_positive, help="multiprocess: DirectRunner worker processes"
    )
    beam.add_argument(
        "--beam-master", metavar="URL", help="flink: JobManager host:port; spark: spark://host:port"
    )
    beam.add_argument("--gcp-project", help="dataflow: Google Cloud project")
    beam.add_argument("--gcp-region", help="dataflow: region, e.g. europe-west4")
    beam.add_argument(
        "--temp-location",
        metavar="GS_URI",
        help="dataflow: gs:// folder for staging and temp files",
    )
    beam.add_argument(
        "--sdk-container-image",
        metavar="IMAGE",
        help="flink, spark, dataflow: the image Beam workers run (built from kubeflow/Dockerfile)",
    )
    beam.add_argument(
        "--beam-arg",
        action="append",
        dest="beam_args",
        metavar="ARG",
        help="extra Beam pipeline argument, repeatable, written with '=': "
        "--beam-arg=--max_num_workers=8",
    )
    return parser


def beam_from_args(args: argparse.Namespace, base: BeamConfig) -> BeamConfig:
    profile = args.beam or ("multiprocess" if (args.beam_workers or 1) > 1 else None)
    return overrides(
        base,
        profile=profile,
        workers=args.beam_workers,
        master=args.beam_master,
        project=args.gcp_project,
        region=args.gcp_region,
        temp_location=args.temp_location,
        sdk_container_image=args.sdk_container_image,
        extra=tuple(args.beam_args) if args.beam_args else None,
    )


def config_from_args(
    args: argparse.Namespace, base: Optional[PipelineConfig] = None
) -> PipelineConfig:
    """PipelineConfig from parsed options, resolved against the data (fails fast on bad options)."""
    if base is None:
        base = config_file.read(args.config) if args.config else PipelineConfig()
    config = overrides(
        base,
        data=args.data,
        label=args.label,
        features=args.features,
        split_buckets=args.split,
        inference_data="" if args.inference_data == "none" else args.inference_data,
        schema="" if args.schema == "none" else args.schema,
        reinfer_schema=args.reinfer_schema,
        on_anomaly=args.on_anomaly,
        transform_statistics=args.transform_statistics,
        drift=args.drift,
        max_drift_jsd=args.max_drift_jsd,
        max_drift_linf=args.max_drift_linf,
        output_dir=getattr(args, "output", None),
        name=args.name,
        min_skill=args.min_skill,
        min_accuracy=args.min_accuracy,
        slice_by=args.slice_by,
        min_slice_accuracy=args.min_slice_accuracy,
        max_mse=args.max_mse,
        max_mae=args.max_mae,
        enable_cache=False if args.no_cache else None,
        tune_trials=args.tune,
        serving_base=getattr(args, "serving_base", None),
    )
    config = dataclasses.replace(config, beam=beam_from_args(args, config.beam))
    config = with_trainer(
        config,
        normalization=args.normalization,
        loss=args.loss,
        task=args.task,
        train_steps=args.train_steps,
        patience=args.patience,
        eval_steps=args.eval_steps,
        batch_size=args.batch_size,
        seed=args.seed,
        train_workers=args.train_workers,
        population_shared=args.population_shared,
        warm_start=args.warm_start,
    )
    return config.resolved()


def parse_args(
    parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]
) -> Tuple[argparse.Namespace, PipelineConfig]:
    """Parsed options and the resolved config; a bad option ends the process with a one-line error."""
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (ValueError, OSError) as error:
        parser.exit(2, f"{parser.prog}: error: {_message(error)}\n")
    if args.print_config:
        sys.stdout.write(config_file.to_yaml(config))
        parser.exit(0)
    return args, config


def parse(argv: Optional[Sequence[str]], description: str) -> PipelineConfig:
    return parse_args(add_pipeline_options(OneLineParser(description=description)), argv)[1]


def _message(error: Exception) -> str:
    """ValueErrors carry our own sentence; an OSError gets the file and the system's reason."""
    if isinstance(error, OSError) and error.strerror and not isinstance(error, FileNotFoundError):
        return f"{error.filename or ''}: {error.strerror}".lstrip(": ")
    return str(error)


def _names(text: str) -> tuple:
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return values


def _split(text: str) -> tuple:
    try:
        train, validation, evaluation = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected TRAIN:VALIDATION:EVAL bucket counts such as 8:1:1, got {text!r}"
        ) from None
    return train, validation, evaluation


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value
