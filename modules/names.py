"""Every name that crosses a boundary (Transform -> Trainer -> serving -> Evaluator) lives here."""

from modules.columns import internal_key

NETWORK_A = "network_a"
NETWORK_B = "network_b"
COMBINED = "combined"
NETWORKS = (NETWORK_A, NETWORK_B)
# The trainable scale and shift that both networks' normalized scores share (`population`).
SHARED_AFFINE = "shared_affine"

# Serving output keys. `<network>_raw` is before normalization, `<network>_scores` after it.
RAW = "raw"
SCORES = "scores"
PROBABILITIES = "probabilities"
CLASS_IDS = "class_ids"
PREDICTED_LABEL = "predicted_label"
VALUES = "values"

# Serving signatures.
SERVING_DEFAULT = "serving_default"
SERVING_RAW = "serving_raw"
TRANSFORM_FEATURES = "transform_features"
# The Evaluator's signature: TFMA looks predictions up by output name, so this one returns
# {network_a, network_b, combined} -> probabilities (classification) or values (regression).
EVALUATION = "evaluation"
# The Evaluator's labels: the label entries of `transform_features` only (see export.py).
EVALUATION_LABELS = "evaluation_labels"
# TF Serving's Classify API: method name, input key and output keys it requires.
CLASSIFICATION = "classification"
CLASSIFY_METHOD = "tensorflow/serving/classify"
CLASSIFY_INPUTS = "inputs"
CLASSIFY_CLASSES = "classes"
CLASSIFY_SCORES = "scores"
# BulkInferrer's signature: serving_default without string outputs. tfx_bsl 1.16's RunInference
# cannot split a rank-1 string output (its _post_process_predict calls .dtype on a bytes value).
BATCH_INFERENCE = "batch_inference"
EXAMPLES_INPUT = "examples"
# Integrated gradients (modules/attribution.py): serialized examples in, one attribution per
# raw column out, beside the explained prediction and that prediction at the baseline input.
EXPLAIN = "explain"
ATTRIBUTIONS = "attributions"
ATTRIBUTED_COLUMNS = "columns"
PREDICTION = "prediction"
BASELINE_PREDICTION = "baseline_prediction"
# The part of the model's input every network shares (the encoding), beside each network's own
# embeddings (keyed by network name).
ENCODED = "encoded"

# The Evaluator's default bar (modules/skill.py): skill over the best constant predictor on the
# eval rows, measured on AUC (two classes), accuracy (more) or MSE (regression);
# `trivial_<measure>` is that constant predictor's figure.
SKILL = "skill"
# Its one-sided p-value against the constant predictor at the eval split's size (a bar too).
SKILL_P_VALUE = "skill_p_value"
AUC, ACCURACY, MSE = "auc", "accuracy", "mse"
SKILL_MEASURES = (AUC, ACCURACY, MSE)
SIGNIFICANCE_TESTS = {AUC: "Mann-Whitney", ACCURACY: "binomial", MSE: "Pearson correlation"}
# TFMA's keys of the Keras metrics the absolute bars gate on (--min-accuracy, --max-mse, --max-mae).
ACCURACY_METRIC, MSE_METRIC, MAE_METRIC = (
    "sparse_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
)
ABSOLUTE_METRICS = (ACCURACY_METRIC, MSE_METRIC, MAE_METRIC)
# The TFMA metric key of our own figure for each measure (accuracy and MSE are TFMA's metrics).
MEASURED_BY = {AUC: AUC, ACCURACY: ACCURACY_METRIC, MSE: MSE_METRIC}


def trivial_metric(measure: str) -> str:
    return f"trivial_{measure}"


# In the Trainer's model_run: each prediction's fitted calibration map and what it changed.
CALIBRATION_FILE = "calibration.json"
# Also there: the combination weights fitted before it, and each candidate's validation loss.
COMBINATION_FILE = "combination.json"
# The Trainer's final losses and evaluation, in model_run beside it (the local run prints them).
TRAINING_FILE = "training.json"

# Folder, inside the Trainer's model_run, of the training loop's checkpoints.
CHECKPOINTS_DIR = "checkpoints"
# Folder, inside the Trainer's Model artifact, that holds one SavedModel per network.
NETWORK_MODELS_DIR = "networks"
SERVED_MODELS = (COMBINED, NETWORK_A, NETWORK_B)

# ExampleGen's splits. The Trainer fits on `train`; early stopping, calibration and tuning look at
# `validation`; the Evaluator blesses, and the report measures, on `eval` alone, rows nothing was
# fitted on.
TRAIN_SPLIT = "train"
VALIDATION_SPLIT = "validation"
EVAL_SPLIT = "eval"
# The Trainer's TensorBoard run (and training.json prefix) of the exported weights' validation.
EXPORTED_RUN = "exported"
SPLITS = (TRAIN_SPLIT, VALIDATION_SPLIT, EVAL_SPLIT)

# Transform's output key of several regression targets stacked into one [batch, k] label.
TARGETS = "targets"

# Token that stands for a missing categorical value after Transform.
MISSING_CATEGORY = "__missing__"

# Keys of the custom_config dict TFX hands to preprocessing_fn and run_fn.
CONFIG_FEATURES = "columns"  # the feature ColumnSpecs (modules/columns.py), as dicts
CONFIG_LABEL = "label_key"  # the label's key in Transform's output
CONFIG_LABEL_COLUMNS = "label_columns"  # the raw label column(s)
CONFIG_TRAINER = "trainer"
# TrainerConfig fields that reach run_fn through TrainArgs/EvalArgs, not custom_config.
STEP_COUNTS = ("train_steps", "validation_steps")
CONFIG_TASK = "task"
# The fingerprint of the code a component runs (pipeline/code_version.py): in its execution
# properties, so TFX's cache re-runs it after an edit; the Trainer's also joins its resume key.
CONFIG_CODE = "code"
CONFIG_TUNE_TRIALS = "tune_trials"  # the Tuner's custom_config: trials of the random search


def label_columns(label: str) -> tuple:
    """The label option's column(s): one name, or several comma-separated (multi-target regression)."""
    return tuple(c.strip() for c in label.split(",") if c.strip())


def label_key(label_columns) -> str:
    """The label's key in Transform's output: the column's internal key, or TARGETS for several."""
    return internal_key(label_columns[0]) if len(label_columns) == 1 else TARGETS


def target_output(output: str, column: str) -> str:
    """TFMA output name of one target of a multi-target prediction, e.g. ``network_a__height``."""
    return f"{output}__{column}"


def scalar_tag(metric: str, network: str) -> str:
    """TensorBoard tag such as ``loss/network_a``: the Trainer's `train/`, `validation/` and
    `exported/` runs use the same tags, so TensorBoard draws a network's curves on one chart."""
    return f"{metric}/{network}"


def served_model_name(pipeline: str, model: str) -> str:
    """The model's name in models.config (and so in TF Serving's URLs), e.g. ``twinnorm_combined``:
    prefixed by the pipeline so that two pipelines can share one model server."""
    return f"{pipeline}_{model}"


def output_key(network: str, kind: str) -> str:
    """Serving output name such as ``network_a_scores``."""
    return f"{network}_{kind}"


def label_statistics_name(column: str) -> str:
    """Transform's one-entry vocabulary holding a regression label's float64 mean and std."""
    return f"label_statistics_{column}"


def vocabulary_name(feature: str) -> str:
    """File name of the Transform vocabulary of a categorical feature or the label."""
    return f"vocab_{feature}"
