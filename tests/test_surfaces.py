"""Surfaces render, never compute: no module of the report or the CLI imports the models, and
every CLI command is parse, one API call, render (at most 30 lines)."""

import ast
import inspect
import textwrap
from pathlib import Path

import chipgap
from chipgap.cli import app

PACKAGE = Path(chipgap.__file__).parent
MAX_COMMAND_LINES = 30


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_report_and_cli_never_import_the_models():
    for folder in ("report", "cli", "plots"):
        for path in (PACKAGE / folder).glob("*.py"):
            bad = sorted(n for n in _imports(path) if n == "chipgap.models" or n.startswith("chipgap.models."))
            assert not bad, f"{folder}/{path.name} imports {bad}"


def _commands(typer_app):
    for info in typer_app.registered_commands:
        yield info.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance)


def test_every_cli_command_is_short():
    for fn in _commands(app):
        fn = inspect.unwrap(fn)
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        body = tree.body[0].body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]         # the docstring is the help text
        lines = body[-1].end_lineno - body[0].lineno + 1
        assert lines <= MAX_COMMAND_LINES, f"{fn.__module__}.{fn.__name__}: {lines} lines"
