"""Systems on one power basis: IT power, compute, and tokens per kJ of facility energy.

Sources count a system's power differently: the chips alone (``accelerators``), the whole
system's IT load (``it``: the chips, host CPUs and memory, scale-up switches and their optics,
NICs), or with cooling and the building (``all-in``). `it_power_kw` puts every system on the
``it`` basis by one rule, and every per-kJ figure then applies one PUE on top (`tokens_per_kj`),
so two systems compare like with like, and identical silicon in identical servers (the H100
and H800) gives identical efficiency.

>>> from chipgap.catalog import load_catalog
>>> cat = load_catalog()
>>> it_power_kw(cat, "nvidia-hgx-h100")[0] == it_power_kw(cat, "nvidia-hgx-h800")[0]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.errors import InputError
from chipgap.models.sampling import Draw, Sampler, point
from chipgap.models.tco import tokens_per_joule

POWER_BASIS = ("IT power of the whole system at full load: its chips, host CPUs and memory, scale-up "
               "switches and their optics, and NICs (for a rack or supernode, its share of the scale-out "
               "network where its source counts it); cooling and the building are the PUE, applied once")
"""The one basis every system's power is put on (`it_power_kw`)."""
SERVER_RATIO = "server-power-per-chip-tdp"
"""The catalog assumption (server power over its chips' TDP) that turns an ``accelerators``
figure, or a system with no power figure, into IT power."""


def pue_key(region: str) -> str:
    """The catalog assumption holding the PUE of ``region`` ('us' or 'cn')."""
    if region not in ("us", "cn"):
        raise InputError("region", "us or cn", region)
    return "pue-ai-datacenter" if region == "us" else "pue-china-new-large-dc"


def it_power_kw(catalog: Catalog, system: str, draw: Draw = point,
                pue: float | np.ndarray | None = None) -> tuple[float | np.ndarray, str]:
    """A system's IT power on the one basis (`POWER_BASIS`), and how it was obtained.

    Parameters
    ----------
    catalog : Catalog
    system : str
        System id or alias.
    draw : Draw, default=point
        How catalog quantities become numbers (a `chipgap.models.sampling.Sampler` for samples).
    pue : float or ndarray, optional
        The PUE to take out of an ``all-in`` figure (default: China's, drawn).

    Returns
    -------
    kw : float or ndarray of shape (n_samples,)
    how : str
        'as sourced', 'chips' power x 1.8 (server power over chip TDP)', ...

    Raises
    ------
    InputError
        When neither the system nor its chip has a power figure.
    """
    s = catalog.system(system)
    ratio = catalog.assumption(SERVER_RATIO)

    def times_ratio(kw: float | np.ndarray) -> float | np.ndarray:
        return kw * draw(ratio, f"assumption.{SERVER_RATIO}")

    if s.power_kw is None:
        chip = catalog.chip(s.chip)
        if chip.tdp_w is None:
            raise InputError("system", "a system or chip whose power the catalog holds", s.id)
        count = draw(s.chip_count, f"{s.id}.chip_count")
        return (times_ratio(draw(chip.tdp_w, f"{chip.id}.tdp_w") / 1e3 * count),
                f"no system figure: {chip.name} TDP x chips x {ratio.point:g} (server power over chip TDP)")
    kw = draw(s.power_kw, f"{s.id}.power_kw")
    if s.power_basis == "it":
        return kw, "as sourced (IT)"
    if s.power_basis == "accelerators":
        return times_ratio(kw), f"chips' power as sourced x {ratio.point:g} (server power over chip TDP)"
    if pue is None:
        pue = draw(catalog.assumption(pue_key("cn")), f"assumption.{pue_key('cn')}")
    return kw / pue, "all-in figure as sourced / PUE"


def tokens_per_kj(tokens_per_s: float | np.ndarray, it_kw: float | np.ndarray, pue: float | np.ndarray,
                  average_power_fraction: float | np.ndarray) -> float | np.ndarray:
    """Tokens per kJ of facility energy: the rate over IT power x average draw x PUE (the TCO's
    energy rule, `chipgap.models.tco.tokens_per_joule`).

    >>> round(float(tokens_per_kj(1000.0, 10.0, 1.25, 0.8)), 3)
    100.0
    """
    return 1e3 * tokens_per_joule(tokens_per_s, it_kw, average_power_fraction, pue)


def system_metrics(catalog: Catalog, systems: Sequence[str], train_rate: Mapping[str, float] | None = None,
                   decode_rate: Mapping[str, float] | None = None, region: str = "cn",
                   samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Each system's compute, IT power and work per kJ on the one power basis.

    Parameters
    ----------
    catalog : Catalog
    systems : sequence of str
    train_rate, decode_rate : mapping of chip id to tokens/s per chip, optional
        Rates per chip (training, decode) the system's chips run at; missing chips give NaN.
    region : {'cn', 'us'}, default='cn'
        Whose PUE applies.
    samples, seed : int
        Draws of the ranged power figures, the PUE and the average power fraction.

    Returns
    -------
    DataFrame
        One row per system: ``system, chip, chips, scaleup_domain_chips, bf16_pflops,
        it_power_kw`` (P50) with ``it_power_kw_p10``/``_p90``, ``power_rule``, ``power_basis``
        (as sourced), ``pue`` (P50), ``train_tokens_per_s``, ``train_tokens_per_kj`` (P50, P10,
        P90), ``decode_tokens_per_s`` and ``decode_tokens_per_kj`` (the same).
    """
    draw = Sampler(samples, seed)
    key = pue_key(region)
    pue = draw(catalog.assumption(key), f"assumption.{key}")
    avg = draw(catalog.assumption("average-power-fraction"), "assumption.average-power-fraction")
    rows = []
    for sid in systems:
        s = catalog.system(sid)
        chip = catalog.chip(s.chip)
        n = s.chip_count.point
        kw, how = it_power_kw(catalog, s.id, draw, pue)
        kw = np.broadcast_to(kw, pue.shape)
        row = {"system": s.id, "chip": chip.id, "chips": n, "scaleup_domain_chips": s.scaleup_domain_chips.point,
               "bf16_pflops": n * chip.bf16_dense_tflops.point / 1e3 if chip.bf16_dense_tflops else np.nan,
               "it_power_kw": float(np.median(kw)), "it_power_kw_p10": float(np.quantile(kw, 0.1)),
               "it_power_kw_p90": float(np.quantile(kw, 0.9)), "power_rule": how,
               "power_basis": s.power_basis or "", "pue": float(np.median(pue))}
        for name, rates in (("train", train_rate or {}), ("decode", decode_rate or {})):
            rate = rates.get(chip.id, np.nan) * n
            per_kj = tokens_per_kj(rate, kw, pue, avg)
            row[f"{name}_tokens_per_s"] = rate
            for q, label in ((0.5, ""), (0.1, "_p10"), (0.9, "_p90")):
                row[f"{name}_tokens_per_kj{label}"] = float(np.quantile(per_kj, q))
        rows.append(row)
    return pd.DataFrame(rows)
