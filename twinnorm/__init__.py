"""twinnorm: two networks trained jointly with normalized outputs, as a TFX pipeline.

The repository keeps `pipeline/`, `components/`, `modules/` and `serving_client/` at its top level
(the product layout); installed, they are `twinnorm.pipeline`, `twinnorm.components`, ... so that no
generic top-level name enters a user's environment. In a checkout this package's path also covers
the repository root, so the same dotted names resolve to the same files.

Every project module is imported through this package, so this is the one place that selects
Keras 2 before TensorFlow is imported: a Keras 3 export does not run in the TF1 session that
TF Serving and Beam RunInference use.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

_HERE = os.path.dirname(os.path.abspath(__file__))
if not os.path.isdir(os.path.join(_HERE, "modules")):  # a checkout, not an installed distribution
    __path__.append(os.path.dirname(_HERE))  # noqa: F821 (module attribute of every package)


def __getattr__(name: str):
    """`twinnorm.HtmlReport`: the run report's artifact type under its Kubeflow schema title
    (see components/__init__.py), imported only when asked for, as TFX itself is."""
    if name == "HtmlReport":
        from twinnorm.components import HtmlReport

        return HtmlReport
    raise AttributeError(f"module 'twinnorm' has no attribute {name!r}")
