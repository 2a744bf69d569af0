"""Our own TFX components: DataGate (data_gate.py), TwinPusher (pusher.py), RunReport (report/).

Custom artifact types live here, at the top of the package: on Kubeflow the executor finds a
custom type by importing the schema title, which must be `<module>.<Class>` with one dot.
"""
from tfx.types import artifact


class HtmlReport(artifact.Artifact):
    """A folder holding report.html and report.json."""

    TYPE_NAME = "components.HtmlReport"
