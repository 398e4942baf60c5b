"""``chipgap report``: the main job, every question answered in one self-contained file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from chipgap.cli.output import err_console
from chipgap.limits import MAX_SEED
from chipgap.report.build import STAGES, build_report
from chipgap.report.render import check_report_path, write_report


def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="Where to write the report.")] = Path("report.html"),
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="html (one self-contained file) or md (Markdown, charts as PNG "
                                          "files in the folder NAME_files beside it).")] = "html",
    scenario: Annotated[str | None, typer.Option(
        help="A scenario file (or bundled name) whose catalog changes apply to the whole report.")] = None,
    catalog: Annotated[Path | None, typer.Option(
        "--catalog", file_okay=False, help="Folder of YAML read on top of the bundled catalog.")] = None,
    samples: Annotated[int, typer.Option(min=100, max=100_000, help="Monte-Carlo draws of ranged inputs.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the draws (same seed, same report).")] = 0,
    force: Annotated[bool, typer.Option(help="Replace an existing file that is not an unchanged chipgap "
                                              "report (chipgap's marker, with a matching hash, ends its own).")] = False,
) -> None:
    """Build the report: the spec gap, export controls, real workloads, clustering, the 910D
    scenario, unit cost, TCO, supply, CPUs and exposure, with a claims ledger and every
    source. The HTML opens offline and fetches nothing."""
    if fmt not in ("html", "md"):
        raise typer.BadParameter("must be html or md", param_hint="--format")
    if fmt == "md" and output == Path("report.html"):
        output = Path("report.md")
    check_report_path(output, fmt, force)  # before minutes of work, not after
    root = ctx.find_root().obj or {}
    catalog_dir = catalog or root.get("catalog_dir")
    start = time.perf_counter()
    with Progress(TextColumn("[bold]report[/]"), BarColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        task = bar.add_task("loading", total=len(STAGES))

        def step(key: str) -> None:
            bar.update(task, description=key, advance=0 if key == STAGES[0] else 1)

        rep = build_report(catalog_dir, scenario, samples, seed, progress=step)
        bar.update(task, completed=len(STAGES), description="writing")
        path = write_report(rep, output, fmt, force)
    err_console.print(f"wrote {escape(str(path))} ({len(rep.sections)} sections, {len(rep.claims)} claims, "
                      f"{len(rep.charts())} charts, {len(rep.cited())} sources) in "
                      f"{time.perf_counter() - start:.1f} s", soft_wrap=True)
