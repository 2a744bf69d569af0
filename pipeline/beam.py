"""Beam runner profiles: the one place Beam pipeline arguments are built.

Which profile needs which options, and when to use it: docs/pipeline.md (Beam profiles).

The SDK container image is the pipeline image (kubeflow/Dockerfile): the Beam workers of TFX's
components must import this project's modules (preprocessing_fn and the normalization layers).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Tuple

from modules.options import flag_of, option, positive

PROFILES = ("local", "multiprocess", "portable", "flink", "spark", "dataflow")

# profile -> fields the profile cannot run without (each set by `--beam-<field>`).
REQUIRED: Dict[str, Tuple[str, ...]] = {
    "local": (),
    "multiprocess": (),
    "portable": (),
    "flink": ("master", "sdk_container_image"),
    "spark": ("master", "sdk_container_image"),
    "dataflow": ("project", "region", "temp_location", "sdk_container_image"),
}


def flag(field: str) -> str:
    """The command-line flag of a BeamConfig field."""
    return flag_of(("beam", field))


@dataclasses.dataclass(frozen=True)
class BeamConfig:
    """How every Beam-based component (ExampleGen, StatisticsGen, Transform, Evaluator, ...) runs."""

    profile: str = option(
        "local",
        f"runner profile: {', '.join(PROFILES)} (default: local, or multiprocess with --beam-workers > 1)",
        "beam",
        choices=PROFILES,
        metavar="PROFILE",
    )
    workers: int = option(1, "multiprocess: DirectRunner worker processes", "beam", parse=positive)
    master: str = option(
        "", "flink: JobManager host:port; spark: spark://host:port", "beam", metavar="URL"
    )
    project: str = option("", "dataflow: Google Cloud project", "beam")
    region: str = option("", "dataflow: region, e.g. europe-west4", "beam")
    temp_location: str = option(
        "", "dataflow: gs:// folder for staging and temp files", "beam", metavar="GS_URI"
    )
    sdk_container_image: str = option(
        "",
        "flink, spark, dataflow: the image Beam workers run (built from kubeflow/Dockerfile)",
        "beam",
        metavar="IMAGE",
    )
    args: Tuple[str, ...] = option(
        (),
        "extra Beam pipeline argument, repeatable, written with '=': --beam-args=--max_num_workers=8",
        "beam",
        parse=str,
        metavar="ARG",
        repeat=True,
    )

    def resolved(self) -> "BeamConfig":
        """Several workers without a profile mean the multi-process DirectRunner."""
        if self.workers > 1 and self.profile == "local":
            return dataclasses.replace(self, profile="multiprocess")
        return self

    def validate(self) -> None:
        """Fails before any component runs, naming the option to add."""
        if self.profile not in PROFILES:
            raise ValueError(
                f"Beam profile must be one of {', '.join(PROFILES)}; got {self.profile!r}"
            )
        if self.workers < 1:
            raise ValueError(f"Beam workers must be >= 1, got {self.workers}")
        if self.workers > 1 and self.profile != "multiprocess":
            raise ValueError(
                f"{self.workers} Beam workers need --beam-profile multiprocess (profile is {self.profile!r})"
            )
        missing = [flag(field) for field in REQUIRED[self.profile] if not getattr(self, field)]
        if missing:
            raise ValueError(f"Beam profile {self.profile!r} needs {', '.join(missing)}")
        if self.profile == "spark" and not self.master.startswith("spark://"):
            raise ValueError(
                f"Beam profile 'spark' needs {flag('master')} spark://HOST:PORT, got {self.master!r}"
            )
        if self.profile == "dataflow" and not self.temp_location.startswith("gs://"):
            raise ValueError(
                f"Beam profile 'dataflow' needs {flag('temp_location')} gs://..., got {self.temp_location!r}"
            )
        if self.args:
            _check_extra(self.args)

    def pipeline_args(self) -> List[str]:
        """Beam pipeline arguments of the profile, then the extra ones."""
        self.validate()
        # `--sdk_container_image` beside the DOCKER environment tells TFX the image holds every
        # dependency; without it each component ships its own copy of TFX to the cluster.
        docker = [
            "--environment_type=DOCKER",
            f"--environment_config={self.sdk_container_image}",
            f"--sdk_container_image={self.sdk_container_image}",
        ]
        by_profile = {
            "local": [
                "--runner=DirectRunner",
                "--direct_running_mode=in_memory",
                "--direct_num_workers=1",
            ],
            "multiprocess": [
                "--runner=DirectRunner",
                "--direct_running_mode=multi_processing",
                f"--direct_num_workers={self.workers}",
            ],
            "portable": [
                "--runner=PortableRunner",
                "--job_endpoint=embed",
                "--environment_type=LOOPBACK",
            ],
            "flink": ["--runner=FlinkRunner", f"--flink_master={self.master}", *docker],
            "spark": ["--runner=SparkRunner", f"--spark_master_url={self.master}", *docker],
            "dataflow": [
                "--runner=DataflowRunner",
                f"--project={self.project}",
                f"--region={self.region}",
                f"--temp_location={self.temp_location}",
                f"--sdk_container_image={self.sdk_container_image}",
            ],
        }
        return by_profile[self.profile] + list(self.args)


def _check_extra(extra: Tuple[str, ...]) -> None:
    """Extra Beam arguments parse as Beam will parse them (Beam's argparse would otherwise end
    the process from inside the first Beam component); an unknown flag is refused too."""
    import contextlib
    import io

    from apache_beam.options.pipeline_options import PipelineOptions

    for arg in extra:
        if not arg.startswith("--"):
            raise ValueError(f"{flag('args')} {arg!r}: Beam arguments are written --name=value")
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            options = PipelineOptions(list(extra))
            options.get_all_options(retain_unknown_options=True)
            known = options.get_all_options()
    except SystemExit:
        reason = (errors.getvalue().strip().splitlines() or ["not a valid Beam argument"])[-1]
        raise ValueError(
            f"{flag('args')} {' '.join(extra)}: {reason.split('error: ')[-1]}"
        ) from None
    for arg in extra:
        name = arg[2:].split("=", 1)[0].replace("-", "_")
        if name not in known:
            raise ValueError(f"{flag('args')} {arg}: Beam has no option {name!r}")
