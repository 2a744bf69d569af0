"""Our own TFX components: DataGate (data_gate.py), TwinPusher (pusher.py), RunReport (report/).

Custom artifact types live here. On Kubeflow the executor finds a custom type by importing its
schema title, which must be `<module>.<Class>` with one dot: so the title names the top-level
`twinnorm` package, which hands the class out on first access.
"""

from tfx.types import artifact


class HtmlReport(artifact.Artifact):
    """A folder holding report.html and report.json."""

    TYPE_NAME = "twinnorm.HtmlReport"
