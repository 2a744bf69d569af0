"""TFX's own penguin example (shipped in the tfx wheel), run on our embedded penguin table.

    python -m benchmarks.penguin_baseline OUTPUT_DIR

The example wants its processed table (numeric columns `culmen_*`, integer species, no missing
values); this script derives it from `data/penguins.csv` by dropping incomplete rows, so both
pipelines see the same measurements. Tuner on, BulkInferrer off (it fails on this stack).
"""

from __future__ import annotations

import csv
import os
import sys

from pipeline.config import DEFAULT_DATA

COLUMNS = {
    "bill_length_mm": "culmen_length_mm",
    "bill_depth_mm": "culmen_depth_mm",
    "flipper_length_mm": "flipper_length_mm",
    "body_mass_g": "body_mass_g",
}


def write_processed_table(path: str) -> int:
    """Writes the example's input CSV; returns the number of rows kept."""
    with open(DEFAULT_DATA) as handle:
        rows = [r for r in csv.DictReader(handle) if all(r[c] for c in COLUMNS)]
    species = sorted({r["species"] for r in rows})
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["species", *COLUMNS.values()])
        for r in rows:
            writer.writerow([species.index(r["species"]), *(float(r[c]) for c in COLUMNS)])
    return len(rows)


def run(output_dir: str) -> None:
    from tfx import v1 as tfx
    from tfx.examples.penguin import penguin_pipeline_local as example

    data_root = os.path.join(output_dir, "data")
    os.makedirs(os.path.join(data_root, "labelled"), exist_ok=True)
    write_processed_table(os.path.join(data_root, "labelled", "penguins_processed.csv"))
    module_file = os.path.join(os.path.dirname(example.__file__), "penguin_utils_keras.py")
    tfx.orchestration.LocalDagRunner().run(
        example.create_pipeline(
            pipeline_name="penguin_local_keras",
            pipeline_root=os.path.join(output_dir, "pipelines"),
            data_root=data_root,
            module_file=module_file,
            accuracy_threshold=0.6,
            serving_model_dir=os.path.join(output_dir, "serving"),
            metadata_path=os.path.join(output_dir, "metadata.db"),
            user_provided_schema_path=None,
            enable_tuning=True,
            enable_bulk_inferrer=False,
            enable_example_diff=False,
            examplegen_input_config=None,
            examplegen_range_config_date=None,
            resolver_range_config=None,
            beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"],
            enable_transform_input_cache=False,
        )
    )


if __name__ == "__main__":
    run(sys.argv[1])
