"""The layers' import rules, read from the source (nothing is imported).

Poolscope is layered pages → ui → pooling_core with no arrow back up: the core is pure
NumPy, ``ui`` never imports a page, the modules of ``ui`` import each other without a
circle, and the modules that say "no Streamlit" import none. Every ``import`` statement
counts, also one inside a function or under ``if TYPE_CHECKING``.
"""
import ast
import sys

import pytest

from conftest import ROOT

# ui modules whose docstrings promise plain functions without Streamlit
NO_STREAMLIT = ("ui.figures", "ui.gif", "ui.imageio", "ui.imagelab", "ui.lessons", "ui.parsing",
                "ui.training")
MAX_UI_LINES = 500  # "none over about 500 lines" (issue 20): a module past it wants splitting


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages) -> dict:
    """``{module name: path}`` of every Python file under ``packages`` (folders of ROOT)."""
    return {module_name(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(name: str, path, known) -> set[str]:
    """The modules ``name`` (at ``path``) imports, as absolute names; ``from a import b``
    counts as ``a.b`` when that is one of the ``known`` modules, else as ``a``."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return found


def ui_graph() -> dict:
    known = modules("ui")
    return {name: {m for m in imported(name, path, known) if m in known and m != name}
            for name, path in known.items()}


def find_cycle(graph: dict) -> list | None:
    """One import circle of ``graph`` as a list of modules (first = last), or None."""
    state = {}  # module -> "open" while on the current path, "done" once explored

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_find_cycle_sees_a_circle_and_a_clean_graph():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_relative_imports_resolve_to_the_sibling_module():
    pkg = ROOT / "ui" / "figures"
    known = modules("ui")
    assert "ui.figures.common" in imported("ui.figures.sliding", pkg / "sliding.py", known)
    assert "ui.figures.sliding" in imported("ui.figures", pkg / "__init__.py", known)


def test_ui_modules_import_each_other_without_a_circle():
    graph = ui_graph()
    assert {"ui.pool_settings", "ui.links", "ui.sidebar", "ui.figures.common"} <= set(graph)
    assert "ui.parsing" in graph["ui.links"]  # the graph sees real edges
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_figure_modules_import_their_siblings_not_the_package():
    """``from . import x`` inside ``ui.figures`` would run the package's ``__init__``
    half-way through, the circle the package layout exists to avoid."""
    graph = ui_graph()
    for name, deps in graph.items():
        if name.startswith("ui.figures."):
            assert "ui.figures" not in deps, name


def test_pooling_core_is_pure_numpy():
    known = modules("pooling_core")
    allowed = set(sys.stdlib_module_names) | {"numpy", "pooling_core", "__future__"}
    for name, path in known.items():
        outside = {m for m in imported(name, path, known) if m.split(".")[0] not in allowed}
        assert not outside, f"{name} imports {sorted(outside)}"


@pytest.mark.parametrize("layer", ["ui", "pooling_core"])
def test_no_layer_imports_the_one_above_it(layer):
    above = {"ui": {"pages", "app"}, "pooling_core": {"ui", "pages", "app", "streamlit"}}[layer]
    known = modules(layer)
    for name, path in known.items():
        bad = {m for m in imported(name, path, known) if m.split(".")[0] in above}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_modules_without_streamlit_import_none():
    known = modules("ui")
    checked = [n for n in known if n.startswith(NO_STREAMLIT)]
    assert "ui.figures.sliding" in checked and "ui.lessons" in checked
    for name in checked:
        bad = {m for m in imported(name, known[name], known) if m.split(".")[0] == "streamlit"}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_no_ui_module_is_over_about_500_lines():
    for name, path in modules("ui").items():
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_UI_LINES, f"{name} has {lines} lines; split it by what it does"
