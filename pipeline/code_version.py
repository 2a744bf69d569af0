"""The fingerprint of the project code a component runs, carried in its execution properties.

TFX's cache key is a component's inputs and execution properties. With `preprocessing_fn`,
`run_fn` and `tuner_fn` given as dotted paths, the code behind them is in neither (TFX's
`module_file` route hashes the user module for this reason), so an edited network would be served
from cache. Each component's fingerprint hashes the files of its entry module and of every
project module (`pipeline/project.py`) those import, directly or not (read from the source, imports inside functions
included): an edit of the network re-runs the Trainer but not Transform. File contents and
dotted names only, no mtimes or git state: a clean clone, a working tree and the installed image
with the same files agree.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import re
from typing import Iterable, Optional, Set, Tuple

from pipeline.project import TOP_LEVEL

PREFIX = "code-sha256:"
PATTERN = re.compile(re.escape(PREFIX) + "[0-9a-f]{64}")
ROOTS = frozenset(TOP_LEVEL)


def _file(module: str) -> Optional[str]:
    """The source file of a project module, or None for an attribute or a package-less name."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin and spec.origin.endswith(".py") else None


def _imports(module: str, path: str) -> Set[str]:
    """Project modules named by the import statements of one file (`from a import b` counts b
    when it is a module, a otherwise)."""
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in ROOTS)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.split(".")[0] not in ROOTS:
                continue
            is_package = (_file(base) or "").endswith("__init__.py")
            for alias in node.names:  # a child module only where `base` is a package
                child = f"{base}.{alias.name}"
                found.add(child if is_package and _file(child) else base)
    return found


def closure(entries: Iterable[str]) -> Tuple[Tuple[str, str], ...]:
    """(module, file) of every project module the entries import, directly or not, sorted."""
    seen, todo = {}, list(entries)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = _file(module)
        if path is None:
            continue
        seen[module] = path
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages run too
        todo.extend(_imports(module, path))
    return tuple(sorted(seen.items()))


@functools.lru_cache(maxsize=None)
def fingerprint(*modules: str) -> str:
    """`code-sha256:<hex>` over the names and file contents of `closure(modules)`."""
    digest = hashlib.sha256()
    for module, path in closure(modules):
        digest.update(f"{module}\0".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
        digest.update(b"\0")
    return PREFIX + digest.hexdigest()


def masked(text: str) -> str:
    """`text` with every fingerprint replaced by a placeholder (golden files of compiled specs)."""
    return PATTERN.sub(PREFIX + "<fingerprint>", text)
