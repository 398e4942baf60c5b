"""Die economics and the unit cost of catalog chips, with ranges carried through.

`die_economics` answers "how many good dies does a wafer give"; `chip_cost` builds a chip's
cost from its die area, process node, reported yields and the memory, packaging and test
inputs in the catalog, sampling every ranged input (P10 / P50 / P90).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipgap.analyses.systems import it_power_kw, pue_key
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.quantity import Quantity
from chipgap.errors import InputError
from chipgap.models import tco as tco_model
from chipgap.models import wafer
from chipgap.models.sampling import Draw, Sampler

QUANTILES = (0.1, 0.5, 0.9)


def die_economics(die_area_mm2: float, wafer_mm: float = 300.0, edge_mm: float = 3.0,
                  scribe_mm: float = 0.1, d0_per_cm2: float | None = None,
                  die_yield: float | None = None, model: str = "murphy",
                  alpha: float = 2.0) -> dict[str, float]:
    """Gross dies, yield and good dies per wafer for one die size.

    Parameters
    ----------
    die_area_mm2 : float
        Die area; at most the 858 mm2 reticle field.
    wafer_mm, edge_mm, scribe_mm : float
        Wafer diameter, edge exclusion and scribe-lane width, mm.
    d0_per_cm2 : float, optional
        Killer-defect density; give this or ``die_yield``.
    die_yield : float, optional
        An observed die yield in (0, 1]; the defect density is solved from it.
    model : {'poisson', 'murphy', 'seeds', 'negbin'}, default='murphy'
    alpha : float, default=2.0
        Clustering parameter of the negative-binomial model.

    Returns
    -------
    dict
        ``die_area_mm2, gross_dies_per_wafer, die_yield, good_dies_per_wafer, d0_per_cm2,
        model``.

    Examples
    --------
    >>> from chipgap.analyses.econ import die_economics
    >>> die_economics(100.0, edge_mm=0, scribe_mm=0, d0_per_cm2=0.1)["gross_dies_per_wafer"]
    640.0
    """
    check_die(die_area_mm2, wafer_mm, edge_mm, scribe_mm, model, alpha)
    if (d0_per_cm2 is None) == (die_yield is None):
        raise InputError("d0_per_cm2 / die_yield", "exactly one of the two", (d0_per_cm2, die_yield))
    if die_yield is not None:
        if not 0 < die_yield <= 1:
            raise InputError("die_yield", "a fraction in (0, 1]", die_yield)
        d0_per_cm2 = float(wafer.d0_from_yield(die_area_mm2, die_yield, model, alpha))
    elif not d0_per_cm2 >= 0:
        raise InputError("d0_per_cm2", "zero or a positive defect density per cm2", d0_per_cm2)
    gross = float(wafer.gross_dies_per_wafer(die_area_mm2, wafer_mm, edge_mm, scribe_mm))
    y = float(wafer.die_yield(die_area_mm2, d0_per_cm2, model, alpha))
    return {"die_area_mm2": die_area_mm2, "gross_dies_per_wafer": gross, "die_yield": y,
            "good_dies_per_wafer": gross * y, "d0_per_cm2": d0_per_cm2, "model": model}


def check_die(die_area_mm2: float, wafer_mm: float, edge_mm: float, scribe_mm: float,
              model: str, alpha: float) -> None:
    """Refuse a die or wafer that cannot exist, with the reason."""
    if not 0 < die_area_mm2 <= wafer.RETICLE_MM2:
        raise InputError("die_area_mm2", f"a positive area no larger than the {wafer.RETICLE_MM2:.0f} mm2 "
                                         "reticle field", die_area_mm2)
    if not 0 < wafer_mm <= 450 or not 0 <= edge_mm < wafer_mm / 4 or not 0 <= scribe_mm < 5:
        raise InputError("wafer_mm / edge_mm / scribe_mm",
                         "a wafer of up to 450 mm with a smaller edge exclusion and scribe lane",
                         (wafer_mm, edge_mm, scribe_mm))
    if model not in wafer.YIELD_MODELS:
        raise InputError("model", f"one of {', '.join(wafer.YIELD_MODELS)}", model)
    if not alpha > 0:
        raise InputError("alpha", "a positive clustering parameter", alpha)


def _sample(q: Quantity | None, key: str, draw: Sampler, default: float = np.nan) -> np.ndarray:
    return np.full(draw.n, default) if q is None else draw(q, key)


def _cost_inputs(catalog: Catalog, chip: str, price_usd: float | None, draw: Draw) -> tuple:
    """Check a chip's cost inputs and draw each (shape (n,), ``n`` the draw's cases)."""
    c = catalog.chip(chip)
    inputs = catalog.chip_cost(c.id)
    if inputs is None:
        raise InputError("chip", "a chip with cost inputs in the catalog (chip_costs)", c.id)
    if c.compute_die_area_mm2 is None:
        raise InputError("chip", "a chip whose compute_die_area_mm2 the catalog holds", c.id)
    node = catalog.node(c.process_node) if c.process_node else None
    wafer_q = inputs.wafer_price_usd or (node.wafer_price_usd if node else None)
    if wafer_q is None:
        raise InputError("chip", "a chip whose wafer price the catalog holds (node or chip_costs)", c.id)
    n = draw.n
    area = draw(c.compute_die_area_mm2, f"{c.id}.compute_die_area_mm2")
    wafer_mm = node.wafer_diameter_mm.point if node and node.wafer_diameter_mm else 300.0
    capacity = c.memory_capacity_gib.point if c.memory_capacity_gib else 0.0
    wafer_key = f"{inputs.id}.wafer_price_usd" if inputs.wafer_price_usd else f"{node.id}.wafer_price_usd"
    k = {"dies": np.round(_sample(c.compute_die_count, f"{c.id}.compute_die_count", draw, 1.0)),
         "gross": wafer.gross_dies_per_wafer(area, wafer_mm, 3.0, 0.1),
         "wafer_price": draw(wafer_q, wafer_key),
         "memory": _sample(inputs.hbm_price_usd_per_gb, f"{inputs.id}.hbm_price_usd_per_gb", draw, 0.0) * capacity,
         "packaging": _sample(inputs.packaging_usd, f"{inputs.id}.packaging_usd", draw, 0.0),
         "test": _sample(inputs.test_usd, f"{inputs.id}.test_usd", draw, 0.0),
         "other": _sample(inputs.other_usd, f"{inputs.id}.other_usd", draw, 0.0),
         "assembly": _sample(inputs.assembly_yield, f"{inputs.id}.assembly_yield", draw, 1.0),
         "price": np.full(n, price_usd) if price_usd is not None else _sample(c.price_usd, f"{c.id}.price_usd", draw)}
    return c, inputs, k


def cost_curve(catalog: Catalog, chip: str, yields: np.ndarray | None = None,
               samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Cost per packaged chip against die yield, P10 / P50 / P90 at each yield.

    Parameters
    ----------
    catalog : Catalog
    chip : str
    yields : ndarray, optional
        Die yields to evaluate; default 10% to 95%.
    samples, seed : int

    Returns
    -------
    DataFrame
        ``die_yield, cost_p10_usd, cost_p50_usd, cost_p90_usd``.
    """
    ys = np.linspace(0.1, 0.95, 35) if yields is None else np.asarray(yields, dtype=float)
    c, _, k = _cost_inputs(catalog, chip, None, Sampler(samples, seed))
    die_cost = wafer.cost_per_good_die(k["wafer_price"], k["gross"], ys[:, None])  # (yield, sample)
    cost = wafer.package_cost(die_cost, k["dies"], k["memory"], k["packaging"], k["test"],
                              k["assembly"], k["other"])
    q = np.quantile(cost, QUANTILES, axis=1)
    return pd.DataFrame({"die_yield": ys, "cost_p10_usd": q[0], "cost_p50_usd": q[1], "cost_p90_usd": q[2]})


