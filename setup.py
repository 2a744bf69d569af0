"""twinnorm: two networks trained jointly with normalized outputs, as a TFX pipeline."""

import os
import sys

from setuptools import setup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline.project import PACKAGES  # noqa: E402 (the one list of the project's folders)

# The product's folders are installed under their own names, as the code imports them; `kubeflow/`
# is deliberately not a package: PyPI's `kubeflow` SDK owns that import name. `package_dir` maps
# the root to itself so an editable install is a plain path entry that tools can follow.
setup(
    name="twinnorm",
    version="0.1.0",
    description="TFX pipeline that trains two networks jointly with output normalization",
    python_requires=">=3.10,<3.11",
    packages=list(PACKAGES),
    package_dir={"": "."},
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
            "twinnorm-local=pipeline.local:main",
            "twinnorm-client=serving_client.__main__:main",
        ]
    },
)
