"""``chipgap sweep run SPEC --out DIR`` and ``chipgap sweep query DIR SQL``: large grids in chunks."""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from chipgap.cli import get_catalog
from chipgap.cli.output import Format, err_console, num, print_csv, print_json, print_table
from chipgap.sweep import query, run_sweep, store

app = typer.Typer(no_args_is_help=True, add_completion=False)
Opt, Arg = typer.Option, typer.Argument


class Backend(str, Enum):
    local = "local"
    ray = "ray"


@app.command("run")
def run(
    ctx: typer.Context,
    spec: Annotated[Path, Arg(metavar="SPEC", help="Sweep spec (YAML): kind, chips, models, counts, "
                                                   "shapes, layouts, samples. See examples/sweep-small.yaml.")],
    out: Annotated[Path, Opt("--out", "-o", help="Folder for the Parquet chunks and manifest.json "
                                                 "(new, empty, or this sweep's: it resumes).")],
    backend: Annotated[Backend, Opt(help="local (this machine) or ray (the chipgap\\[ray] "
                                         "extra).")] = Backend.local,
    workers: Annotated[int, Opt("--workers", "-w", min=1, max=1024, help="Local: processes (1 = in this "
                                "one). Ray: CPUs of the local Ray it starts.")] = 1,
    address: Annotated[str | None, Opt(help="Ray cluster to join (auto, ray://host:10001); "
                                            "default: a local Ray.")] = None,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format of the summary.")] = Format.table,
) -> None:
    """Run a sweep: every configuration x sample of SPEC, written in chunks to DIR.

    Each chunk is one Parquet file, written atomically; manifest.json records the spec, the content
    hashes of the catalog and config.json files, and each chunk done with its checksum.
    Re-running the same command resumes an interrupted sweep: chunks already written (and whole) are
    skipped. A different spec or catalog into the same DIR is refused, naming what differs; one run
    writes a DIR at a time. Query the rows with 'chipgap sweep query DIR SQL'.
    """
    if address and backend is not Backend.ray:
        raise typer.BadParameter("--address needs --backend ray", param_hint="--address")
    catalog_dir = (ctx.find_root().obj or {}).get("catalog_dir")
    try:
        s = run_sweep(spec, out, backend.value, workers, address, catalog_dir, get_catalog(ctx),
                      progress=err_console.is_terminal)
    except KeyboardInterrupt:
        err_console.print("interrupted: the chunks written are kept; run the same command to resume")
        raise typer.Exit(130) from None
    for note in s.notes:
        err_console.print(f"note: {escape(note)}", soft_wrap=True)
    if fmt is Format.json:
        return print_json({"spec": str(spec), **s.to_dict()})
    if fmt is Format.csv:
        return print_csv(pd.DataFrame([s.to_dict() | {"notes": "; ".join(s.notes)}]))
    err_console.print(f"{s.done_now:,} chunks written, {s.done_before:,} already done: "
                      f"{s.chunks:,} chunks, {s.rows:,} rows in {escape(s.out)} ({s.seconds:.1f} s)")


@app.command("query")
def query_cmd(
    folder: Annotated[Path, Arg(metavar="DIR", help="A sweep folder (from 'chipgap sweep run').")],
    sql: Annotated[str, Arg(help="DuckDB SQL over the view 'results' (one row per configuration "
                                 "x sample), e.g. \"SELECT chip, min(usd_per_million_tokens) "
                                 "FROM results WHERE valid GROUP BY chip\".")],
    limit: Annotated[int, Opt(min=1, help="Rows shown in the table (json and csv print all).")] = 100,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Query a sweep's rows with SQL (DuckDB); the rows are the view named 'results'.

    One read-only statement (SELECT or EXPLAIN); the query can read the sweep's folder only.

    Columns: the inputs (chip, system, model, chips, seq_len and global_batch or input_len, output_len,
    cached_len and requests (0: steady state),
    the layout, batch, sample; sample -1 is the point estimate),
    the outputs (tokens_per_s, mfu, step_time_s, memory_gb, ttft_ms, tpot_ms, ...),
    fits, valid, reason, usd_per_chip_hour and usd_per_million_tokens (NaN where not valid or unpriced).
    An unfinished sweep is queried as far as it got.
    """
    df = query(folder, sql)
    m = store.read_manifest(folder)
    written = len(store.listed_chunks(m, folder))
    if written < m.get("chunks", 0):
        err_console.print(f"note: {written:,} of {m['chunks']:,} chunks written; the sweep is unfinished")
    if fmt is Format.json:
        return print_json({"dir": str(folder), "sql": sql, "rows": df.to_dict("records")})
    if fmt is Format.csv:
        return print_csv(df)
    rows = [[_cell(v) for v in r] for r in df.head(limit).itertuples(index=False)]
    caption = f"first {limit:,} of {len(df):,} rows (--limit)" if len(df) > limit else None
    numeric = [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in df.dtypes]
    first = next((i for i in range(len(numeric)) if all(numeric[i:])), len(numeric))
    print_table(rows, [str(c) for c in df.columns], caption=caption, numeric_from=first)


def _cell(v: object) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else num(v)
    return "" if v is None else str(v)
