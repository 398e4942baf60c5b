"""Reading a sweep's results: the whole table as a DataFrame, or SQL over it with DuckDB.

DuckDB reads the chunk files in place (an in-memory database with a view ``results`` over the
chunk files the manifest lists as done), so a query over a sweep larger than memory streams it.
A chunk file the manifest does not list (a stray, a copy) is never read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from chipgap.errors import InputError
from chipgap.sweep import store

VIEW = "results"
READ_ONLY = ("SELECT", "EXPLAIN")


def _files(out: str | Path) -> list[Path]:
    """The chunk files the manifest lists as done (never a stray or copied one), each checked."""
    files = store.verified_chunks(out)
    if not files:
        raise InputError("DIR", "a sweep folder with at least one chunk written", str(out))
    return files


def read_results(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every row written so far, in row order (load only ``columns`` for a large sweep).

    Parameters
    ----------
    out : str or Path
        The sweep folder.
    columns : list of str, optional
        The columns to read (default: all).

    Returns
    -------
    DataFrame
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = _files(out)
    try:
        tables = [pq.read_table(f, columns=columns) for f in files]
    except (pa.ArrowException, KeyError) as e:
        raise InputError("DIR", f"a sweep folder whose chunks can be read ({str(e).splitlines()[0][:200]})",
                         str(out)) from None
    return pa.concat_tables(tables).to_pandas()


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` with DuckDB over the sweep's rows, which it sees as the view ``results``.

    Parameters
    ----------
    out : str or Path
        The sweep folder.
    sql : str
        A query, e.g. ``SELECT chip, min(usd_per_million_tokens) FROM results GROUP BY chip``.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        When ``out`` is not a sweep folder, the SQL is not one read-only statement, or it fails
        (DuckDB's message, one line). The query can read only the sweep's folder.
    """
    import duckdb

    files = [str(f) for f in _files(out)]
    con = duckdb.connect(":memory:")
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM read_parquet([{listing}])")
    # read-only and confined: the query may read the sweep's folder and nothing else, and write nothing
    folder = str(Path(out).resolve()).replace("'", "''")
    con.execute(f"SET allowed_directories = ['{folder}']")
    con.execute("SET enable_external_access = false")
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1 or statements[0].type.name not in READ_ONLY:
            raise InputError("SQL", "one SELECT (or EXPLAIN) statement over the view 'results'",
                             sql if len(sql) <= 80 else sql[:77] + "...")
        return con.execute(sql).df()
    except duckdb.Error as e:
        raise InputError("SQL", "a query DuckDB can run over the view 'results'",
                         str(e).splitlines()[0]) from None
    finally:
        con.close()
