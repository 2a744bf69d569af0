"""Every measured figure in README.md and docs/ is the one its JSON result gives
(`benchmarks/docs.py`), and none is typed by hand outside a generated section."""

import os
import re
import shutil

import pytest

from benchmarks import docs


def test_every_generated_section_is_what_its_json_renders_to():
    assert docs.differing() == []


def test_no_measured_figure_is_typed_outside_a_generated_section():
    assert docs.typed_figures() == []


@pytest.fixture
def copied_docs(tmp_path, monkeypatch):
    """README, docs/ and the JSON results copied, `benchmarks.docs` pointed at the copy."""
    for path in docs.DOCS + tuple({s.json for s in docs.SECTIONS}):
        os.makedirs(tmp_path / os.path.dirname(path), exist_ok=True)
        shutil.copy(os.path.join(docs.REPO_ROOT, path), tmp_path / path)
    monkeypatch.setattr(docs, "REPO_ROOT", str(tmp_path))
    return tmp_path


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_figure_edited_by_hand_in_a_generated_section_is_caught(copied_docs):
    section = next(s for s in docs.SECTIONS if s.name == "quality table")
    figure = re.search(r"\| (0\.\d{3}) \|", section.current("README.md")).group(1)
    edit(copied_docs / "README.md", f"| {figure} |", f"| {float(figure) + 0.001:.3f} |")
    assert docs.differing() == ["README.md: quality table (from benchmarks/results/quality.json)"]
    docs.write()
    assert docs.differing() == []


def test_a_typed_figure_and_a_lost_marker_are_caught(copied_docs):
    edit(
        copied_docs / "docs" / "training.md",
        "\n\n",
        "\n\nThe Trainer took 13.7 s here on 2026-12-01.\n\n",
    )
    assert [f.split(": ", 1)[1] for f in docs.typed_figures()] == ["13.7 s", "2026-12-01"]
    edit(copied_docs / "docs" / "pipeline.md", "<!-- end of default run report -->", "")
    with pytest.raises(ValueError):
        docs.differing()


def test_readme_stays_a_front_page():
    with open(os.path.join(docs.REPO_ROOT, "README.md")) as handle:
        assert len(handle.read().splitlines()) <= 250
