"""Training performance on catalog hardware: one layout, every layout, time and chips needed.

Builds `Hardware` from a chip and the system it runs in, layout arrays from a grid of every
valid parallel split, calls `chipgap.models.training.train_step` once, and returns tidy tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.schema import PRECISIONS
from chipgap.catalog.workload import Workload, load_workload
from chipgap.errors import InputError
from chipgap.limits import MAX_CHIPS, MAX_GLOBAL_BATCH, MAX_RATE, MAX_SEQ_LEN
from chipgap.models.calibration import efficiency_for
from chipgap.models.sampling import Draw, point
from chipgap.models.training import REASONS, RECOMPUTE, Efficiency, Hardware, Job, train_step_blocked
from chipgap.text import reason_text

GB_PER_GIB = 2**30 / 1e9
"""A memory maker's "GB" (the catalog's GiB) in the 10^9-byte GB the models compute in."""
LAYOUT_KEYS = ("tp", "pp", "dp", "cp", "ep", "vpp", "mbs", "zero", "recompute")
RESULT_KEYS = ("step_time_s", "tokens_per_s", "tflops_per_chip", "mfu", "hfu", "memory_gb", "fits")
BREAKDOWN_KEYS = ("compute_s", "bubble_s", "tp_comm_s", "cp_comm_s", "ep_comm_s", "pp_comm_s",
                  "dp_exposed_s", "optimizer_s")
MEMORY_KEYS = ("mem_weights_gb", "mem_grads_gb", "mem_optimizer_gb", "mem_activations_gb",
               "mem_logits_gb")


@dataclass(frozen=True)
class Setup:
    """Everything fixed for one training question: job, hardware and efficiency."""

    job: Job
    hardware: Hardware
    efficiency: Efficiency
    chip: str
    system: str | None
    efficiency_basis: str
    devices: int = 1
    """Devices per chip: the job, layouts and hardware count devices (an Ascend 910C package
    is two), results per chip count packages (see `to_chip_units`)."""
    scaleout_gbps: float | None = None
    """The scale-out bandwidth the question gave in place of the catalog's, if any."""


PER_DEVICE_KEYS = ("tflops_per_chip", "memory_gb", "mem_weights_gb", "mem_grads_gb", "mem_optimizer_gb",
                   "mem_activations_gb", "mem_logits_gb")


def devices_per_chip(catalog: Catalog, chip: str) -> int:
    """How many devices software sees in one package of ``chip`` (1 unless the catalog says)."""
    q = catalog.chip(chip).devices_per_package
    return int(round(q.point)) if q is not None else 1


def to_chip_units(out: Mapping[str, Any], devices: int) -> dict[str, Any]:
    """`train_step` results per device turned into results per chip (package)."""
    return {k: (v * devices if k in PER_DEVICE_KEYS else v) for k, v in out.items()}


def resolve_workload(catalog: Catalog, model: str) -> Workload:
    """A catalog workload by id or alias, or any ``config.json`` by path."""
    if model.endswith(".json"):
        return load_workload(model)
    return catalog.workload(model)


