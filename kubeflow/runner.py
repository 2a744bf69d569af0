"""Compiles the twinnorm pipeline for Kubeflow Pipelines (--target kfp) or Vertex AI (--target vertex).

    python kubeflow/runner.py --target kfp --output pipeline.yaml --image REGISTRY/twinnorm:TAG \\
        --pipeline-root gs://BUCKET/twinnorm
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from pipeline import cli

DEFAULT_IMAGE = "twinnorm:latest"


def parser() -> argparse.ArgumentParser:
    """The compile options, then every pipeline option but the output folder."""
    result = cli.OneLineParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    compile_options = result.add_argument_group("compile")
    compile_options.add_argument(
        "--target",
        choices=("kfp", "vertex"),
        default="kfp",
        help="kfp: PipelineSpec YAML for open-source KFP, no Resolver (absolute "
        "thresholds only); vertex: PipelineJob JSON, baseline comparison kept",
    )
    compile_options.add_argument(
        "--output",
        dest="spec_path",
        metavar="FILE",
        help="file to write (default: pipeline.yaml for kfp, pipeline.json for vertex)",
    )
    compile_options.add_argument(
        "--image",
        help="pipeline image built from kubeflow/Dockerfile, as the cluster pulls it "
        f"(REGISTRY/twinnorm:TAG; required for vertex; kfp default: {DEFAULT_IMAGE})",
    )
    compile_options.add_argument(
        "--pipeline-root",
        required=True,
        metavar="URI",
        help="artifact root, readable and writable by every task (gs://..., s3://..., "
        "or a volume mounted in every pod); served models go to "
        "<pipeline-root>/serving/<name>",
    )
    return cli.add_pipeline_options(result, output_folder=False)


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = parser()
    args, config = cli.parse_args(options, argv)
    if args.image is None and args.target == "vertex":
        options.error(
            "--target vertex needs --image REGISTRY/twinnorm:TAG: Vertex AI pulls every task's "
            "image from a registry (build it from kubeflow/Dockerfile and push it)"
        )
    if args.image is not None and args.target == "vertex" and "/" not in args.image:
        options.error(f"--image {args.image} is not a registry path (REGISTRY/twinnorm:TAG)")
    args.image = args.image or DEFAULT_IMAGE

    from pipeline import kubeflow_spec

    if args.data is None:  # the embedded data: the image carries it
        config = kubeflow_spec.embedded_data_in_image(config)
    spec_path = args.spec_path or ("pipeline.yaml" if args.target == "kfp" else "pipeline.json")
    try:
        config = kubeflow_spec.for_target(config, args.target, args.pipeline_root)
        path = kubeflow_spec.compile_pipeline(config, args.target, args.image, spec_path)
    except ValueError as error:
        options.exit(2, f"{options.prog}: error: {error}\n")
    problems = kubeflow_spec.spec_problems(
        kubeflow_spec.pipeline_spec(kubeflow_spec.load(path)),
        args.image,
        allow_resolver=kubeflow_spec.TARGETS[args.target].baseline_resolver,
    )
    if problems:
        options.exit(
            1,
            f"{options.prog}: compiled spec {path} is unsound:\n  " + "\n  ".join(problems) + "\n",
        )
    print(
        f"twinnorm: wrote {args.target} pipeline {path} (image {args.image}, pipeline root {args.pipeline_root}, "
        f"baseline comparison {'on' if config.compare_to_baseline else 'off'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
