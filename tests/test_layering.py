"""The package's layers: data flows one way, evidence -> statistics -> display vocabulary -> review -> chapters.

Every import inside ``src/helpers`` (module-level or inside a function) is read from the source, so a
layer that reaches up, or two modules that import each other, fail here before they can be built on.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.paths import ROOT

PACKAGE = ROOT / "src" / "helpers"
#: Each sub-package (or top-level module) and its layer: a module may import its own layer and lower ones.
LAYERS = {
    "paths": 0,
    "environment": 0,
    "evidence": 1,
    "stats": 2,
    "report": 3,
    "review": 4,
    "chapters": 5,
    "notebooks": 6,
    "__main__": 6,
    "__init__": 6,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def imports_of(path: Path) -> set[str]:
    """Modules of the package this file imports (absolute names under helpers, without the prefix)."""
    name = module_name(path)
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "helpers" or node.module.startswith("helpers.")):
                target = node.module.removeprefix("helpers").lstrip(".")
            else:
                continue
            for alias in node.names:  # 'from helpers.stats import pooling' imports a module
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if candidate in MODULES else target)
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("helpers.") for a in node.names if a.name.startswith("helpers.")}
    return {m for m in found if m}


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}
GRAPH = {module_name(p): imports_of(p) & MODULES for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def test_every_module_has_a_layer():
    assert {m.split(".")[0] for m in MODULES} <= set(LAYERS)


def test_no_module_imports_a_higher_layer():
    upward = sorted(
        f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)})"
        for m, deps in GRAPH.items()
        for d in deps
        if layer(d) > layer(m)
    )
    assert upward == []


def test_no_import_cycles():
    """Depth-first search over every import, function-level ones included."""
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(GRAPH.get(m, ())):
            if d == m or d.startswith(m + "."):  # a package importing its own module is not a cycle
                continue
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d) :] + [d]) if d in stack else f"{m} -> {d}")
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: a synthetic evidence module importing the review layer is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from helpers.review.selection import plan\n", encoding="utf-8")
    tree = ast.parse(bad.read_text(encoding="utf-8"))
    (node,) = tree.body
    assert node.module.removeprefix("helpers.") == "review.selection" and layer("review.selection") > layer(
        "evidence.load"
    )


def test_no_study_is_named_in_analysis_or_chapter_code():
    """Selection comes from the protocol and the data: no study id of data/studies.csv in review/ or chapters/
    code (comments and docstrings may cite them as examples), nor in the chapter notebooks' code cells."""
    import csv
    import json

    with (ROOT / "data" / "studies.csv").open(encoding="utf-8") as fh:
        ids = [r["study_id"] for r in csv.DictReader(fh)]
    exempt = {"claims.py"}  # the claims registry names the studies its guarded sentences name
    offenders = []
    for path in sorted((PACKAGE / "review").glob("*.py")) + sorted((PACKAGE / "chapters").glob("*.py")):
        if path.name in exempt:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                offenders += [f"{path.name} cell {i}: {s}" for s in ids if f'"{s}"' in source or f"'{s}'" in source]
    assert offenders == []