def hardware(catalog: Catalog, chip: str, system: str | None = None,
             scaleout_gbps: float | None = None,
             memory_gb: float | None = None,
             require_compute: bool = True,
             draw: Draw = point, eight_bit: str = "fp8") -> tuple[Hardware, str | None]:
    """`Hardware` for ``chip`` in ``system`` (default: the chip's usual one).

    ``scaleout_gbps`` and ``memory_gb`` override the catalog (a cluster's NICs; a CPU's DRAM, in
    10^9-byte GB). The catalog's capacity counts GiB, as memory makers do; `Hardware` holds GB.
    With ``require_compute=False`` a chip without a bf16 peak gets its fp32 peak, or NaN
    (compute unknown: only memory-bound times can be computed). ``draw`` turns each catalog
    quantity into a number: the point estimate by default, or a `chipgap.models.sampling.Sampler`
    for Monte-Carlo samples (every field then has shape ``(n,)``; the scale-up domain, a
    count, stays its point value). The 8-bit peak (`Hardware.peak_fp8_tflops`) is the chip's
    ``eight_bit`` peak ('fp8' or 'int8'), or its bf16 peak when it has no such units: never
    another format's (an A100's int8 rate is no fp8 rate).

    Raises
    ------
    InputError
        When the chip lacks a spec the model needs (bf16 peak, memory) or the system holds
        another chip.
    """
    c = catalog.chip(chip)
    sys_rec = catalog.system(system) if system else catalog.default_system(c.id)
    if sys_rec is not None and sys_rec.chip != c.id:
        raise InputError("system", f"a system built from {c.id}", sys_rec.id)
    needed = ("bf16_dense_tflops",) if require_compute else ()
    for field in (*needed, "memory_bw_gbps", "memory_capacity_gib"):
        if getattr(c, field) is None and not (field == "memory_capacity_gib" and memory_gb):
            raise InputError("chip", f"a chip whose {field} the catalog holds", c.id)

    def pick(*pairs):  # noqa: ANN001, ANN202
        """The first of (record, field) the catalog holds, drawn; NaN when none is."""
        for rec, name in pairs:
            q = getattr(rec, name) if rec is not None else None
            if q is not None:
                return draw(q, f"{rec.id}.{name}")
        return np.nan

    up = pick((sys_rec, "scaleup_bw_gbps_unidir"), (c, "scaleup_bw_gbps_unidir"))
    out = scaleout_gbps if scaleout_gbps is not None else pick(
        (sys_rec, "scaleout_bw_gbps_unidir"), (c, "scaleout_bw_gbps_unidir"))
    domain = sys_rec.scaleup_domain_chips.point if sys_rec else 1.0
    if np.all(np.isnan(out)):
        out = up if not np.all(np.isnan(up)) else pick((c, "host_io_bw_gbps_bidir")) / 2
    if np.all(np.isnan(up)):
        up = out
    bf16 = pick((c, "bf16_dense_tflops"), (c, "fp32_dense_tflops"))
    fp8 = pick((c, PRECISIONS["int8" if eight_bit == "int8" else "fp8"]), (c, "bf16_dense_tflops"),
               (c, "fp32_dense_tflops"))
    return Hardware(peak_tflops=bf16, peak_fp8_tflops=fp8,
                    memory_bw_gbps=pick((c, "memory_bw_gbps")),
                    memory_gb=memory_gb or pick((c, "memory_capacity_gib")) * GB_PER_GIB,
                    scaleup_gbps=up, scaleout_gbps=out, domain=domain), (sys_rec.id if sys_rec else None)


def setup(catalog: Catalog, model: str, chip: str, chips: int, seq_len: int, global_batch: int,
          system: str | None = None, precision: str = "bf16", scaleout_gbps: float | None = None,
          flash_attention: bool = True, ep_overlap: bool = False, dp_overlap: bool = True,
          tp_overlap: bool = False) -> Setup:
    """Check a training question's inputs once and fix its job, hardware and efficiency.

    The last four arguments say what the training framework does (see `Job`); the defaults
    describe a current Megatron-core/NeMo stack.
    """
    for name, value, most in (("chips", chips, MAX_CHIPS), ("seq_len", seq_len, MAX_SEQ_LEN),
                              ("global_batch", global_batch, MAX_GLOBAL_BATCH)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= most:
            raise InputError(name, f"a whole number from 1 to {most:,}", value)
    if precision not in ("bf16", "fp8"):
        raise InputError("precision", "bf16 or fp8", precision)
    if precision == "fp8" and catalog.chip(chip).fp8_dense_tflops is None:
        raise InputError("precision", f"bf16: {catalog.chip(chip).id} has no fp8 units in the catalog, "
                                      "and fp8 training needs them", precision)
    w = resolve_workload(catalog, model)
    hw, sys_id = hardware(catalog, chip, system, scaleout_gbps)
    chip_id = catalog.resolve("chip", chip)
    d = devices_per_chip(catalog, chip_id)
    eff, basis = efficiency_for(chip_id)
    job = Job(w, int(chips) * d, int(seq_len), int(global_batch), precision,
              flash_attention=flash_attention, ep_overlap=ep_overlap, dp_overlap=dp_overlap,
              tp_overlap=tp_overlap)
    return Setup(job, hw.per_device(d), eff, chip_id, sys_id, basis, d, scaleout_gbps)


def sampled(catalog: Catalog, s: Setup, draw: Draw) -> Setup:
    """``s`` with its chip's and system's specs drawn by ``draw`` (a
    `chipgap.models.sampling.Sampler`: fields of shape (n,)), per device; all else unchanged."""
    hw, _ = hardware(catalog, s.chip, s.system, s.scaleout_gbps, draw=draw)
    return dataclasses.replace(s, hardware=hw.per_device(s.devices))


def evaluate(s: Setup, layouts: Mapping[str, Any]) -> pd.DataFrame:
    """Evaluate layouts (a mapping of `LAYOUT_KEYS` to scalars or equal-length arrays).

    ``recompute`` may be given by name ('none', 'selective', 'full', 'modules'). Layout degrees count
    devices (``s.job.chips`` of them). Returns one row per layout with the layout, results
    (per chip: a package), time breakdown, memory breakdown and ``reason``.
    """
    lay = {k: layouts.get(k, 1 if k not in ("zero", "recompute") else 0) for k in LAYOUT_KEYS}
    if isinstance(lay["recompute"], str):
        if lay["recompute"] not in RECOMPUTE:
            raise InputError("recompute", "none, selective, full or modules", lay["recompute"])
        lay["recompute"] = RECOMPUTE[lay["recompute"]]
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.int64)) for k, v in lay.items()}
    out = to_chip_units(train_step_blocked(s.job, s.hardware, s.efficiency, **arrays), s.devices)
    n = np.broadcast(*arrays.values()).size
    df = pd.DataFrame({k: np.broadcast_to(v, (n,)) for k, v in arrays.items()})
    for key in (*RESULT_KEYS, *BREAKDOWN_KEYS, *MEMORY_KEYS):
        df[key] = np.broadcast_to(out[key], (n,))
    codes = np.broadcast_to(out["reason"], (n,))
    df["reason"] = reason_text(codes, REASONS)
    df["valid"] = codes == 0
    return df


