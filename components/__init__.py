"""Our own TFX components: DataGate (data_gate.py), TwinPusher (pusher.py), RunReport (report/),
BatchPredictions (predictions.py).

Custom artifact types live here. On Kubeflow the executor finds a custom type by importing its
schema title, which must be `<module>.<Class>` with one dot: `components.HtmlReport`.
"""

import modules  # noqa: F401 (selects Keras 2 before TFX loads TensorFlow)

# isort: split

from tfx.types import artifact


class HtmlReport(artifact.Artifact):
    """A folder holding report.html and report.json."""

    TYPE_NAME = "components.HtmlReport"


HTML_PROPERTY = "html"  # an HtmlReport's property: the path of its report.html


class PredictionTable(artifact.Artifact):
    """A folder of prediction shards a user opens: predictions-*.csv and predictions-*.parquet."""

    TYPE_NAME = "components.PredictionTable"
