"""The shape of the code, read from its source: no import circle anywhere in studio/, the
transport standing on nothing of the backends, the chat's logic knowing no Gradio, no module
over 300 lines and no function over 60, at most ten modules directly in studio/, a backend
contract of five methods, settings read only by the configuration, no tab importing another,
and the UI imported only by the entry points.

An import counts wherever it is written: at the top, inside a function, or under
`TYPE_CHECKING`. A circle that only closes at run time, or only for the type checker, still
makes two modules that cannot be read, tested or moved one without the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZED = [ROOT / "studio"]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root`, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of `known` that module `name` imports, at any depth of its source.
    `from package import thing` names the submodule when `thing` is one, else the package. The
    packages above an imported module are not counted: their `__init__` runs first, but Python
    hands a package that is still being set up to its own submodules rather than going round."""
    in_package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = in_package[: len(in_package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                elif base in known:
                    yield base


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    known = modules(root, package)
    return {name: set(imported(name, path, known)) - {name} for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import that closes a circle, as the path it closes: a depth-first walk that meets a
    module still on its own path. None found means the imports read one way."""
    found: list[list[str]] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        path.append(module)
        for target in sorted(graph[module]):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_no_module_in_studio_imports_itself_through_others():
    found = circles(import_graph(ROOT, "studio"))
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_transport_imports_no_backend_module_and_not_base():
    graph = import_graph(ROOT, "studio")
    transport = "studio.backends.transport"
    outside = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module == transport or module.startswith(transport + ".")
        for target in targets
        if target.startswith("studio.backends")
        and not (target == transport or target.startswith(transport + "."))
    }
    assert not outside, sorted(outside)


def sized() -> list[Path]:
    return sorted(path for folder in SIZED for path in folder.rglob("*.py"))


def test_modules_stay_under_300_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sized()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_functions_stay_under_60_lines():
    long = {}
    for path in sized():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert not long, long


def test_the_chat_logic_knows_no_gradio_and_no_http():
    """studio/chat/ is the chat's turn, stream, pacing and stats: the page and the API show
    what it yields, and the backends do the HTTP."""
    paths = sorted((ROOT / "studio" / "chat").rglob("*.py"))
    found = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in third_party_imports(path)
        if name.split(".")[0] in ("gradio", "gradio_client", "requests", "httpx", "urllib3")
    }
    assert paths and not found, sorted(found)


def third_party_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module


def test_the_checker_counts_imports_in_functions_and_for_the_type_checker(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n"
    )
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from pkg.c import C\n")  # into the circle, not part of it

    assert circles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (package / "c.py").write_text("C = 1\n")
    assert circles(import_graph(tmp_path, "pkg")) == []


def test_at_most_ten_modules_stand_directly_in_studio():
    """The rest live in the package of their layer (tasks, backends, chat, local, ui, classroom,
    snippets, config), so the folder tree shows the architecture."""
    top = sorted(path.name for path in (ROOT / "studio").glob("*.py"))
    assert len(top) <= 10, top


def test_the_backend_contract_has_at_most_five_public_methods():
    from studio.backends.base import Backend

    public = [name for name, value in vars(Backend).items() if callable(value)]
    public = [name for name in public if not name.startswith("_")]
    assert len(public) <= 5, public


def test_only_the_configuration_reads_the_environment():
    found = []
    for path in sorted((ROOT / "studio").rglob("*.py")):
        if path.parent.name == "config" and path.parent.parent.name == "studio":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                if isinstance(node.value, ast.Name) and node.value.id == "os":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


TABS = {
    "summarize",
    "entities",
    "caption",
    "imagine",
    "game",
    "chat",
    "compare",
    "next_word",
    "wall",
}


def tab_of(module: str) -> str | None:
    """The tab a UI module belongs to: studio.ui.imagine_layout -> imagine, studio.ui.chat.page
    -> chat; None for the UI's shared modules."""
    parts = module.split(".")
    if parts[:2] != ["studio", "ui"] or len(parts) < 3:
        return None
    name = parts[2] if parts[2] in TABS else parts[2].split("_")[0]
    return name if name in TABS else None


def test_no_tab_imports_another_tab():
    graph = import_graph(ROOT, "studio")
    crossed = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if tab_of(module) and tab_of(target) and tab_of(module) != tab_of(target)
    }
    assert not crossed, sorted(crossed)


ENTRY_POINTS = {"studio.cli", "studio.serve", "studio.__main__"}


def test_only_the_entry_points_import_the_ui():
    graph = import_graph(ROOT, "studio")
    outside = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if (target == "studio.ui" or target.startswith("studio.ui."))
        and not module.startswith("studio.ui")
        and module not in ENTRY_POINTS
    }
    assert not outside, sorted(outside)
