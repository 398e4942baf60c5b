"""Building the report: `chipgap.analyses.report_model.build_model` computes everything once,
then each section renders its part and the claims ledger comes with the model.

>>> from chipgap.report.build import SECTIONS
>>> [key for key, _ in SECTIONS][:3]
['spec-gap', 'export-controls', 'workloads']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chipgap import __version__
from chipgap.analyses.report_model import STEPS, ReportModel, build_model
from chipgap.report import sections_chips as chips
from chipgap.report import sections_claims, sections_export, sections_supply
from chipgap.report import sections_market as market
from chipgap.report.document import Report, Section

SECTIONS: list[tuple[str, Callable[[ReportModel], Section | None]]] = [
    ("spec-gap", chips.spec_gap),
    ("export-controls", lambda m: sections_export.export_controls(m.catalog, m.export)),
    ("workloads", chips.workloads),
    ("clustering", chips.clustering),
    ("ascend-910d", market.ascend_910d),
    ("unit-cost", market.unit_cost),
    ("tco", market.tco),
    ("supply", lambda m: sections_supply.supply_section(m.catalog, m.supply)),
    ("cpus", chips.cpus),
    ("exposure", market.exposure),
    ("market-claims", lambda m: sections_claims.market_claims_section(m.market, m.cloud)),
    ("sensitivity", market.sensitivity),
    ("accuracy", chips.model_accuracy),
    ("scenario", market.user_scenario),
]
"""Sections in report order, each rendering its part of the `ReportModel`."""
STAGES = (*STEPS, "sections")
"""What `build_report` reports progress on: the model's steps, then rendering."""


def render_sections(m: ReportModel) -> list[Section]:
    """Every section of the report, rendered from ``m`` (sections with nothing to show left out)."""
    return [s for s in (render(m) for _, render in SECTIONS) if s is not None]


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
        Called with each of `STAGES` before it is computed.

    Returns
    -------
    Report
    """
    m = build_model(catalog_dir, scenario, samples, seed, progress)
    if progress:
        progress("sections")
    sections = render_sections(m)
    settings = {"samples": samples, "seed": seed, "chipgap": __version__,
                "catalog": str(catalog_dir) if catalog_dir else "bundled",
                "scenario": m.scenario.file if m.scenario else None}
    subtitle = (f"chipgap {__version__}; {samples:,} Monte-Carlo samples, seed {seed}; catalog: "
                f"{settings['catalog']}" + (f"; scenario: {m.scenario.name}" if m.scenario else ""))
    return Report("The AI-chip gap, computed", subtitle, sections, m.claims, m.catalog.all("source"), settings,
                  m.data_date, m.newest)
