"""The project's own code: the top-level folders imported by their own names (`modules.trainer`,
`pipeline.pipeline`, ...), as TFX's template imports `pipeline` and `models` from the project root.

The one list of them: setup.py packages these (for `pip install`, Beam's `--setup_file` and the
image), the code fingerprint hashes what they import, the console keeps their log lines, the
tests copy them. Imports nothing, so setup.py can read it before anything is installed.
"""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = (
    "modules",
    "modules.kinds",
    "pipeline",
    "components",
    "components.report",
    "serving_client",
)
TOP_LEVEL = tuple(p for p in PACKAGES if "." not in p)
