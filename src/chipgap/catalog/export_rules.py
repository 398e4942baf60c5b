"""Export-control rule versions as data: parametric tests and non-parametric measures.

A rule version (``2022-10``, ``2023-10``, ...) states the controls in force from its effective
date. Its ``classifications`` are checked in order; each is an ECCN paragraph (``3A090.a``)
caught by any of its ``prongs``, and a prong holds when all of its conditions hold for a chip of
a market the prong applies to. Measures that are not thresholds (a named list of parts, a fee, a
country cap) are ``measures`` and say so.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chipgap.catalog.quantity import Number, Quantity
from chipgap.catalog.schema import Record, Slug, Text

Metric = Literal["tpp", "performance_density", "io_bw_gbps_bidir", "memory_bw_gbps",
                 "scaleup_bw_gbps_bidir"]
"""What a threshold is compared with. tpp: 2 x MacTOPS x bit length (dense, whole package);
performance_density: tpp per mm2 of applicable (non-planar logic) die area;
io_bw_gbps_bidir: aggregate bidirectional transfer rate to other ICs (memory excluded), GB/s."""

METRIC_UNITS = {"tpp": "TPP", "performance_density": "TPP/mm2", "io_bw_gbps_bidir": "GB/s",
                "memory_bw_gbps": "GB/s", "scaleup_bw_gbps_bidir": "GB/s"}
Market = Literal["datacenter", "consumer", "workstation"]
Review = Literal["denial", "case-by-case", "notification", "licence"]
"""How an export to China or Macau is treated: a licence reviewed with a presumption of denial, a
licence reviewed case by case, no licence but a prior notification to BIS (License Exception NAC),
or a licence required whose review policy the texts read do not state."""
DateText = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


def _date_text(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime.date) else v


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Condition(_Strict):
    """``metric op threshold``, e.g. tpp >= 4800."""

    metric: Metric
    op: Literal["ge", "gt", "le", "lt"]
    threshold: Number = Field(ge=0)


class Prong(_Strict):
    """One way to be caught: every condition holds, for a chip of one of ``markets``."""

    id: Annotated[str, StringConstraints(max_length=40)]
    all_of: tuple[Condition, ...] = Field(min_length=1)
    markets: tuple[Market, ...] = ("datacenter", "consumer", "workstation")
    note: Text | None = None


class ReviewByMarket(_Strict):
    """The treatment of an export to China of an item in a classification, by the item's market."""

    datacenter: Review | None = None
    consumer: Review | None = None
    workstation: Review | None = None


class Classification(_Strict):
    """An ECCN paragraph and the prongs that put a chip in it.

    ``review_china`` says, per market, how an export of such an item to China is treated (the
    ``effect`` and ``licence_exception`` texts in structured form); a market left out reads as
    ``licence`` (required, review policy not stated).
    """

    eccn: Annotated[str, StringConstraints(max_length=40)]
    prongs: tuple[Prong, ...] = Field(min_length=1)
    effect: Text
    licence_exception: Text | None = None
    review_china: ReviewByMarket | None = None


class Measure(_Strict):
    """A control that is not a parametric threshold, modelled as what it is.

    kind ``named-parts``: a licence requirement or ban on listed parts (``parts``);
    ``fee``: a share of revenue paid on listed parts (``percent``);
    ``country-cap``: a TPP quota per country or consignee (``tpp_cap``);
    ``guidance``: an official statement with no threshold.

    A measure covers the chips in ``parts`` and, where it is written parametrically, any chip
    one of its ``covers`` prongs catches (limited to chips classified under one of ``eccns``
    when given). ``review`` is the treatment it sets for the chips it covers (91 FR 1684's
    case-by-case review of H200-class chips, for instance).
    """

    kind: Literal["named-parts", "fee", "country-cap", "guidance"]
    name: Text
    parts: tuple[Slug, ...] = ()
    covers: tuple[Prong, ...] = ()
    eccns: tuple[Annotated[str, StringConstraints(max_length=40)], ...] = ()
    review: Review | None = None
    effect: Text
    percent: Quantity | None = None
    tpp_cap: Quantity | None = None
    source: tuple[Slug, ...] = Field(min_length=1)
    note: Text | None = None


class ExportRule(Record):
    """One version of the US rules on advanced computing ICs, named by its effective month."""

    id: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
    name: Text
    citation: Text
    published: DateText | None = None
    effective: DateText
    status: Literal["in-force", "superseded", "rescinded"]
    ended: DateText | None = None
    destinations: Text
    classifications: tuple[Classification, ...] = ()
    measures: tuple[Measure, ...] = ()
    source: tuple[Slug, ...] = Field(min_length=1)

    _dates = field_validator("published", "effective", "ended", mode="before")(_date_text)
