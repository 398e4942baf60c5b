"""``chipgap claims``: the article's claims checked against sourced figures."""

from __future__ import annotations

from typing import Annotated

import typer

from chipgap.analyses.market import market_claims
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, print_csv, print_json, print_table

app = typer.Typer(no_args_is_help=True)


@app.command("market")
def market(ctx: typer.Context,
           fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table) -> None:
    """The article's financial and corporate claims: what the sources say, as of when, and a
    verdict (supported, contradicted, not checkable) from the tests each claim states."""
    df = market_claims(get_catalog(ctx))
    if fmt is Format.json:
        return print_json(df.to_dict("records"))
    if fmt is Format.csv:
        return print_csv(df.assign(tests=df.tests.map(lambda ts: "; ".join(f"{t['outcome']}: {t['detail']}" for t in ts)),
                                   figures=df.figures.map(len), companies=df.companies.str.join(" "),
                                   source=df.source.str.join(" ")))
    print_table([[r.claim, r.verdict, r.as_of, "; ".join(f"{t['says']}: {t['outcome']}" for t in r.tests)
                  or "no test: no sourced figure"] for r in df.itertuples()],
                ["claim", "verdict", "as of", "tests"], numeric_from=99,
                title="The article's market claims against the sources",
                caption="supported: every test holds; contradicted: one fails; not checkable: a figure a test "
                        "needs has no source. Figures, sources and each test's numbers: --format json")
