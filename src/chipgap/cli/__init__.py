"""The ``chipgap`` command line: a thin view over the Python API.

One error path for every command: an error chipgap raises on purpose (`ChipgapError`), a bad
parameter (click's usage errors) and the library errors that absurd or unreadable input can
cause (a number too large, input nested too deep, memory exhausted by an absurd size, text that
is not UTF-8, a file that cannot be read or written, DuckDB, Arrow or Ray failing) are each
printed as one line on stderr naming the input, with exit status 2 and no traceback.

Every float parameter refuses NaN and infinities, and every integer parameter stays within 64
bits, whatever its declaration says (`checked`); declarations add the bounds that make sense.
"""

from __future__ import annotations

import functools
import math
import shlex
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from chipgap import __version__
from chipgap.catalog import Catalog, load_catalog
from chipgap.cli.output import err_console
from chipgap.errors import ChipgapError, one_line

INT64_MAX = 2**63 - 1
_ARGV = "chipgap.argv"
_LIBRARIES = ("duckdb", "pyarrow", "ray")


def _click_modules() -> list[Any]:
    """click, and the copy of it that recent typer versions carry (their errors are its own)."""
    mods = [click]
    try:
        from typer import _click as vendored  # typer >= 0.24
        mods.append(vendored)
    except ImportError:
        pass
    return mods


_USAGE = tuple(m.exceptions.UsageError for m in _click_modules())
_HELP = tuple(c for m in _click_modules() if isinstance(c := getattr(m.exceptions, "NoArgsIsHelpError", None), type))


