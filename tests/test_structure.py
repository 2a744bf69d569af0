"""The project's structure: modules import each other without a cycle (deferred imports inside
functions included), tools follow every import, files stay small, and tests mirror the modules."""

import ast
import io
import os
import shutil
import subprocess
import sys
import tokenize
import zipfile
from typing import Dict, List, Set, Tuple

from pipeline.project import PACKAGES, REPO_ROOT, TOP_LEVEL


def project_modules() -> Dict[str, str]:
    """Dotted module name -> file, for every module of the project's packages and the runner."""
    found = {"local_runner": os.path.join(REPO_ROOT, "local_runner.py")}
    for package in TOP_LEVEL:
        for folder, _, files in os.walk(os.path.join(REPO_ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    dotted = os.path.relpath(path, REPO_ROOT)[:-3].replace(os.sep, ".")
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


def test_the_distribution_installs_the_projects_folders_under_their_own_names(tmp_path):
    """`pip install .` puts exactly pipeline/project.py's packages into site-packages, every module
    of them, and nothing else (not tests, benchmarks or kubeflow, whose name PyPI's SDK owns).
    Built from a copy of the checkout without local state: an in-tree build/ would be reused."""
    source = str(tmp_path / "checkout")
    local_state = (".git", ".venv", "build", "tfx_runs", "__pycache__", "*.egg-info")
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*local_state))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), source],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("twinnorm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {*TOP_LEVEL, "twinnorm-0.1.0.dist-info"}
    assert {os.path.dirname(n).replace("/", ".") for n in names if n.endswith(".py")} == set(
        PACKAGES
    )
    for module in project_modules():
        if module != "local_runner":
            path = module.replace(".", "/")
            assert f"{path}.py" in names or f"{path}/__init__.py" in names, module


def product_files() -> List[str]:
    """Every product source file: the packages, the runners and kubeflow/."""
    kubeflow = os.path.join(REPO_ROOT, "kubeflow")
    return sorted(project_modules().values()) + sorted(
        os.path.join(kubeflow, name) for name in os.listdir(kubeflow) if name.endswith(".py")
    )


def project_imports(path: str) -> List[Tuple[int, int, str, str]]:
    """(line, column, name, the file it must lead to) for each name an import statement in `path`
    takes from a project module: the module's name, and each name `from` imports (a submodule's
    file, or the module's file for a function, class or constant)."""
    with open(path) as handle:
        source = handle.read()
    modules, lines, found = project_modules(), source.splitlines(), []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [(node.lineno, node.module)]
        elif isinstance(node, ast.Import):
            names = [(node.lineno, alias.name) for alias in node.names]
        else:
            continue
        for lineno, module in names:
            if module in modules:
                column = lines[lineno - 1].index(module) + len(module) - 1
                found.append((lineno, column, module, modules[module]))
        if isinstance(node, ast.ImportFrom) and node.module in modules:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                target = modules.get(child, modules[node.module])
                found.append((alias.lineno, alias.col_offset, alias.name, target))
    return found


def test_jedi_follows_every_import_of_a_project_module_to_its_file():
    """Go-to-definition in the project's venv (its own sys.path, the editable install's path entry;
    no path added by hand) lands on the imported module's file, for every import in the product."""
    import jedi

    environment = jedi.create_environment(sys.executable, safe=False)
    project = jedi.Project(REPO_ROOT, environment_path=sys.executable, smart_sys_path=False)
    checked, wrong = 0, []
    for path in product_files():
        script = jedi.Script(path=path, project=project, environment=environment)
        for line, column, name, expected in project_imports(path):
            targets = {d.module_path and str(d.module_path) for d in script.goto(line, column)}
            if targets != {expected}:
                wrong.append(f"{os.path.relpath(path, REPO_ROOT)}:{line} {name} -> {targets}")
            checked += 1
    assert checked > 300
    assert wrong == []


def mypy(*args: str, cwd: str = REPO_ROOT) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.stdout + result.stderr


def test_mypy_finds_every_project_module_and_checks_calls_into_it(tmp_path):
    """mypy over the product code finds each project module's implementation; and a call with a
    wrong argument type into project code, from a file outside it, is reported."""
    cache = str(tmp_path / "cache")
    output = mypy("--cache-dir", cache, *TOP_LEVEL, "local_runner.py", "kubeflow/runner.py")
    assert "Cannot find implementation" not in output, output
    planted = tmp_path / "planted.py"
    planted.write_text("from modules.paths import is_uri\n\nis_uri(3)\n")
    output = mypy("--cache-dir", cache, str(planted))
    assert 'Argument 1 to "is_uri" has incompatible type "int"; expected "str"' in output, output


def test_an_import_graph_drawn_from_the_code_connects_every_product_folder():
    modules = project_modules()
    folders = {name.split(".")[0] for name in modules}
    edges = {
        (name.split(".")[0], target.split(".")[0])
        for name, path in modules.items()
        for target in imports_of(path, set(modules))
        if name.split(".")[0] != target.split(".")[0]
    }
    assert folders == {*TOP_LEVEL, "local_runner"}
    for folder in folders:
        assert any(folder in edge for edge in edges), (folder, sorted(edges))


def prose_of(path: str) -> List[Tuple[int, str]]:
    """(line, text) of every comment and docstring in a source file."""
    with open(path) as handle:
        source = handle.read()
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                found.append((node.body[0].lineno, docstring))
    return found


def test_no_measurement_or_date_in_a_comment_or_docstring():
    """Measurements belong in docs/benchmarks.md, written from a JSON result; a figure in a
    docstring goes stale unseen."""
    from benchmarks.docs import FIGURE

    found = [
        f"{os.path.relpath(path, REPO_ROOT)}:{line}: {match.group(0)}"
        for path in product_files()
        for line, text in prose_of(path)
        for match in FIGURE.finditer(text)
    ]
    assert found == []


MAX_FILE_LINES, MAX_FUNCTION_LINES = 300, 60
# The caps flag a file or function for review; these passed it. Each names why it has one job
# all the same ("path" for a file, "path:function" for a function). An entry the code no longer
# needs fails the test, so the list cannot go stale.
CAP_EXEMPTIONS = {
    "pipeline/config.py": "PipelineConfig declares every pipeline option once (flag, help, "
    "default, choices) in one frozen dataclass; split, an option's declaration would sit in a "
    "file picked by line count",
}


def over_caps() -> List[str]:
    """Every product file over MAX_FILE_LINES and function over MAX_FUNCTION_LINES."""
    found = []
    for path in product_files():
        with open(path) as handle:
            source = handle.read()
        name = os.path.relpath(path, REPO_ROOT)
        if len(source.splitlines()) > MAX_FILE_LINES:
            found.append(name)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.name}")
    return found


