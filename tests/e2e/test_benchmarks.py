"""The benchmarks' component times come from the default run's ML Metadata (timings themselves
are never asserted)."""

import pytest

from benchmarks.common import component_times


@pytest.mark.slow
def test_component_times_come_from_the_runs_metadata(penguin_run):
    times = component_times(penguin_run.metadata_path)  # two runs: the second one cached
    first = {}
    for t in times:
        assert t.end >= t.start > 0
        if t.state == "COMPLETE":
            first.setdefault(t.component, t)
    assert {"CsvExampleGen", "Transform", "Trainer", "Evaluator", "Pusher"} <= set(first)
    assert {t.state for t in times} == {"COMPLETE", "CACHED"}
    transform, trainer = first["Transform"], first["Trainer"]
    assert trainer.start >= transform.end  # the Trainer waits for Transform
    assert 1.0 < trainer.seconds < 600
