"""Compute-supply scenarios: production lines, the capacities that may bind them, and imports.

One entry per scenario (a year and a set of assumptions). A domestic production line is a chip
(or a designer's line whose chip the catalog lacks) with the volume the sources report for it,
``chips_per_year``, or, as a capacity-driven line, an allocation of ``wafers_per_year``. The
inputs every line draws on are capacities sourced apart from the volumes:

- ``wafer_capacity``: advanced-node wafers of a foundry available in the year (lines whose chip
  is made on one of its ``nodes`` draw on it);
- ``die_bank``: compute dies made elsewhere before a ban (the TSMC-made Ascend dies), drawn
  before any wafer by the lines of the chips it lists;
- HBM stacks: ``hbm_stockpile_stacks`` (imported before the December 2024 rule) plus
  ``hbm_domestic_stacks`` (made in the country in the year), or one ``hbm_stacks`` pool;
- ``packaging_chips``: CoWoS-class packages the country can assemble.

``carry_from`` names the previous year's scenario: the die bank and HBM stockpile at the start
of this year are what that scenario left, computed, not restated. Imports are lines of their own.
Published estimates of the same quantities are ``supply_estimates`` entries, set beside the
model's output.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipgap.catalog.quantity import Fraction, NonNegative, PositiveQuantity, Quantity
from chipgap.catalog.schema import Record, Slug, Text, Year


class ProductionLine(BaseModel):
    """One chip made in the scenario's year, by volume or by wafer allocation.

    ``chip`` names a catalog chip; a line whose chip the catalog lacks names its ``designer``
    (a company) and a ``name`` instead, and then takes part in no capacity it cannot measure.
    ``wafer_access`` is the share of its wafer need the line can get (1; a foundry or node shock
    lowers it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    chip: Slug | None = None
    designer: Slug | None = None
    name: Text | None = None
    chips_per_year: NonNegative = None
    wafers_per_year: Quantity | None = None
    die_yield: Fraction = None
    wafer_access: Annotated[float, Field(strict=False, ge=0, le=1)] = 1.0
    note: Text | None = None

    @model_validator(mode="after")
    def _one_volume(self) -> ProductionLine:
        if (self.chips_per_year is None) == (self.wafers_per_year is None):
            raise ValueError("give a line either chips_per_year (a sourced volume) or wafers_per_year "
                             "(a wafer allocation)")
        if self.chip is None and (self.designer is None or self.name is None):
            raise ValueError("a line without a catalog chip needs a designer and a name")
        if self.wafers_per_year is not None and (self.chip is None or self.wafers_per_year.bounds[0] < 0):
            raise ValueError("wafers_per_year needs a catalog chip and zero or more wafers")
        return self

    @property
    def label(self) -> str:
        """The line's name in tables: its chip id, or its name."""
        return self.chip or self.name


class Import(BaseModel):
    """Foreign chips delivered in the year (licensed or otherwise)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chip: Slug
    units: PositiveQuantity
    note: Text | None = None


class WaferCapacity(BaseModel):
    """Advanced-node wafers of one foundry in the year, shared by the lines made on its nodes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    foundry: Slug
    nodes: tuple[Slug, ...] = Field(min_length=1)
    wafers_per_year: PositiveQuantity
    note: Text | None = None


class DieBank(BaseModel):
    """Compute dies made before a ban and held for later packaging.

    ``dies`` is the bank at the start of the year; leave it out with the scenario's
    ``carry_from`` to start from what the previous year left.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    foundry: Slug
    chips: tuple[Slug, ...] = Field(min_length=1)
    dies: NonNegative = None
    note: Text | None = None


class SupplyScenario(Record):
    """A year's AI-chip supply for one country under stated assumptions (see the module)."""

    name: Text
    country: str
    year: Year
    lines: tuple[ProductionLine, ...] = Field(min_length=1)
    carry_from: Slug | None = None
    wafer_capacity: WaferCapacity | None = None
    die_bank: DieBank | None = None
    hbm_stacks: NonNegative = None
    hbm_stockpile_stacks: NonNegative = None
    hbm_domestic_stacks: NonNegative = None
    packaging_chips: NonNegative = None
    imports: tuple[Import, ...] = ()
    source: tuple[Slug, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_hbm_form(self) -> SupplyScenario:
        if self.hbm_stacks is not None and (self.hbm_stockpile_stacks is not None
                                            or self.hbm_domestic_stacks is not None):
            raise ValueError("give hbm_stacks (one pool) or hbm_stockpile_stacks / hbm_domestic_stacks, not both")
        if self.die_bank is not None and self.die_bank.dies is None and self.carry_from is None:
            raise ValueError("die_bank.dies is needed unless carry_from names the previous year's scenario")
        return self


class SupplyEstimate(Record):
    """A published estimate of a year's AI-chip output or shipments, to set beside the model's.

    ``scope`` is what it counts: every domestic line (``domestic``), the lines of ``designers``
    (company ids) or of ``chips``, or the domestic share of all accelerators
    (``domestic_share``, a fraction). ``comparator`` says when the source gives a bound
    ("more than 800,000": ``>``).
    """

    publisher: Text
    year: Year
    scope: Literal["domestic", "designers", "chips", "domestic_share"]
    designers: tuple[Slug, ...] = ()
    chips: tuple[Slug, ...] = ()
    basis: Literal["shipments", "production", "plan", "capacity", "deliveries", "share"]
    value: PositiveQuantity
    comparator: Literal["=", ">", ">=", "<", "<="] = "="
    source: tuple[Slug, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _scope_named(self) -> SupplyEstimate:
        if self.scope == "designers" and not self.designers or self.scope == "chips" and not self.chips:
            raise ValueError(f"scope '{self.scope}' needs a list of {self.scope}")
        return self
