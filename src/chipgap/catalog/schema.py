"""Typed records of the catalog: sources, companies, process nodes, chips, systems, workloads.

Each record is a frozen pydantic model that forbids unknown keys. Numbers are `Quantity`
objects (value or range, source, confidence). Units live in field names; every bandwidth is in
gigabytes per second (``_gbps`` = GB/s) and says its direction (``_unidir`` one way, ``_bidir``
both ways summed). A "chip" is one package as sold (an Ascend 910C is one chip of two dies).
"""

from __future__ import annotations

import datetime
import functools
import typing
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator,
                      model_validator)

from chipgap.catalog.quantity import (NonNegative, Positive, PositiveCount, PositiveQuantity, Quantity,
                                      RequiredCount, plausible)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=80)]
"""A lowercase id: letters, digits, '-' and '.' (``nvidia-h100-sxm``)."""
Year = Annotated[int, Field(strict=True, ge=1990, le=2040)]
Text = Annotated[str, StringConstraints(max_length=4000)]

PRECISIONS: dict[str, str] = {
    "fp64": "fp64_dense_tflops", "fp32": "fp32_dense_tflops", "tf32": "tf32_dense_tflops",
    "bf16": "bf16_dense_tflops", "fp16": "fp16_dense_tflops", "fp8": "fp8_dense_tflops",
    "int8": "int8_dense_tops", "fp4": "fp4_dense_tflops",
}
"""Precision name -> the chip field holding its dense peak (10^12 operations per second)."""

BIT_LENGTH: dict[str, int] = {"fp64": 64, "fp32": 32, "tf32": 32, "bf16": 16, "fp16": 16,
                              "fp8": 8, "int8": 8, "fp4": 4}
"""Bit length of each precision's multiply inputs (TF32 is stored in 32-bit registers)."""
BLOCK_SCALED_PEAKS: dict[str, str] = {"mxfp8": "mxfp8_dense_tflops", "nvfp4": "nvfp4_dense_tflops",
                                      "mxfp4": "mxfp4_dense_tflops"}
"""Block-scaled format -> the chip field holding its dense peak where the matrix units apply the
block scales themselves (a chip without the field does not run the format). Not in `PRECISIONS`:
they are the fp8 and fp4 units' rates again, which export metrics count once."""


@functools.cache
def quantity_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields of ``cls`` that hold a `Quantity` (records are static: cached)."""
    return tuple(name for name, f in cls.model_fields.items()
                 if f.annotation is Quantity or Quantity in typing.get_args(f.annotation))


class Record(BaseModel):
    """Base of every catalog record: frozen, unknown keys refused, quantity shorthand expanded.

    An entry may carry ``defaults: {source: ..., confidence: ...}``; every quantity of the entry
    that does not name its own source or confidence takes them from there. A bare number or a
    ``[low, high]`` pair is read as ``{value: ...}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    aliases: tuple[Annotated[str, StringConstraints(max_length=80)], ...] = ()
    notes: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_quantities(cls, data: Any) -> Any:
        return expand_quantities(cls, data)


def expand_quantities(cls: type[BaseModel], data: Any) -> Any:
    """Apply an entry's ``defaults`` and the bare-number shorthand to its quantity fields.

    Idempotent: an expanded entry comes back unchanged. The loader calls it per file, before a
    user's entry is merged over a bundled one, so each file's defaults apply to its own numbers.
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    defaults = data.pop("defaults", None) or {}
    if not isinstance(defaults, dict) or set(defaults) - {"source", "confidence"}:
        raise ValueError("'defaults' may hold only 'source' and 'confidence'")
    for name in quantity_fields(cls):
        raw = data.get(name)
        if isinstance(raw, (int, float, list)) and not isinstance(raw, bool):
            raw = {"value": raw}
        if isinstance(raw, dict):
            data[name] = {**defaults, **raw}
    return data


class Source(BaseModel):
    """A document that numbers cite: a datasheet, paper, analyst note, press report or law."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    title: Text
    url: Text | None = None
    publisher: Text | None = None
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] | None = None
    kind: Literal["datasheet", "paper", "analyst", "press", "government", "dataset", "vendor",
                  "code", "other"]
    notes: Text | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, v: Any) -> Any:
        """YAML reads ``2025`` as a number and ``2025-04-16`` as a date; keep both as text."""
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v.isoformat() if isinstance(v, datetime.date) else v


COMPANY_ROLES = ("designer", "foundry", "memory", "packaging", "cloud", "model-builder",
                 "system-vendor", "equipment", "cpu-vendor")


