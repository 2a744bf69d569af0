"""The local runner's console: the default run's components in the order it lists them, and
its one line per component."""

import re

CONSOLE_ORDER = (  # the default run's components in the order the console lists them
    "CsvExampleGen",
    "ImportSchemaGen",
    "InferenceExampleGen",
    "latest_blessed_model_resolver",
    "StatisticsGen",
    "ExampleValidator",
    "DataGate",
    "Transform",
    "Trainer",
    "Evaluator",
    "BulkInferrer",
    "Pusher",
    "BatchPredictions",
    "RunReport",
)


def component_lines(stdout: str) -> dict:
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^  (\S+)\s+(\d+\.\d) s(?:  (.*))?$", line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} printed twice"
            found[match.group(1)] = match.group(3) or ""
    return found
