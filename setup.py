"""twinnorm: two networks trained jointly with normalized outputs, as a TFX pipeline."""

from setuptools import setup

# The product layout keeps these folders at the repository's top level; installed, they become
# subpackages of `twinnorm` so no generic top-level name (`pipeline`, `modules`, ...) is installed.
# `kubeflow/` is deliberately not a package: PyPI's `kubeflow` SDK owns that import name.
FOLDERS = ("pipeline", "components", "components.report", "modules", "serving_client")

setup(
    name="twinnorm",
    version="0.1.0",
    description="TFX pipeline that trains two networks jointly with output normalization",
    python_requires=">=3.10,<3.11",
    packages=["twinnorm", *(f"twinnorm.{folder}" for folder in FOLDERS)],
    package_dir={"twinnorm": "twinnorm", **{f"twinnorm.{f}": f.replace(".", "/") for f in FOLDERS}},
    install_requires=[
        "tfx[kfp]>=1.16,<1.17",
        "tensorflow>=2.16,<2.17",
        "tf-keras>=2.16,<2.17",
        "tensorflow-transform>=1.16,<1.17",
        "tensorflow-model-analysis>=0.47,<0.48",
        "apache-beam[gcp]>=2.59,<2.60",
        "tensorflow-serving-api>=2.16,<2.17",
        "protobuf>=3.20,<4",
        "dill",
    ],
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "twinnorm-local=twinnorm.pipeline.local:main",
            "twinnorm-client=twinnorm.serving_client.__main__:main",
        ]
    },
)
