"""Total cost of ownership of accelerators: cost per chip-hour and per million tokens.

Capital is spread evenly over the service life; energy is the average draw times PUE times
the electricity price; both are divided by the hours the chip does useful work. Every argument
may be an array of samples.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_YEAR = 8766.0  # 365.25 days


def cost_per_chip_hour(capex_usd, life_years, power_kw, avg_power_fraction, pue,
                       electricity_usd_per_kwh, utilization):  # noqa: ANN001, ANN201
    """Cost of one chip-hour of useful work, USD, and its parts.

    Parameters
    ----------
    capex_usd : capital per chip (its share of server, network and installation).
    life_years : straight-line depreciation life.
    power_kw : peak power per chip, its share of the server included.
    avg_power_fraction : average draw over peak while busy.
    pue : facility power over IT power.
    electricity_usd_per_kwh : price of electricity.
    utilization : fraction of hours the chip does useful work.

    Returns
    -------
    dict of str to ndarray
        ``total_usd``, ``capex_usd`` and ``energy_usd`` per useful chip-hour.
    """
    useful_hours = life_years * HOURS_PER_YEAR * utilization
    capex = capex_usd / useful_hours
    # a chip that idles draws little; energy is paid for the busy hours
    energy = power_kw * avg_power_fraction * pue * electricity_usd_per_kwh
    return {"total_usd": capex + energy, "capex_usd": capex, "energy_usd": energy * np.ones_like(capex)}


def usd_per_million_tokens(usd_per_chip_hour, tokens_per_s_per_chip):  # noqa: ANN001, ANN201
    """Cost of a million tokens at a sustained rate per chip."""
    return usd_per_chip_hour / (tokens_per_s_per_chip * 3600.0) * 1e6


def tokens_per_joule(tokens_per_s_per_chip, power_kw, avg_power_fraction, pue):  # noqa: ANN001, ANN201
    """Tokens per joule of facility energy."""
    return tokens_per_s_per_chip / (power_kw * 1e3 * avg_power_fraction * pue)
