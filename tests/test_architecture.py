"""The package's shape, read from its source by ``ast`` without importing it (issue 23).

- no function in hydro/ longer than 80 lines of code (docstrings, comments, blank lines and
  argparse option lists aside);
- every command function (``cmd_*``) at most 40 lines of code;
- no import cycle between hydro's modules (function-local imports count; imports under
  ``if TYPE_CHECKING:`` do not).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
from conftest import ROOT

PACKAGE = ROOT / "hydro"
MAX_FUNCTION_LINES = 80
MAX_COMMAND_LINES = 40
#: Calls whose lines are an argparse option list (not counted).
OPTION_CALLS = {"add_argument", "add_argument_group", "add_mutually_exclusive_group"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources() -> dict[str, tuple[Path, ast.Module, list[str]]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        found[module_name(path)] = (path, ast.parse(text), text.splitlines())
    return found


def _docstring_lines(node) -> set[int]:
    body = getattr(node, "body", [])
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return set(range(body[0].lineno, body[0].end_lineno + 1))
    return set()


def code_lines(function, lines: list[str]) -> int:
    """Lines of code of ``function``: no docstrings, comments, blanks or option lists."""
    skipped = set()
    for node in ast.walk(function):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            skipped |= _docstring_lines(node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in OPTION_CALLS
        ):
            skipped |= set(range(node.lineno, node.end_lineno + 1))
    count = 0
    for number in range(function.lineno, function.end_lineno + 1):
        text = lines[number - 1].strip()
        if number not in skipped and text and not text.startswith("#"):
            count += 1
    return count


def long_functions(limit_for) -> list[str]:
    found = []
    for name, (_, tree, lines) in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = code_lines(node, lines)
                if n > limit_for(node.name):
                    found.append(f"{name}.{node.name} (line {node.lineno}): {n} lines of code")
    return found


def _type_checking_block(node) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.Module):
    """Every import statement of a module, at any depth, outside ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                stack.extend(child.orelse)  # the else branch runs
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            stack.append(child)


def import_graph() -> nx.DiGraph:
    modules = sources()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, (path, tree, _) in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative import
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = []
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                while target and target not in modules:  # hydro.x.y attribute -> hydro.x
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph.add_edge(name, target)
    return graph


def test_no_function_over_80_lines_of_code():
    found = long_functions(lambda name: MAX_FUNCTION_LINES)
    assert not found, "functions over 80 lines of code:\n" + "\n".join(found)


def test_every_command_function_at_most_40_lines():
    found = [f for f in long_functions(lambda name: 10**9 if not name.startswith("cmd_") else
                                       MAX_COMMAND_LINES)]  # fmt: skip
    assert not found, "command functions over 40 lines of code:\n" + "\n".join(found)


def test_no_import_cycle_between_hydro_modules():
    graph = import_graph()
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_the_reader_sees_cycles_and_long_functions(tmp_path):
    """The checks above can fail: a planted cycle and a long function are found."""
    a = ast.parse("import hydro.b\ndef f():\n    from hydro import c\n")
    assert {getattr(n, "module", None) or n.names[0].name for n in _imports(a)} == {
        "hydro.b",
        "hydro",
    }
    hidden = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import hydro.x\n")
    assert [n for n in _imports(hidden) if getattr(n, "module", None) != "typing"] == []
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    tree = ast.parse(f'def g():\n    """Doc."""\n{body}\n')
    assert code_lines(tree.body[0], f'def g():\n    """Doc."""\n{body}\n'.splitlines()) == 82
