"""Inputs of a chip's unit cost: yields reported for it, memory and packaging prices.

One ``chip_costs`` entry per chip. Wafer price and defect density default to the chip's
process node; an entry may override them with figures reported for that chip.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chipgap.catalog.quantity import Fraction, NonNegative, Positive, PositiveQuantity
from chipgap.catalog.schema import Record, Slug, Text

DateText = Annotated[str, StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]


class YieldReport(BaseModel):
    """A yield someone reported for a chip at a date, what it counts, and whether it was
    achieved (``reported``) or aimed at (``target``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: DateText
    value: PositiveQuantity
    basis: Literal["die", "package", "unspecified"]
    kind: Literal["reported", "target"] = "reported"
    note: Text | None = None


class ChipCost(Record):
    """What goes into one packaged chip beyond its dies.

    Attributes
    ----------
    chip : the catalog chip these inputs are for.
    wafer_price_usd, d0_per_cm2 : override the process node's, where reported for this chip.
    yields : reported yields, dated, with their basis (per die, per package, or unstated).
    hbm_price_usd_per_gb : price of the chip's memory per GB.
    packaging_usd : interposer/substrate and assembly per package (CoWoS-class or otherwise).
    test_usd : wafer sort and final test per package.
    assembly_yield : fraction of assembled packages that work (known-good dies going in).
    other_usd : the rest of the bill of materials of the module as sold (board, power stages).
    negbin_alpha : defect-clustering parameter for the negative-binomial yield model.
    """

    chip: Slug
    wafer_price_usd: Positive = None
    d0_per_cm2: Positive = None
    yields: tuple[YieldReport, ...] = ()
    hbm_price_usd_per_gb: NonNegative = None
    packaging_usd: NonNegative = None
    test_usd: NonNegative = None
    assembly_yield: Fraction = None
    other_usd: NonNegative = None
    negbin_alpha: Positive = None
    source: tuple[Slug, ...] = Field(default=(), description="sources of the entry as a whole")