_LAYOUT_FIELD = {2: "tp", 4: "pp", 16: "cp", 1: "dp", 32: "ep", 8: "mbs"}
"""The layout field to name for each structural reason of `chipgap.models.training.REASONS`, in
the order they are named (the rules on ep and mbs depend on dp, what the others leave)."""


def check_layout(s: Setup, layout: Mapping[str, Any]) -> dict[str, Any]:
    """``layout`` (one layout of scalars, as `evaluate` takes) when it can exist for ``s``;
    an `InputError` naming the field that makes it impossible otherwise.

    A layout that exists but does not fit in memory is an answer (``fits`` False), not an
    error; one that cannot exist (TP2 x DP7 on 8 devices, TP larger than the devices, TP not
    dividing the heads or the scale-up domain) is refused, so no output shows it as a result.

    Raises
    ------
    InputError
        Naming the field ('tp', 'pp', 'dp', 'cp', 'ep', 'vpp', 'mbs') and what it must be.
    """
    n = s.job.chips
    for k in ("tp", "pp", "cp", "ep", "dp"):
        v = layout.get(k)
        if v is not None and not 1 <= int(v) <= n:
            raise InputError(k, f"from 1 to the job's {n:,} devices", v)
    reason = int(_reason_codes(s, layout)[0])
    for bit, name in _LAYOUT_FIELD.items():
        if reason & bit:
            if bit == 4 and int(layout.get("vpp", 1)) > 1:
                name = "vpp"
            raise InputError(name, f"a value that keeps the rule '{REASONS[bit]}' ({_layout_facts(s, layout)})",
                             layout.get(name, 1))
    return dict(layout)


def _reason_codes(s: Setup, layout: Mapping[str, Any]) -> np.ndarray:
    lay = {k: layout.get(k, 1 if k not in ("zero", "recompute") else 0) for k in LAYOUT_KEYS}
    if isinstance(lay["recompute"], str):
        if lay["recompute"] not in RECOMPUTE:
            raise InputError("recompute", "none, selective, full or modules", lay["recompute"])
        lay["recompute"] = RECOMPUTE[lay["recompute"]]
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.int64)) for k, v in lay.items()}
    return train_step_blocked(s.job, s.hardware, s.efficiency, **arrays)["reason"]


def _layout_facts(s: Setup, layout: Mapping[str, Any]) -> str:
    w = s.job.workload
    parts = " x ".join(f"{k} {int(layout.get(k, 1))}" for k in ("tp", "pp", "dp", "cp"))
    return (f"{parts} on {s.job.chips:,} devices; scale-up domain {int(s.hardware.domain):,}; "
            f"{w.n_heads} heads, {w.n_layers} layers, {w.n_routed_experts} experts; global batch "
            f"{s.job.global_batch:,}; seq_len {s.job.seq_len:,}")


