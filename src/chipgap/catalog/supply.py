"""Compute-supply scenarios: wafer starts, yields, HBM and packaging limits, and imports.

One entry per scenario (a year and a set of assumptions). Each domestic production line is a
chip made on a process node from an allocation of wafer starts; all lines share the scenario's
HBM stacks and advanced-packaging capacity. Imports are counted as their own lines.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chipgap.catalog.quantity import Fraction, NonNegative, PositiveQuantity
from chipgap.catalog.schema import Record, Slug, Text, Year


class ProductionLine(BaseModel):
    """Wafers allocated to one chip in the scenario's year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chip: Slug
    wafers_per_year: PositiveQuantity
    die_yield: Fraction = None
    note: Text | None = None


class Import(BaseModel):
    """Foreign chips delivered in the year (licensed or otherwise)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chip: Slug
    units: PositiveQuantity
    note: Text | None = None


class SupplyScenario(Record):
    """A year's AI-chip supply for one country under stated assumptions.

    ``hbm_stacks`` counts the stacks available to the domestic lines in the year (domestic
    output plus drawn-down stockpiles); ``packaging_chips`` the advanced packages (CoWoS-class)
    the country can assemble. Either left out means no limit is modelled for it.
    """

    name: Text
    country: str
    year: Year
    lines: tuple[ProductionLine, ...] = Field(min_length=1)
    hbm_stacks: NonNegative = None
    packaging_chips: NonNegative = None
    imports: tuple[Import, ...] = ()
    source: tuple[Slug, ...] = Field(min_length=1)
