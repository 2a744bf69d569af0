"""The code fingerprint (pipeline/code_version.py): each component's covers the code it runs."""

import json
import os
import subprocess
import sys

from pipeline import code_version
from pipeline.pipeline import code_fingerprints
from tests.project_copies import copy_project, edit


def test_each_fingerprint_covers_the_code_its_component_runs_and_nothing_else(tmp_path):
    project = copy_project(str(tmp_path / "copy"))
    here = code_fingerprints()
    script = (
        "import json; from pipeline import pipeline; "
        "print(json.dumps(pipeline.code_fingerprints()))"
    )

    def there() -> dict:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=project,
            env={**os.environ, "PYTHONPATH": project},
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert there() == here  # a copy with the same files agrees
    networks = os.path.join(project, "modules", "mlp.py")
    edit(networks, "units, activation=spec.activation)", "units, activation='tanh')")
    assert {c for c, f in there().items() if f != here[c]} == {"Trainer", "Tuner"}
    edit(os.path.join(project, "modules", "__init__.py"), '"""', '"""(edited) ')
    assert {c for c, f in there().items() if f != here[c]} == set(here)  # every one runs it
    assert all(f.startswith(code_version.PREFIX) for f in there().values())
