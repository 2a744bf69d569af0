"""The batch inference stage (pipeline/batch_inference.py) as create_pipeline builds it: the
blessed model's predictions of the inference data, and with --explain the models and feature
columns BatchPredictions attributes to."""

import json

import pytest

from pipeline import cli


def stage(argv, tmp_path) -> dict:
    from pipeline.pipeline import create_pipeline

    config = cli.parse([*argv, "--output", str(tmp_path)], "test")
    return {c.id: c for c in create_pipeline(config).components}


@pytest.mark.parametrize(
    "argv, models",
    [([], []), (["--explain", "combined"], ["combined"]), (["--explain", "all"], None)],
)
def test_batch_predictions_read_the_trainers_model_and_explain_the_models_asked_for(
    argv, models, tmp_path
):
    from modules import names

    components = stage(argv, tmp_path)
    inferrer, table = components["BulkInferrer"], components["BatchPredictions"]
    assert set(inferrer.inputs) >= {"model", "model_blessing", "examples"}
    assert table.inputs["model"] is components["Trainer"].outputs["model"]
    settings = json.loads(table.exec_properties["settings"])
    assert settings["explained_models"] == (list(names.SERVED_MODELS) if models is None else models)
    penguin_features = [
        "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex",
        "year",
    ]  # fmt: skip
    expected_columns = penguin_features if settings["explained_models"] else []
    assert settings["explained_columns"] == expected_columns


def test_no_inference_data_no_batch_inference(tmp_path):
    components = stage(["--inference-data", "none"], tmp_path)
    assert not {"InferenceExampleGen", "BulkInferrer", "BatchPredictions"} & set(components)