def checked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` refusing a NaN or infinite float and an integer beyond 64 bits in any of its
    parameters, naming the option (click's and typer's ranges let NaN and infinity through)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    names = {}
    for name, hint in hints.items():
        # typer.Option("--name", ...) in Annotated keeps its first declaration as the default
        decls = [d for m in getattr(hint, "__metadata__", ())
                 for d in (getattr(m, "default", None), *(getattr(m, "param_decls", None) or ()))]
        longs = [d for d in decls if isinstance(d, str) and d.startswith("--")]
        names[name] = (longs or [f"--{name.replace('_', '-')}"])[0].split("/")[0]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for name, v in kwargs.items():
            bad = ((isinstance(v, float) and not math.isfinite(v))
                   or (isinstance(v, int) and not isinstance(v, bool) and not -INT64_MAX - 1 <= v <= INT64_MAX))
            if bad:
                raise typer.BadParameter(f"{v!r} is not a finite number of the size a quantity can have",
                                         param_hint=f"'{names.get(name, name)}'")
        return fn(*args, **kwargs)

    return wrapper


def _check_all(t: typer.Typer) -> None:
    """Wrap every command of ``t`` and of its sub-apps in `checked`."""
    for info in t.registered_commands:
        if info.callback is not None and not hasattr(info.callback, "__wrapped__"):
            info.callback = checked(info.callback)
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _check_all(group.typer_instance)


def _library_error(e: BaseException) -> str | None:
    """What a known library failure means for the user, or None for anything else (a bug)."""
    if isinstance(e, (OverflowError, FloatingPointError)):
        return f"a number is too large to compute with ({type(e).__name__}: {e}); give smaller sizes"
    if isinstance(e, RecursionError):
        return "the input nests too deeply to read"
    if isinstance(e, MemoryError):
        return "the sizes asked for need more memory than this machine has; give smaller sizes"
    if isinstance(e, UnicodeError):
        return f"a file or argument is not valid UTF-8 text ({e})"
    if isinstance(e, OSError) and not isinstance(e, BrokenPipeError):
        where = f" {e.filename}" if e.filename else ""
        return f"cannot read or write{where}: {e.strerror or e}"
    library = type(e).__module__.split(".")[0].lstrip("_")  # duckdb's errors live in '_duckdb'
    if library in _LIBRARIES:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"{library} failed: {text[:300]}"
    return None


def _path(ctx: Any) -> str:
    """'chipgap train': the command a context runs, under its installed name."""
    return " ".join(["chipgap", *(ctx.command_path.split()[1:] if ctx is not None else [])])


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(one_line(message))}", soft_wrap=True)
    return typer.Exit(2)


class _Group(TyperGroup):
    """The root group: turns errors anywhere below into one line on stderr and exit status 2."""

    def make_context(self, info_name, args, parent=None, **extra):  # noqa: ANN001, ANN201
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE as e:
            if isinstance(e, _HELP):
                raise
            raise _fail(f"{_path(e.ctx)}: {e.format_message()}") from None
        ctx.meta[_ARGV] = argv
        return ctx

    def invoke(self, ctx):  # noqa: ANN001, ANN201
        try:
            return super().invoke(ctx)
        except ChipgapError as e:
            raise _fail(str(e)) from None
        except _USAGE as e:
            if isinstance(e, _HELP):
                raise
            raise _fail(f"{_path(e.ctx)}: {e.format_message()}") from None
        except Exception as e:  # noqa: BLE001 - only the known library failures; the rest re-raised
            what = _library_error(e)
            if what is None:
                raise
            command = shlex.join(["chipgap", *ctx.meta.get(_ARGV, [])])
            raise _fail(f"{what} (in: {command[:300]})") from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False,
                  help="chipgap: sourced numbers on the AI-chip race (chips, export rules, "
                       "performance, cost, supply), with ranges instead of false precision.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chipgap {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    catalog: Annotated[Path | None, typer.Option(
        "--catalog", envvar="CHIPGAP_CATALOG", file_okay=False, dir_okay=True,
        help="Folder of YAML read on top of the bundled catalog (adds or overrides entries).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """chipgap: sourced numbers on the AI-chip race."""
    ctx.obj = {"catalog_dir": catalog}


def get_catalog(ctx: typer.Context) -> Catalog:
    """The catalog for this invocation (bundled data plus ``--catalog``), loaded once."""
    root_ctx = ctx.find_root()
    obj = root_ctx.obj if isinstance(root_ctx.obj, dict) else {}
    if "catalog" not in obj:
        obj["catalog"] = load_catalog(obj.get("catalog_dir"))
        root_ctx.obj = obj
    return obj["catalog"]


def _register() -> None:
    from chipgap.cli import (catalog_cmd, chain, chips, claims, econ, export, infer, models, report, scenario,
                             schema, serve, supply, sweep, systems, train)

    app.command("report", help=report.report.__doc__)(report.report)
    app.add_typer(chips.app, name="chips", help="Accelerators and CPUs: list, show, compare.")
    app.add_typer(systems.app, name="systems", help="Servers, racks and superpods.")
    app.add_typer(models.app, name="models", help="LLM architectures (workloads).")
    app.add_typer(export.app, name="export",
                  help="US export-control rules: classify chips, headroom, timelines, chart.")
    app.command("train", help=train.train.__doc__)(train.train)
    app.command("infer", help=infer.infer.__doc__)(infer.infer)
    app.command("supply", help=supply.supply_cmd.__doc__)(supply.supply_cmd)
    app.add_typer(econ.app, name="econ", help="Economics: dies per wafer, yield, unit cost.")
    app.add_typer(chain.app, name="chain", help="Supply chain: dependencies and shocks.")
    app.add_typer(claims.app, name="claims", help="The article's claims against the sources: market claims.")
    app.add_typer(catalog_cmd.app, name="catalog", help="Validate catalog folders.")
    app.add_typer(scenario.app, name="scenario",
                  help="Scenarios: sourced what-ifs (a rumoured chip, an HBM cut-off) with Monte-Carlo ranges.")
    app.add_typer(sweep.app, name="sweep", help="Big grids in chunks: 'run SPEC --out DIR', 'query DIR SQL'.")
    app.command("schema", help=schema.schema.__doc__)(schema.schema)
    app.command("serve", help=serve.serve.__doc__)(serve.serve)


_register()
_check_all(app)


def main() -> None:
    """Entry point of the ``chipgap`` script."""
    app()