def _divisors(n: int, cap: int) -> np.ndarray:
    d = np.arange(1, min(n, cap) + 1)
    return d[n % d == 0]


def layout_grid(s: Setup, max_mbs: int = 8) -> dict[str, np.ndarray]:
    """Every layout worth trying for a job, as flat arrays (a cross product, filtered).

    tp over powers of two within the scale-up domain; pp over divisors of the chip count up to
    the layer count; cp over powers of two dividing the sequence; ep over divisors of the
    routed experts (MoE only); vpp in {1, 2, 3, 4, 6, 8}; micro-batches {1, 2, 4, 8}; ZeRO 0-3;
    recompute none/selective/full/modules. Data parallelism fills the rest and must be whole.
    """
    w, N = s.job.workload, s.job.chips
    pow2 = 2 ** np.arange(0, 15)
    tp = pow2[(pow2 <= max(s.hardware.domain, 1)) & (w.n_heads % pow2 == 0) & (pow2 <= N)]
    pp = _divisors(N, w.n_layers)
    cp = pow2[(pow2 <= N) & (s.job.seq_len % pow2 == 0) & (pow2 <= 64)]
    ep = _divisors(w.n_routed_experts, N) if w.is_moe else np.array([1])
    grids = np.meshgrid(tp, pp, cp, ep, [1, 2, 3, 4, 6, 8], pow2[pow2 <= max_mbs], [0, 1, 2, 3],
                        list(RECOMPUTE.values()), indexing="ij")
    g = dict(zip(("tp", "pp", "cp", "ep", "vpp", "mbs", "zero", "recompute"),
                 (x.ravel() for x in grids)))
    dp = N // (g["tp"] * g["pp"] * g["cp"])
    keep = (g["tp"] * g["pp"] * g["cp"] * dp == N) & ((g["pp"] > 1) | (g["vpp"] == 1))
    keep &= (dp * g["cp"]) % g["ep"] == 0
    g["dp"] = dp
    return {k: g[k][keep] for k in LAYOUT_KEYS}


def search(s: Setup, top: int = 10, objective: str = "tokens_per_s") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every layout of `layout_grid` in one array pass.

    Returns
    -------
    best : DataFrame
        The ``top`` valid layouts by ``objective`` (highest first).
    all : DataFrame
        Every layout evaluated, valid or not, with its ``reason``.
    """
    df = evaluate(s, layout_grid(s))
    valid = df[df.valid]
    return valid.sort_values(objective, ascending=False).head(top).reset_index(drop=True), df


def time_to_train_days(tokens_per_s: float, tokens: float) -> float:
    """Days to process ``tokens`` at a sustained ``tokens_per_s``."""
    return tokens / tokens_per_s / 86400.0


def chips_needed(catalog: Catalog, model: str, chip: str, seq_len: int, global_batch: int,
                 tokens_per_s: float, system: str | None = None, precision: str = "bf16",
                 max_chips: int = 1 << 17) -> pd.DataFrame:
    """The fewest chips (in whole scale-up domains, doubling) whose best layout reaches a rate.

    Each candidate count is one array search; the table lists every count tried, so the
    scaling curve shows where more chips stop helping (a fixed global batch caps data
    parallelism).

    Returns
    -------
    DataFrame
        ``chips, tokens_per_s, mfu, layout, reaches`` for each count tried, in order; the first
        row with ``reaches`` True is the answer (none when ``max_chips`` is not enough).
    """
    if not 0 < tokens_per_s <= MAX_RATE:
        raise InputError("tokens_per_s", f"a positive target rate, at most {MAX_RATE:g}", tokens_per_s)
    domain = int(max(hardware(catalog, chip, system)[0].domain, 1))
    rows, n = [], domain
    while n <= max_chips:
        best, _ = search(setup(catalog, model, chip, n, seq_len, global_batch, system, precision), top=1)
        rate = float(best.tokens_per_s[0]) if len(best) else 0.0
        rows.append({"chips": n, "tokens_per_s": rate, "mfu": float(best.mfu[0]) if len(best) else np.nan,
                     "layout": {k: int(best[k][0]) for k in LAYOUT_KEYS} if len(best) else None,
                     "reaches": rate >= tokens_per_s})
        if rate >= tokens_per_s:
            break
        n *= 2
    return pd.DataFrame(rows)