def chip_cost(catalog: Catalog, chip: str, die_yield: float | None = None,
              price_usd: float | None = None, samples: int = 4000, seed: int = 0,
              model: str = "murphy") -> pd.DataFrame:
    """Cost build-up of one packaged chip at each reported yield (and ``die_yield`` if given).

    Parameters
    ----------
    catalog : Catalog
    chip : str
        Chip id or alias; it needs a die area, a process node with a wafer price (or a
        ``chip_costs`` entry giving one) and ``chip_costs`` inputs.
    die_yield : float, optional
        An extra yield to evaluate, per die, in (0, 1].
    price_usd : float, optional
        Selling price for margin and break-even; default the catalog's price of the chip.
    samples, seed : int
        Monte-Carlo draws of the ranged inputs.
    model : {'poisson', 'murphy', 'seeds', 'negbin'}, default='murphy'
        Only used to report the defect density each yield implies.

    Returns
    -------
    DataFrame
        One row per yield case and quantile (P10, P50, P90, each column its own quantile) with
        ``die_yield``, ``die_cost_usd``, ``dies_cost_usd``, ``memory_usd``, ``packaging_usd``,
        ``test_usd``, ``other_usd``, ``cost_per_chip_usd``, ``price_usd``, ``gross_margin``,
        ``break_even_yield`` and ``missing`` (inputs the catalog lacks, counted as zero, so
        the cost is a lower bound). Yields reported per package are turned into per-die yields
        assuming independent dies; ``unspecified`` ones are read as per-die.
    """
    if die_yield is not None and not 0 < die_yield <= 1:
        raise InputError("die_yield", "a fraction in (0, 1]", die_yield)
    n, draw = samples, Sampler(samples, seed)
    c, inputs, k = _cost_inputs(catalog, chip, price_usd, draw)
    wafer_price, gross, dies, memory, packaging, test, other, assembly, price = (
        k[x] for x in ("wafer_price", "gross", "dies", "memory", "packaging", "test", "other",
                       "assembly", "price"))

    missing = [name for name, q in (("memory price", inputs.hbm_price_usd_per_gb),
                                     ("packaging", inputs.packaging_usd), ("test", inputs.test_usd),
                                     ("assembly yield", inputs.assembly_yield),
                                     ("rest of the bill of materials", inputs.other_usd))
               if q is None]
    cases = [(f"{r.date} {r.value.point:.0%}" + (" per package" if r.basis == "package" else "")
              + (" (target)" if r.kind == "target" else ""), r) for r in inputs.yields]
    rows = []
    for label, report in cases + ([("given", None)] if die_yield is not None else []):
        y = np.full(n, die_yield) if report is None else draw(report.value, f"{inputs.id}.yield.{label}")
        if report is not None and report.basis == "package":
            y = y ** (1.0 / dies)
        die_cost = wafer.cost_per_good_die(wafer_price, gross, y)
        cost = wafer.package_cost(die_cost, dies, memory, packaging, test, assembly, other)
        be = wafer.break_even_yield(price, wafer_price, gross, dies, memory, packaging, test, assembly, other)
        parts = {"die_yield": y, "die_cost_usd": die_cost, "dies_cost_usd": dies * die_cost / assembly,
                 "memory_usd": memory, "packaging_usd": packaging, "test_usd": test, "other_usd": other,
                 "cost_per_chip_usd": cost, "price_usd": price, "gross_margin": 1 - cost / price,
                 "break_even_yield": be}
        for q in QUANTILES:
            row = {"chip": c.id, "case": label, "quantile": f"P{int(q * 100)}"}
            row.update({k: float(np.nanquantile(v, q)) if np.isfinite(v).any() else None
                        for k, v in parts.items()})
            row["d0_per_cm2"] = float(wafer.d0_from_yield(c.compute_die_area_mm2.point, row["die_yield"], model))
            row["missing"] = ", ".join(missing)
            rows.append(row)
    return pd.DataFrame(rows)


