"""The project's own modules import each other without a cycle (every import counts, deferred
ones inside functions included: a cycle there still makes one module unusable without the other)."""

import ast
import os
import subprocess
import sys
import zipfile
from typing import Dict, List, Set

from twinnorm.pipeline.config import REPO_ROOT

PACKAGES = ("modules", "pipeline", "components", "serving_client")


def project_modules() -> Dict[str, str]:
    """Dotted module name -> file, for every module of the project's packages and the runner."""
    found = {
        "local_runner": os.path.join(REPO_ROOT, "local_runner.py"),
        "twinnorm": os.path.join(REPO_ROOT, "twinnorm", "__init__.py"),
    }
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(REPO_ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    dotted = "twinnorm." + os.path.relpath(path, REPO_ROOT)[:-3].replace(
                        os.sep, "."
                    )
                    found[
                        dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted
                    ] = path
    return found


def imports_of(path: str, modules: Set[str]) -> Set[str]:
    """The project modules a file imports (`from a import b` counts as a.b when a.b is a module)."""
    targets = set()
    for node in ast.walk(ast.parse(open(path).read())):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                targets.add(name)
    return targets


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_no_import_cycle_among_the_projects_modules():
    modules = project_modules()
    graph = {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}
    graph = {
        name: {t for t in targets if not name.startswith(t + ".")}
        for name, targets in graph.items()
    }
    assert len(graph) > 30
    assert find_cycle(graph) == [], " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_the_distribution_installs_only_the_twinnorm_package(tmp_path):
    """`pip install .` must not put generic top-level names (`pipeline`, `modules`) into site-packages."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), REPO_ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("twinnorm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"twinnorm", "twinnorm-0.1.0.dist-info"}
    for module in project_modules():
        if module != "local_runner":
            path = module.replace(".", "/")
            assert f"{path}.py" in names or f"{path}/__init__.py" in names, module
