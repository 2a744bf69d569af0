"""User code that TFX loads: preprocessing_fn, run_fn and the Keras layers and networks.

Keras 2 (``tf_keras``) is imported explicitly everywhere in this package: a Keras 3 model
cannot be run through the TF1 session that TF Serving and Beam RunInference use.
"""
