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
from chipgap.analyses.efficiency import efficiency_for
from chipgap.catalog.question import TRAIN_FORMATS, Layout, TrainQuestion
from chipgap.catalog.workload import Workload, load_workload
from chipgap.errors import InputError
from chipgap.limits import MAX_RATE
from chipgap.models.precision import FOUR_BIT, PEAK_FIELD
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
    question: TrainQuestion | None = None
    """The question the setup answers."""


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
             draw: Draw = point, eight_bit: str = "fp8",
             four_bit: str = "nvfp4") -> tuple[Hardware, str | None]:
    """`Hardware` for ``chip`` in ``system`` (default: the chip's usual one).

    ``scaleout_gbps`` and ``memory_gb`` override the catalog (a cluster's NICs; a CPU's DRAM, in
    10^9-byte GB). The catalog's capacity counts GiB, as memory makers do; `Hardware` holds GB.
    With ``require_compute=False`` a chip without a bf16 peak gets its fp32 peak, or NaN
    (compute unknown: only memory-bound times can be computed). ``draw`` turns each catalog
    quantity into a number: the point estimate by default, or a `chipgap.models.sampling.Sampler`
    for Monte-Carlo samples (every field then has shape ``(n,)``; the scale-up domain, a
    count, stays its point value). The 8-bit peak (`Hardware.peak_fp8_tflops`) is the chip's
    ``eight_bit`` peak ('fp8', 'mxfp8' or 'int8'), or its bf16 peak when it has no such units:
    never another format's (an A100's int8 rate is no fp8 rate). The 4-bit peak
    (`Hardware.peak_fp4_tflops`) is its ``four_bit`` peak ('nvfp4' or 'mxfp4'), NaN without. The
    host link (`Hardware.host_gbps`, one way) is the system's, else the chip's, else NaN.

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
    fp8 = pick((c, PEAK_FIELD[eight_bit]), (c, "bf16_dense_tflops"), (c, "fp32_dense_tflops"))
    fp4 = pick((c, PEAK_FIELD[four_bit]))
    host = pick((sys_rec, "host_io_bw_gbps_bidir"), (c, "host_io_bw_gbps_bidir")) / 2
    return Hardware(peak_tflops=bf16, peak_fp8_tflops=fp8,
                    memory_bw_gbps=pick((c, "memory_bw_gbps")),
                    memory_gb=memory_gb or pick((c, "memory_capacity_gib")) * GB_PER_GIB,
                    scaleup_gbps=up, scaleout_gbps=out, domain=domain, peak_fp4_tflops=fp4,
                    host_gbps=host), (sys_rec.id if sys_rec else None)


def setup(catalog: Catalog, q: TrainQuestion) -> Setup:
    """Fix a training question's job, hardware and efficiency once (the question's own rules
    were checked when it was built; here its ids are resolved against the catalog)."""
    if not isinstance(q, TrainQuestion):
        raise InputError("question", "a chipgap.catalog.TrainQuestion", q)
    c = catalog.chip(q.chip)
    if q.precision != "bf16" and getattr(c, PEAK_FIELD[q.precision]) is None:
        runs = [f for f, field in PEAK_FIELD.items() if f in TRAIN_FORMATS and getattr(c, field) is not None]
        raise InputError("precision", f"{' or '.join(['bf16', *runs])}: {c.id} has no {q.precision} units in "
                                      f"the catalog, and {q.precision} training needs them", q.precision)
    w = resolve_workload(catalog, q.model)
    hw, sys_id = hardware(catalog, q.chip, q.system, q.scaleout_gbps(), **_format_peaks(q.precision))
    chip_id = catalog.resolve("chip", q.chip)
    d = devices_per_chip(catalog, chip_id)
    eff, basis = efficiency_for(catalog, chip_id)
    job = Job(w, q.chips * d, q.seq_len, q.global_batch, q.precision, flash_attention=q.flash_attention,
              ep_overlap=q.ep_overlap, dp_overlap=q.dp_overlap, tp_overlap=q.tp_overlap)
    return Setup(job, hw.per_device(d), eff, chip_id, sys_id, basis, d, q.scaleout_gbps(), q)


def _format_peaks(precision: str) -> dict[str, str]:
    """The `hardware` arguments that pick the peaks a training or compute format runs at."""
    return {"four_bit": precision} if precision in FOUR_BIT else \
        {"eight_bit": precision} if precision in ("fp8", "mxfp8", "int8") else {}


def sampled(catalog: Catalog, s: Setup, draw: Draw) -> Setup:
    """``s`` with its chip's and system's specs drawn by ``draw`` (a
    `chipgap.models.sampling.Sampler`: fields of shape (n,)), per device; all else unchanged."""
    hw, _ = hardware(catalog, s.chip, s.system, s.scaleout_gbps, draw=draw, **_format_peaks(s.job.precision))
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


SEARCH = {"vpp": (1, 2, 3, 4, 6, 8), "mbs": (1, 2, 4, 8), "zero": (0, 1, 2, 3),
          "recompute": tuple(RECOMPUTE.values())}
"""Values a search tries for the layout fields that do not follow from the job."""


def layout_grid(s: Setup, layout: Layout | None = None) -> dict[str, np.ndarray]:
    """Every layout worth trying for a job, as flat arrays (a cross product, filtered).

    A field ``layout`` sets (default: the setup's question's) takes that value alone; every
    other is searched: tp over powers of two within the scale-up domain; pp over divisors of
    the chip count up to the layer count; cp over powers of two dividing the sequence; ep over
    divisors of the routed experts (MoE only); vpp, micro-batches, ZeRO stages and recompute
    over `SEARCH` (vpp > 1 only where ``interleaved``, 1 where it is false). Data parallelism
    fills the rest and must be whole (or equal a set ``dp``).
    """
    lay = layout if layout is not None else (s.question.layout if s.question else Layout())
    w, N = s.job.workload, s.job.chips
    pow2 = 2 ** np.arange(0, 15)
    vpp = {None: SEARCH["vpp"], True: SEARCH["vpp"][1:], False: (1,)}[lay.interleaved]
    axes = {"tp": pow2[(pow2 <= max(s.hardware.domain, 1)) & (w.n_heads % pow2 == 0) & (pow2 <= N)],
            "pp": _divisors(N, w.n_layers),
            "cp": pow2[(pow2 <= N) & (s.job.seq_len % pow2 == 0) & (pow2 <= 64)],
            "ep": _divisors(w.n_routed_experts, N) if w.is_moe else np.array([1]),
            "vpp": vpp, "mbs": SEARCH["mbs"], "zero": SEARCH["zero"], "recompute": SEARCH["recompute"]}
    for k, v in lay.fixed().items():
        if k in axes:
            axes[k] = [RECOMPUTE[v] if k == "recompute" else v]
    grids = np.meshgrid(*(np.asarray(v, dtype=np.int64) for v in axes.values()), indexing="ij")
    g = {k: x.ravel() for k, x in zip(axes, grids)}
    dp = N // (g["tp"] * g["pp"] * g["cp"])
    keep = (g["tp"] * g["pp"] * g["cp"] * dp == N) & ((g["pp"] > 1) | (g["vpp"] == 1))
    keep &= (dp * g["cp"]) % g["ep"] == 0
    if lay.dp is not None:
        keep &= dp == lay.dp
    g["dp"] = dp
    if not keep.any():   # a fixed layout that cannot exist: keep it, for its reasons
        g = {k: v[:1] for k, v in g.items()}
        if lay.dp is not None:
            g["dp"] = np.array([lay.dp])
        return {k: g[k] for k in LAYOUT_KEYS}
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


def chips_needed(catalog: Catalog, q: TrainQuestion, tokens_per_s: float, step: int | None = None,
                 max_chips: int = 1 << 17) -> pd.DataFrame:
    """The fewest chips whose best layout reaches ``tokens_per_s`` on question ``q`` (its
    ``chips`` is ignored), counting in steps of ``step`` chips (default: 8, one server, or the
    scale-up domain where that is smaller).

    Counts double until one reaches the rate. Between that count and the one before, the
    rate per chip changes little (the work per data-parallel rank is alike), so the search then
    tries, in order, every count from `SCAN_MARGIN` below the count the better of the two
    per-chip rates implies, and stops at the first that reaches the rate. Counts at which no
    layout can split the job (the global batch does not divide over the data-parallel ranks
    they leave) are skipped. The rate is not monotone in the count (a count whose factors
    split the job badly is slower than a smaller one), which is why counts are tried in order
    rather than bisected. Each count is one array search; the table lists every count tried.

    Returns
    -------
    DataFrame
        ``chips, tokens_per_s, mfu, layout, reaches`` for every count tried, by count; the
        answer is the first row with ``reaches`` True (none when ``max_chips`` is not enough).
    """
    if not 0 < tokens_per_s <= MAX_RATE:
        raise InputError("tokens_per_s", f"a positive target rate, at most {MAX_RATE:g}", tokens_per_s)
    domain = int(max(hardware(catalog, q.chip, q.system)[0].domain, 1))
    step = step or min(8, domain)
    if not isinstance(step, (int, np.integer)) or step < 1:
        raise InputError("step", "a whole number of chips, at least 1", step)
    tried: dict[int, dict] = {}

    def reaches(n: int) -> bool:
        if n not in tried:
            best, _ = search(setup(catalog, q.model_copy(update={"chips": n})), top=1)
            rate = float(best.tokens_per_s[0]) if len(best) else 0.0
            tried[n] = {"chips": n, "tokens_per_s": rate, "mfu": float(best.mfu[0]) if len(best) else np.nan,
                        "layout": {k: int(best[k][0]) for k in LAYOUT_KEYS} if len(best) else None,
                        "reaches": rate >= tokens_per_s}
        return tried[n]["reaches"]

    hi = step
    while hi <= max_chips and not reaches(hi):
        hi *= 2
    if hi <= max_chips and hi > step:
        lo = hi // 2
        per_chip = max(tried[lo]["tokens_per_s"] / lo, tried[hi]["tokens_per_s"] / hi)
        start = max(lo + step, int(tokens_per_s / per_chip * (1 - SCAN_MARGIN)) // step * step)
        for n in _splittable(catalog, q, np.arange(start, hi, step)):
            if reaches(int(n)):
                break
    return pd.DataFrame(sorted(tried.values(), key=lambda r: r["chips"]))


SCAN_MARGIN = 0.1
"""How far below the count a linear extrapolation of the per-chip rate gives `chips_needed`
starts trying counts: a count whose per-chip rate beats both ends of its doubling by more than
this is assumed not to exist (the rates it sees differ by a few percent)."""


def _splittable(catalog: Catalog, q: TrainQuestion, counts: np.ndarray) -> np.ndarray:
    """The counts at which some tp x pp x cp leaves a data-parallel degree that divides the
    global batch (a necessary condition for any layout), computed without a search."""
    w = resolve_workload(catalog, q.model)
    d = devices_per_chip(catalog, catalog.resolve("chip", q.chip))
    domain = hardware(catalog, q.chip, q.system)[0].domain * d
    pow2 = 2 ** np.arange(0, 15)
    tp = pow2[(pow2 <= domain) & (w.n_heads % pow2 == 0)]
    cp = pow2[(pow2 <= 64) & (q.seq_len % pow2 == 0)]
    split = (tp[:, None, None] * np.arange(1, w.n_layers + 1)[None, :, None] * cp[None, None, :]).ravel()
    devices = counts[:, None] * d
    dp = devices // split[None, :]
    ok = (devices % split[None, :] == 0) & (q.global_batch % np.maximum(dp, 1) == 0) & (dp >= 1)
    return counts[ok.any(axis=1)]
