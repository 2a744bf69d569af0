"""An edit of the project's code re-runs what runs that code, and only that: TFX's cache keys hold
the code's fingerprint (pipeline/code_version.py). Runs a copy of the project, edited as a user
edits their checkout, into one `--output`."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from modules import names
from modules.paths import OutputLayout
from pipeline.summary import executions_by_component, open_store
from tests.pipeline_runs import PipelineRun, kill_when, logged_steps, recorded_checkpoint_steps
from tests.project_copies import copy_project, edit


def environment(project: str) -> dict:
    """The copy's code first on the path, before the installed checkout."""
    return {**os.environ, "PYTHONPATH": project, "TF_CPP_MIN_LOG_LEVEL": "2"}


def run(project: str, output: str) -> None:
    """The copy's local_runner with the copy's code."""
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--quiet", "--output", output],
        cwd=project,
        env=environment(project),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def newest_states(output: str) -> dict:
    return {
        c: s[-1]
        for c, s in executions_by_component(open_store(OutputLayout(output).metadata_path)).items()
    }


def pushed_weights(output: str, version: int) -> dict:
    """Every kernel of the combined model the Pusher published as `version`."""
    model = os.path.join(OutputLayout(output).serving_root, names.COMBINED, str(version))
    reader = tf.train.load_checkpoint(os.path.join(model, "variables", "variables"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if "kernel" in name
    }


@pytest.mark.slow
def test_an_edit_re_runs_the_components_that_run_the_edited_code(tmp_path):
    project, output = copy_project(str(tmp_path / "copy")), str(tmp_path / "runs")
    run(project, output)
    first = pushed_weights(output, 1)
    networks = os.path.join(project, "modules", "mlp.py")

    # Every hidden layer's activation changed: the model's code, not the data or the options. A
    # run of that code is killed once the Trainer wrote a checkpoint, then the code changes again.
    edit(networks, "units, activation=spec.activation)", "units, activation='tanh')")
    finished = set(recorded_checkpoint_steps(output))
    kill_when(
        output,
        lambda: bool(
            set(recorded_checkpoint_steps(output)) - finished
        ),  # the new Trainer saved one
        "trainer",
        project,
        environment(project),
    )
    edit(networks, "units, activation='tanh')", "units, activation='elu')")
    run(project, output)
    states = newest_states(output)
    assert states["Transform"] == "CACHED" and states["CsvExampleGen"] == "CACHED", states
    assert states["Trainer"] == "COMPLETE", states  # re-executed, not served from cache
    log_text = PipelineRun(output, []).newest_log()
    assert "not resuming the killed execution" in log_text and "the code changed" in log_text
    assert logged_steps(log_text)[0] == 50, logged_steps(log_text)[:3]  # from step 0, not resumed
    assert sorted(os.listdir(os.path.join(OutputLayout(output).serving_root, names.COMBINED))) == [
        "1",
        "2",
    ]
    second = pushed_weights(output, 2)
    assert first.keys() == second.keys()
    assert any(not np.array_equal(first[k], second[k]) for k in first)

    edit(
        os.path.join(project, "modules", "preprocessing.py"),
        '"""',
        '"""(edited) ',
    )
    run(project, output)
    assert newest_states(output)["Transform"] == "COMPLETE"

    run(project, output)  # nothing changed: everything up to the Evaluator from cache
    states = newest_states(output)
    for component in ("CsvExampleGen", "StatisticsGen", "DataGate", "Transform", "Trainer"):
        assert states[component] == "CACHED", (component, states)
