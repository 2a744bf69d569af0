"""Benchmarks against named baselines (`python -m benchmarks.run`); not part of pytest."""

import modules  # noqa: F401 (selects Keras 2 before any benchmark imports TensorFlow)
