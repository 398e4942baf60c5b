"""The ``chipgap`` command line: a thin view over the Python API.

Errors chipgap raises on purpose (`ChipgapError`) print one line to stderr and exit with status
2; they never show a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer.core import TyperGroup

from chipgap import __version__
from chipgap.catalog import Catalog, load_catalog
from chipgap.cli.output import err_console
from chipgap.errors import ChipgapError


class _Group(TyperGroup):
    """Turns a `ChipgapError` anywhere below into one line on stderr and exit status 2."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201
        try:
            return super().invoke(ctx)
        except ChipgapError as e:
            err_console.print(f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(2) from None


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


def main() -> None:
    """Entry point of the ``chipgap`` script."""
    app()
