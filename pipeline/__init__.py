"""The TFX DAG, built once from one PipelineConfig for every runner."""
