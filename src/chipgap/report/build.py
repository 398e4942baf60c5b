"""Building the report: every section computed through the Python API, then the claims ledger.

>>> from chipgap.report.build import SECTION_BUILDERS
>>> [key for key, _ in SECTION_BUILDERS][:3]
['spec-gap', 'export-controls', 'workloads']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chipgap import __version__
from chipgap.analyses.export import export_overview
from chipgap.analyses.market import cloud_access, market_claims
from chipgap.analyses.scenario import scenario_catalog
from chipgap.analyses.supply import supply_overview
from chipgap.catalog.load import load_catalog
from chipgap.catalog.scenario import read_scenario
from chipgap.report import sections_chips as chips
from chipgap.report import sections_claims, sections_export, sections_supply
from chipgap.report import sections_market as market
from chipgap.report.claims import ledger
from chipgap.report.context import Context
from chipgap.report.document import Report, Section

SECTION_BUILDERS: list[tuple[str, Callable[[Context], Section | None]]] = [
    ("spec-gap", chips.spec_gap),
    ("export-controls", lambda ctx: sections_export.export_controls(
        ctx.catalog, export_overview(ctx.catalog, ctx.samples, ctx.seed))),
    ("workloads", chips.workloads),
    ("clustering", chips.clustering),
    ("ascend-910d", market.ascend_910d),
    ("unit-cost", market.unit_cost),
    ("tco", market.tco),
    ("supply", lambda ctx: sections_supply.supply_section(
        ctx.catalog, supply_overview(ctx.catalog, samples=ctx.samples, seed=ctx.seed))),
    ("cpus", chips.cpus),
    ("exposure", market.exposure),
    ("market-claims", lambda ctx: sections_claims.market_claims_section(market_claims(ctx.catalog),
                                                                        cloud_access(ctx.catalog))),
    ("accuracy", chips.model_accuracy),
    ("scenario", market.user_scenario),
]
"""Sections in report order; workloads come before clustering and TCO, which reuse its results."""


def build_report(catalog_dir: str | Path | None = None, scenario: str | Path | None = None,
                 samples: int = 2000, seed: int = 0,
                 progress: Callable[[str], None] | None = None) -> Report:
    """Compute every section of the report.

    Parameters
    ----------
    catalog_dir : str or Path, optional
        A user catalog folder read on top of the bundled one.
    scenario : str or Path, optional
        A scenario file (or bundled name) whose catalog changes apply to the whole report and
        whose questions get a section of their own.
    samples, seed : int
        Monte-Carlo draws of every ranged input, and their seed (same seed, same report).
    progress : callable, optional
        Called with each section's key before it is computed.

    Returns
    -------
    Report
    """
    sc = read_scenario(scenario) if scenario is not None else None
    catalog = scenario_catalog(sc, catalog_dir) if sc else load_catalog(catalog_dir)
    ctx = Context(catalog, samples, seed, sc, catalog_dir)
    sections = []
    for key, builder in SECTION_BUILDERS:
        if progress:
            progress(key)
        section = builder(ctx)
        if section is not None:
            sections.append(section)
    settings = {"samples": samples, "seed": seed, "chipgap": __version__,
                "catalog": str(catalog_dir) if catalog_dir else "bundled",
                "scenario": sc.file if sc else None}
    subtitle = (f"chipgap {__version__}; {samples:,} Monte-Carlo samples, seed {seed}; catalog: "
                f"{settings['catalog']}" + (f"; scenario: {sc.name}" if sc else ""))
    return Report("The AI-chip gap, computed", subtitle, sections, ledger(sections),
                  catalog.all("source"), settings)