class Company(Record):
    """A firm in the chain: designer, foundry, memory maker, packager, cloud or model builder."""

    name: Text
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    roles: tuple[Literal[COMPANY_ROLES], ...] = Field(min_length=1)  # type: ignore[valid-type]
    source: tuple[Slug, ...] = Field(min_length=1)


class ProcessNode(Record):
    """A fab's process node (``tsmc-n7``, ``smic-n2``).

    ``wafer_price_usd`` is what a customer pays per processed wafer; ``d0_per_cm2`` the
    killer-defect density of a mature product on it (both usually estimates or rumours).
    """

    name: Text
    foundry: Slug
    transistor: Literal["planar", "finfet", "gaafet"]
    node_class_nm: Positive = None
    wafer_diameter_mm: Positive = None
    wafer_price_usd: Positive = None
    d0_per_cm2: Positive = None
    year: Year | None = None


class Supplier(BaseModel):
    """A company's part in making one chip (foundry, HBM, packaging, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company: Slug
    role: Literal[COMPANY_ROLES]  # type: ignore[valid-type]
    source: tuple[Slug, ...] = Field(min_length=1)
    note: Text | None = None


CHIP_RANGES: dict[str, tuple[float, float]] = {
    "compute_die_count": (1, 64), "devices_per_package": (1, 64),
    "compute_die_area_mm2": (1, 50_000), "io_die_area_mm2": (1, 50_000),
    "transistors_billion": (1e-3, 10_000),
    **{f: (1e-3, 1e6) for f in (*PRECISIONS.values(), *BLOCK_SCALED_PEAKS.values())},
    "memory_capacity_gib": (1e-3, 100_000), "memory_bw_gbps": (1e-3, 1e8), "hbm_stacks": (1, 64),
    "scaleup_bw_gbps_unidir": (1e-3, 1e7), "scaleup_bw_gbps_bidir": (2e-3, 2e7),
    "scaleout_bw_gbps_unidir": (1e-3, 1e5), "host_io_bw_gbps_bidir": (1e-3, 1e5),
    "tdp_w": (0.1, 100_000), "price_usd": (0, 1e8), "cores": (1, 1e7),
}
"""The range each chip quantity can physically take, for one package: wide enough for a
wafer-scale engine (Cerebras WSE-3: 46,225 mm2, 4 trillion transistors, 21 PB/s of on-chip
memory bandwidth, 23 kW) and a CPU socket with terabytes of DRAM, narrow enough to refuse a slip
of the exponent (the data README lists them)."""
SYSTEM_RANGES: dict[str, tuple[float, float]] = {
    "chip_count": (1, 1e6), "scaleup_domain_chips": (1, 1e6),
    "scaleup_bw_gbps_unidir": (1e-3, 1e7), "scaleout_bw_gbps_unidir": (1e-3, 1e5),
    "host_io_bw_gbps_bidir": (1e-3, 1e5), "power_kw": (1e-3, 1e7), "price_usd": (0, 1e11),
}
"""The range each system quantity can physically take (a million chips, 10 GW, $100 billion)."""


class Chip(Record):
    """One accelerator or CPU package, with its dense peaks, memory and links.

    Throughput fields are dense peaks (no structured sparsity) in 10^12 operations per second.
    ``compute_die_area_mm2`` is per compute die; ``io_die_area_mm2`` is the total of the other
    logic dies (I/O dies), so the logic area is ``count * compute area + io area``.
    Scale-up bandwidth may be given in either direction convention; the other is derived.
    """

    name: Text
    vendor: Slug
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    year: Year | None = None
    status: Literal["shipping", "announced", "rumoured"]
    kind: Literal["accelerator", "cpu"] = "accelerator"
    market: Literal["datacenter", "consumer", "workstation"] = "datacenter"
    default_system: Slug | None = None
    process_node: Slug | None = None
    suppliers: tuple[Supplier, ...] = ()

    compute_die_count: PositiveCount = None
    devices_per_package: PositiveCount = None
    compute_die_area_mm2: Positive = None
    io_die_area_mm2: Positive = None
    transistors_billion: Positive = None

    fp64_dense_tflops: Positive = None
    fp32_dense_tflops: Positive = None
    tf32_dense_tflops: Positive = None
    bf16_dense_tflops: Positive = None
    fp16_dense_tflops: Positive = None
    fp8_dense_tflops: Positive = None
    int8_dense_tops: Positive = None
    fp4_dense_tflops: Positive = None
    mxfp8_dense_tflops: Positive = None
    nvfp4_dense_tflops: Positive = None
    mxfp4_dense_tflops: Positive = None

    memory_type: Text | None = None
    memory_capacity_gib: Positive = None
    memory_bw_gbps: Positive = None
    hbm_stacks: PositiveCount = None

    scaleup_name: Text | None = None
    scaleup_bw_gbps_unidir: Positive = None
    scaleup_bw_gbps_bidir: Positive = None
    scaleout_bw_gbps_unidir: Positive = None
    host_io_bw_gbps_bidir: Positive = None

    tdp_w: Positive = None
    price_usd: NonNegative = None
    cores: PositiveCount = None

    @field_validator(*CHIP_RANGES, mode="after")
    @classmethod
    def _plausible(cls, q: Quantity | None, info: ValidationInfo) -> Quantity | None:
        return plausible(q, *CHIP_RANGES[info.field_name])

    @model_validator(mode="after")
    def _one_scaleup_convention(self) -> Chip:
        uni, bi = self.scaleup_bw_gbps_unidir, self.scaleup_bw_gbps_bidir
        if uni is not None and bi is not None:
            if abs(bi.point - 2 * uni.point) > 1e-6 * bi.point:
                raise ValueError(
                    f"scaleup_bw_gbps_bidir ({bi.point:g}) must be twice scaleup_bw_gbps_unidir "
                    f"({uni.point:g}); give one of them and the other is derived")
        elif bi is not None:
            object.__setattr__(self, "scaleup_bw_gbps_unidir", bi.scaled(0.5, "derived: bidir / 2"))
        elif uni is not None:
            object.__setattr__(self, "scaleup_bw_gbps_bidir", uni.scaled(2.0, "derived: 2 x unidir"))
        return self

    def peak_tflops(self, precision: str) -> Quantity | None:
        """The dense peak of ``precision`` ('bf16', 'fp8', ...), or None when unknown."""
        return getattr(self, PRECISIONS[precision])


class System(Record):
    """A server, rack or superpod built from one kind of chip.

    ``scaleup_domain_chips`` is how many chips share the scale-up fabric (8 in an HGX, 72 in an
    NVL72, 384 in a CloudMatrix 384). Per-chip bandwidths default to the chip's own;
    ``host_io_bw_gbps_bidir`` is each chip's link to host memory as the system wires it (a GPU
    whose own PCIe generation its host CPUs do not reach, NVLink-C2C to a Grace CPU).
    ``power_kw`` is what its source counts, said by ``power_basis`` (``accelerators``: the chips
    alone; ``it``: the whole system's IT power, CPUs, switches and optics included; ``all-in``:
    with cooling and facility); `chipgap.analyses.systems.it_power_kw` turns each into IT power.
    ``price_basis`` says in words what ``price_usd`` buys (a server, a rack, a whole supernode).
    """

    name: Text
    vendor: Slug
    kind: Literal["server", "rack", "superpod"]
    chip: Slug
    chip_count: RequiredCount
    scaleup_domain_chips: RequiredCount
    scaleup_bw_gbps_unidir: Positive = None
    scaleout_bw_gbps_unidir: Positive = None
    host_io_bw_gbps_bidir: Positive = None
    power_kw: Positive = None
    power_basis: Literal["accelerators", "it", "all-in"] | None = None
    price_usd: NonNegative = None
    price_basis: Text | None = None
    host_cpu: Text | None = None
    year: Year | None = None

    @field_validator(*SYSTEM_RANGES, mode="after")
    @classmethod
    def _plausible(cls, q: Quantity | None, info: ValidationInfo) -> Quantity | None:
        return plausible(q, *SYSTEM_RANGES[info.field_name])

    @model_validator(mode="after")
    def _domain_fits(self) -> System:
        # A server may be one tray of a larger domain (an NVL72 compute tray); racks and pods not.
        if self.kind != "server" and \
                self.scaleup_domain_chips.bounds[1] > self.chip_count.bounds[1]:
            raise ValueError("scaleup_domain_chips cannot exceed chip_count")
        if self.power_kw is not None and self.power_basis is None:
            raise ValueError("power_kw needs power_basis: accelerators, it or all-in")
        return self


class WorkloadEntry(Record):
    """The catalog's index entry for an LLM architecture stored as a ``config.json`` file."""

    name: Text
    family: Text
    config: Annotated[str, StringConstraints(max_length=300)]
    source: tuple[Slug, ...] = Field(min_length=1)
    year: Year | None = None
    params_total_billion: Positive = None
    params_active_billion: Positive = None


class Assumption(Record):
    """A sourced number the models use as a default (an electricity price, a PUE, a service
    life), overridable by the caller and by a user catalog like any other entry."""

    quantity: PositiveQuantity
    unit: Text
