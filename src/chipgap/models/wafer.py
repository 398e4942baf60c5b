"""Dies per wafer, die yield and unit cost, as array functions.

Areas are in mm2 and defect densities in defects per cm2 (so ``A x D0`` uses ``A / 100``).
Every function broadcasts, so a range of yields or a Monte-Carlo sample is one call.

References
----------
de Vries, "Investigation of gross die per wafer formulas", IEEE Trans. Semiconductor
Manufacturing 18(1):136-139, 2005 (effective diameter, die pitch).
Murphy, "Cost-size optima of monolithic integrated circuits", Proc. IEEE 52(12):1537, 1964.
Seeds, "Yield, economic, and logistic models for complex digital arrays", IEEE Int. Conv. 1967.
Stapper, "Modeling of integrated circuit defect sensitivities", IBM J. R&D 27(6), 1983
(negative binomial with clustering parameter alpha).
"""

from __future__ import annotations

import numpy as np

YIELD_MODELS = ("poisson", "murphy", "seeds", "negbin")
RETICLE_MM2 = 26.0 * 33.0
"""The 26 x 33 mm lithography field: no single die can be larger (858 mm2)."""


def gross_dies_per_wafer(die_area_mm2, wafer_mm=300.0, edge_mm=0.0, scribe_mm=0.0):  # noqa: ANN001, ANN201
    """Whole dies that fit on a wafer: ``pi (d/2)^2 / S - pi d / sqrt(2 S)``.

    ``d`` is the wafer diameter less twice the edge exclusion; ``S`` the die pitch area, a
    square die of ``die_area_mm2`` widened by the scribe lane on each axis.
    """
    d = wafer_mm - 2.0 * edge_mm
    pitch = (np.sqrt(die_area_mm2) + scribe_mm) ** 2
    return np.floor(np.pi * (d / 2) ** 2 / pitch - np.pi * d / np.sqrt(2 * pitch))


def die_yield(die_area_mm2, d0_per_cm2, model: str = "murphy", alpha=2.0):  # noqa: ANN001, ANN201
    """Fraction of dies with no killer defect, by ``model``.

    poisson ``e^(-AD)``; murphy ``((1 - e^(-AD)) / AD)^2``; seeds ``1 / (1 + AD)``;
    negbin ``(1 + AD / alpha)^(-alpha)``, with ``A`` in cm2.
    """
    ad = np.asarray(die_area_mm2, dtype=float) / 100.0 * d0_per_cm2
    if model == "poisson":
        return np.exp(-ad)
    if model == "murphy":
        safe = np.where(ad > 0, ad, 1.0)
        return np.where(ad > 0, ((1 - np.exp(-safe)) / safe) ** 2, 1.0)
    if model == "seeds":
        return 1.0 / (1.0 + ad)
    if model == "negbin":
        return (1.0 + ad / alpha) ** (-alpha)
    raise ValueError(f"model must be one of {', '.join(YIELD_MODELS)}. Got {model!r} instead")


def d0_from_yield(die_area_mm2, yield_, model: str = "murphy", alpha=2.0):  # noqa: ANN001, ANN201
    """Defect density (per cm2) that gives ``yield_`` on a die of ``die_area_mm2``.

    Closed forms for poisson, seeds and negbin; Murphy's yield falls monotonically in ``AD``,
    so it is inverted by bisection on all elements at once.
    """
    y = np.asarray(yield_, dtype=float)
    area_cm2 = np.asarray(die_area_mm2, dtype=float) / 100.0
    if model == "poisson":
        ad = -np.log(y)
    elif model == "seeds":
        ad = 1.0 / y - 1.0
    elif model == "negbin":
        ad = alpha * (y ** (-1.0 / alpha) - 1.0)
    elif model == "murphy":
        lo, hi = np.zeros_like(y), np.full_like(y, 1.0)
        for _ in range(64):  # widen until [lo, hi] brackets (yields below ~1e-30 stop here)
            hi = np.where(die_yield(100.0 * hi, 1.0, "murphy") > y, hi * 2, hi)
        for _ in range(80):
            mid = (lo + hi) / 2
            above = die_yield(100.0 * mid, 1.0, "murphy") > y
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        ad = (lo + hi) / 2
    else:
        raise ValueError(f"model must be one of {', '.join(YIELD_MODELS)}. Got {model!r} instead")
    return ad / area_cm2


def cost_per_good_die(wafer_price_usd, gross_dies, yield_):  # noqa: ANN001, ANN201
    """Wafer price spread over the good dies it yields."""
    return wafer_price_usd / (gross_dies * yield_)


def package_cost(die_cost_usd, dies_per_package, memory_usd, packaging_usd, test_usd,
                 assembly_yield, other_usd=0.0):  # noqa: ANN001, ANN201
    """Cost of one working packaged chip built from known-good dies.

    Dies, memory and packaging of the packages that fail assembly are lost, so they are
    divided by the assembly yield; test and the rest of the bill of materials are per good part.
    """
    assembled = dies_per_package * die_cost_usd + memory_usd + packaging_usd
    return assembled / assembly_yield + test_usd + other_usd


def break_even_yield(price_usd, wafer_price_usd, gross_dies, dies_per_package, memory_usd,
                     packaging_usd, test_usd, assembly_yield, other_usd=0.0):  # noqa: ANN001, ANN201
    """Die yield at which the cost of a packaged chip equals ``price_usd``.

    Cost is ``a / y + b`` in the die yield ``y``, so ``y* = a / (price - b)``; NaN when even
    perfect dies cannot reach the price, and values above 1 mean the same.
    """
    a = dies_per_package * wafer_price_usd / gross_dies / assembly_yield
    b = (memory_usd + packaging_usd) / assembly_yield + test_usd + other_usd
    margin = np.asarray(price_usd, dtype=float) - b
    return np.where(margin > 0, a / np.where(margin > 0, margin, 1.0), np.nan)
