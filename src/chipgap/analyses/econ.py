"""Die economics and the unit cost of catalog chips, with ranges carried through.

`die_economics` answers "how many good dies does a wafer give"; `chip_cost` builds a chip's
cost from its die area, process node, reported yields and the memory, packaging and test
inputs in the catalog, sampling every ranged input (P10 / P50 / P90).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.quantity import Quantity
from chipgap.errors import InputError
from chipgap.models import wafer
from chipgap.models.sampling import sample_quantity

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


def _sample(q: Quantity | None, n: int, rng: np.random.Generator, default: float = np.nan) -> np.ndarray:
    return np.full(n, default) if q is None else sample_quantity(q, n, rng)


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
    if die_yield is not None and not 0 < die_yield <= 1:
        raise InputError("die_yield", "a fraction in (0, 1]", die_yield)
    rng = np.random.default_rng(seed)
    n = samples
    area = sample_quantity(c.compute_die_area_mm2, n, rng)
    dies = np.round(_sample(c.compute_die_count, n, rng, 1.0))
    wafer_mm = node.wafer_diameter_mm.point if node and node.wafer_diameter_mm else 300.0
    gross = wafer.gross_dies_per_wafer(area, wafer_mm, 3.0, 0.1)
    wafer_price = sample_quantity(wafer_q, n, rng)
    memory = _sample(inputs.hbm_price_usd_per_gb, n, rng, 0.0) * (c.memory_capacity_gb.point if c.memory_capacity_gb else 0.0)
    packaging, test = _sample(inputs.packaging_usd, n, rng, 0.0), _sample(inputs.test_usd, n, rng, 0.0)
    other = _sample(inputs.other_usd, n, rng, 0.0)
    assembly = _sample(inputs.assembly_yield, n, rng, 1.0)
    price = np.full(n, price_usd) if price_usd is not None else _sample(c.price_usd, n, rng)

    missing = [name for name, q in (("memory price", inputs.hbm_price_usd_per_gb),
                                     ("packaging", inputs.packaging_usd), ("test", inputs.test_usd),
                                     ("assembly yield", inputs.assembly_yield),
                                     ("rest of the bill of materials", inputs.other_usd))
               if q is None]
    cases = [(f"{r.date} {r.value.point:.0%}" + (" per package" if r.basis == "package" else ""), r)
             for r in inputs.yields]
    rows = []
    for label, report in cases + ([("given", None)] if die_yield is not None else []):
        y = np.full(n, die_yield) if report is None else sample_quantity(report.value, n, rng)
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
