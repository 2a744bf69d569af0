import modules  # noqa: F401 (selects Keras 2 before any test imports TensorFlow)