def tco(catalog: Catalog, system: str, region: str = "us", electricity_usd_per_kwh: float | None = None,
        pue: float | None = None, utilization: float = 1.0, life_years: float | None = None,
        tokens_per_s_per_chip: float | None = None, samples: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Cost per chip-hour of a system's chips, and per million tokens at a given rate.

    Parameters
    ----------
    catalog : Catalog
    system : str
        System id or alias; its price and power are per system, shared over its chips (a system
        without a power figure uses its chip's TDP times the catalog's server-power ratio).
    region : {'us', 'cn'}, default='us'
        Which electricity price and PUE defaults to use.
    electricity_usd_per_kwh, pue, life_years : float, optional
        Override the catalog's sourced defaults (``assumptions``).
        Power is the system's IT power on one basis (`chipgap.analyses.systems.it_power_kw`),
        shared over its chips; the PUE applies on top.
    utilization : float, default=1.0
        Fraction of hours doing useful work; 1.0 gives the cost of a busy hour.
    tokens_per_s_per_chip : float, optional
        A sustained rate (from `chipgap.analyses.infer.serve` or `train`) for cost per million
        tokens and tokens per joule.
    samples, seed : int
        Monte-Carlo draws of the ranged inputs.

    Returns
    -------
    DataFrame
        Rows P10, P50, P90 (each column its own quantile) of ``capex_per_chip_usd``,
        ``power_kw_per_chip``, ``usd_per_chip_hour``, ``capex_usd_per_chip_hour``,
        ``energy_usd_per_chip_hour`` and, with a rate, ``usd_per_million_tokens`` and
        ``tokens_per_joule``. Scale-out network and buildings are not included.
    """
    if region not in ("us", "cn"):
        raise InputError("region", "us or cn", region)
    if not 0 < utilization <= 1:
        raise InputError("utilization", "a fraction in (0, 1]", utilization)
    for name, v in (("electricity_usd_per_kwh", electricity_usd_per_kwh), ("pue", pue),
                    ("life_years", life_years), ("tokens_per_s_per_chip", tokens_per_s_per_chip)):
        if v is not None and not v > 0:
            raise InputError(name, "a positive number", v)
    if pue is not None and pue < 1:
        raise InputError("pue", "a ratio of at least 1", pue)
    s = catalog.system(system)
    parts = tco_draws(catalog, s.id, Sampler(samples, seed), region, electricity_usd_per_kwh, pue, utilization,
                      life_years, tokens_per_s_per_chip)
    chip = catalog.chip(s.chip)
    rows = [{"system": s.id, "chip": chip.id, "quantile": f"P{int(q * 100)}",
             **{k: float(np.quantile(v, q)) for k, v in parts.items()}} for q in QUANTILES]
    return pd.DataFrame(rows)


def tco_draws(catalog: Catalog, system: str, draw: Draw, region: str = "us",
              electricity_usd_per_kwh: float | None = None, pue: float | None = None, utilization: float = 1.0,
              life_years: float | None = None,
              tokens_per_s_per_chip: float | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """`tco`'s quantities for each of ``draw``'s cases (a `Sampler` or any `Draw` with ``n``):
    arrays of shape (n,), keyed as `tco`'s columns. Arguments are `tco`'s, checked there;
    ``tokens_per_s_per_chip`` may hold one rate per case."""
    s = catalog.system(system)
    chip = catalog.chip(s.chip)
    n = draw.n
    count = draw(s.chip_count, f"{s.id}.chip_count")
    if s.price_usd is not None:
        capex = draw(s.price_usd, f"{s.id}.price_usd") / count
    elif chip.price_usd is not None:
        capex = draw(chip.price_usd, f"{chip.id}.price_usd")
    else:
        raise InputError("system", "a system or chip whose price the catalog holds", s.id)

    def given(value: float | None, default: str) -> np.ndarray:
        return np.full(n, value) if value is not None else draw(catalog.assumption(default), f"assumption.{default}")

    price = given(electricity_usd_per_kwh, f"electricity-usd-per-kwh-{region}")
    facility = given(pue, pue_key(region))
    power = it_power_kw(catalog, s.id, draw, facility)[0] / count   # IT power per chip, one basis
    life = given(life_years, "server-life-years")
    avg = draw(catalog.assumption("average-power-fraction"), "assumption.average-power-fraction")
    cost = tco_model.cost_per_chip_hour(capex, life, power, avg, facility, price, utilization)
    parts = {"capex_per_chip_usd": capex, "power_kw_per_chip": power,
             "usd_per_chip_hour": cost["total_usd"], "capex_usd_per_chip_hour": cost["capex_usd"],
             "energy_usd_per_chip_hour": cost["energy_usd"]}
    if tokens_per_s_per_chip is not None:
        parts["usd_per_million_tokens"] = tco_model.usd_per_million_tokens(cost["total_usd"], tokens_per_s_per_chip)
        parts["tokens_per_joule"] = tco_model.tokens_per_joule(tokens_per_s_per_chip, power, avg, facility)
    return parts


def price_at_cost(row: pd.Series, tokens_per_s_per_chip: float, usd_per_million_tokens: float,
                  price_usd: float) -> float:
    """The system price at which its cost per million tokens equals ``usd_per_million_tokens``:
    capital per chip-hour scales with the price, energy does not (``row`` is a `tco` row with
    ``capex_usd_per_chip_hour`` and ``energy_usd_per_chip_hour``, at ``price_usd``). NaN when
    even a free system costs more.

    >>> row = pd.Series({"capex_usd_per_chip_hour": 2.0, "energy_usd_per_chip_hour": 0.5})
    >>> price_at_cost(row, 1000.0, 1e6 * 1.5 / 3.6e6, 100.0)
    50.0
    """
    target_hour = usd_per_million_tokens * tokens_per_s_per_chip * 3600.0 / 1e6
    rest = target_hour - float(row["energy_usd_per_chip_hour"])
    if rest <= 0:
        return float("nan")
    return float(price_usd * rest / float(row["capex_usd_per_chip_hour"]))


def break_even_draws(catalog: Catalog, chip: str, draw: Draw, price_usd: float | None = None) -> np.ndarray:
    """The die yield at which ``chip``'s price covers its known unit costs (`chip_cost`'s
    ``break_even_yield``), for each of ``draw``'s cases: for a sensitivity of its inputs."""
    _, _, k = _cost_inputs(catalog, chip, price_usd, draw)
    return np.asarray(wafer.break_even_yield(k["price"], k["wafer_price"], k["gross"], k["dies"], k["memory"],
                                             k["packaging"], k["test"], k["assembly"], k["other"]), dtype=float)