def test_no_product_file_over_300_lines_and_no_function_over_60_but_the_reasoned_ones():
    """Small modules with one job: a file past 300 lines or a function past 60 usually holds
    several, and is split unless CAP_EXEMPTIONS says why it has one job."""
    found = over_caps()
    assert [name for name in found if name not in CAP_EXEMPTIONS] == []
    assert [name for name in CAP_EXEMPTIONS if name not in found] == []  # stale exemptions
    assert all(len(reason) > 40 for reason in CAP_EXEMPTIONS.values())


TESTS = os.path.join(REPO_ROOT, "tests")
# Read by tests that run whole pipelines, which live in tests/e2e/ only.
PIPELINE_RUNS = ("penguin_run", "PipelineRun(", "run_cli(", "kill_when(")


def has_logic(path: str) -> bool:
    """A module that defines a function or a method (not only names, constants or re-exports)."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(tree))


def allowed_test_files(path: str) -> List[str]:
    """The names a module's test file may have: `test_<module>.py`, or with its folder's name
    first (`test_kubeflow_runner.py`, `test_report_component.py`); `test_<package>.py` for a
    package's `__main__.py`."""
    stem = os.path.basename(path)[:-3]
    folder = os.path.basename(os.path.dirname(path))
    if stem == "__main__":
        return [f"test_{folder}.py"]
    return [f"test_{stem}.py", f"test_{folder}_{stem}.py"]


def test_every_product_module_with_logic_has_a_test_file_named_after_it():
    """Unit tests in tests/, end-to-end tests (whole pipeline runs) in tests/e2e/."""
    written = set(os.listdir(TESTS)) | set(os.listdir(os.path.join(TESTS, "e2e")))
    missing = [
        os.path.relpath(path, REPO_ROOT)
        for path in product_files()
        if has_logic(path)
        and os.path.basename(path) != "__init__.py"
        and os.path.basename(path) != "local_runner.py"
        and not written & set(allowed_test_files(path))
    ]
    assert missing == []


def test_unit_tests_never_run_a_whole_pipeline():
    """A unit test uses a small fixture (conftest.py's tiny Transform output and the model run_fn
    trains on it); whatever runs the pipeline is an end-to-end test in tests/e2e/."""
    found = []
    for name in sorted(os.listdir(TESTS)):
        if name.startswith("test_") and name.endswith(".py") and name != "test_structure.py":
            with open(os.path.join(TESTS, name)) as handle:
                text = handle.read()
            found += [f"{name}: {marker}" for marker in PIPELINE_RUNS if marker in text]
    assert found == []
