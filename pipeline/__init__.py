"""The TFX DAG, built once from one PipelineConfig for every runner."""

import modules  # noqa: F401 (selects Keras 2 before TensorFlow loads)
