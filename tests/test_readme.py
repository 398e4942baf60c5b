"""Every `chipgap` command the README shows runs and succeeds, as written.

Commands are read from the README's fenced code blocks (lines starting ``chipgap``, with their
backslash continuations and quoted strings spanning lines, comments dropped), and run from the
repository's root, each output path (``-o``, ``--out`` and the sweep folder a query reads) moved
into a temporary folder. Left out, by rule: ``chipgap report`` (the report tests build it,
tests/report), ``chipgap serve`` (a server, tests/web), the large sweep (62 million layouts, on
8 workers or a Ray cluster), and commands that name a file of the reader's own (``my-...``,
``path/to/...``).
"""

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipgap.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
USER_FILES = re.compile(r"(^|\s)(my-|path/to/)")


def readme_commands() -> list[str]:
    commands, fenced, pending = [], False, ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced, pending = not fenced, ""
            continue
        if not fenced:
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        try:
            shlex.split(text, comments=True)
        except ValueError:                 # a quoted string goes on to the next line
            pending = text + " "
            continue
        pending = ""
        if text.startswith("chipgap "):
            commands.append(re.sub(r"\s+#.*$", "", text))
    return commands


ROOT = README.parent
LEFT_OUT = ("chipgap report", "chipgap serve", "chipgap sweep run examples/sweep-large.yaml")
COMMANDS = [c for c in readme_commands() if not c.startswith(LEFT_OUT) and not USER_FILES.search(c)]
SWEEPS = [c for c in COMMANDS if c.startswith("chipgap sweep")]


def _args(command: str, tmp: Path) -> list[str]:
    """The command's arguments, its output paths moved under ``tmp``."""
    args = shlex.split(command)[1:]
    for i, a in enumerate(args):
        if args[i - 1] in ("-o", "--out") or (i == 2 and args[:2] == ["sweep", "query"]):
            args[i] = str(tmp / a)
    return args


def test_the_readme_shows_commands():
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in SWEEPS])
def test_a_readme_command_runs(command, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, _args(command, tmp_path))
    assert result.exit_code == 0, f"{command}\n{result.output[-2000:]}"


def test_the_readme_sweep_runs_and_its_queries_answer(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert SWEEPS[0].startswith("chipgap sweep run") and len(SWEEPS) >= 3
    for command in SWEEPS:                 # the run first, then the queries of its folder
        result = CliRunner().invoke(app, _args(command, tmp_path))
        assert result.exit_code == 0, f"{command}\n{result.output[-2000:]}"


def test_the_accuracy_section_states_the_targets_of_the_targets_file(catalog):
    # the targets are data (model/targets.yaml) and do not move with the model: the README's
    # table quotes each one as the file states it
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## How accurate are the models?"):text.index("## Conventions")]
    for kind, t in catalog.all("target").items():
        assert f"**{kind}** (target {t.median_abs_error_pct:g}% / {t.p90_abs_error_pct:g}%)" in section
