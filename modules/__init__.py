"""User code that TFX loads: preprocessing_fn, run_fn and the Keras layers and networks.

Keras 2 (``tf_keras``) is imported explicitly everywhere in this package, and importing the
package selects it before TensorFlow loads (`TF_USE_LEGACY_KERAS=1`): a Keras 3 export does not
run in the TF1 session that TF Serving and Beam RunInference use. Every package of the project
that may import TensorFlow imports this one first.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
