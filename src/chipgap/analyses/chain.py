"""Who a chip depends on, and which chips and companies a supply shock reaches.

A chip's dependencies are its designer, the foundry of its process node, and the suppliers its
catalog entry names (memory, packaging, a second foundry), each with the company's country. A
shock removes one kind of input: every chip that relies on it, and every company behind those
chips, is hit.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.errors import InputError

SHOCKS = {
    "no-hbm-imports": "HBM from foreign memory makers stops reaching the chip's country",
    "foundry": "a named foundry stops making the chip's dies (foundry:COMPANY)",
    "node": "a named process node stops (node:NODE)",
}


def exposure(catalog: Catalog, chips: Sequence[str] | None = None,
             country: str | None = None) -> pd.DataFrame:
    """One row per (chip, dependency): ``chip, chip_country, role, company, company_country,
    foreign, via, source``.

    ``foreign`` is True where the company is outside the chip designer's country; ``via`` says
    how the link is known (the process node, or a supplier entry).
    """
    ids = [catalog.resolve("chip", c) for c in chips] if chips else list(catalog.chips)
    rows = []
    for cid in ids:
        chip = catalog.chip(cid)
        if country and chip.country != country.upper():
            continue
        links = [("designer", chip.vendor, "vendor", "")]
        if chip.process_node:
            node = catalog.node(chip.process_node)
            links.append(("foundry", node.foundry, f"process node {node.id}", ""))
        links += [(s.role, s.company, "supplier", ", ".join(s.source)) for s in chip.suppliers]
        first = {}  # a (role, company) link known two ways is listed once, by its first way
        for role, company_id, via, source in links:
            first.setdefault((role, company_id), (via, source))
        for (role, company_id), (via, source) in first.items():
            company = catalog.company(company_id)
            rows.append({"chip": cid, "chip_country": chip.country, "role": role,
                         "company": company.id, "company_country": company.country,
                         "foreign": company.country != chip.country, "via": via, "source": source,
                         "memory_type": chip.memory_type or ""})
    return pd.DataFrame(rows)


def shock(catalog: Catalog, name: str, country: str = "CN") -> pd.DataFrame:
    """Chips of ``country`` hit by a shock, and why.

    Parameters
    ----------
    catalog : Catalog
    name : str
        ``no-hbm-imports``, ``foundry:COMPANY`` or ``node:NODE`` (see `SHOCKS`).
    country : str, default='CN'
        Whose chips to look at.

    Returns
    -------
    DataFrame
        ``chip, designer, hit_by, company, company_country`` for each chip hit; a chip whose
        HBM suppliers the catalog does not name is listed with ``company`` 'unknown' (exposed
        unless shown otherwise).
    """
    kind, _, target = name.partition(":")
    if kind not in SHOCKS or (kind != "no-hbm-imports") != bool(target):
        raise InputError("shock", "no-hbm-imports, foundry:COMPANY or node:NODE", name)
    deps = exposure(catalog, country=country)
    if deps.empty:
        return pd.DataFrame(columns=["chip", "designer", "hit_by", "company", "company_country"])
    designer = deps[deps.role == "designer"].set_index("chip").company
    if kind == "no-hbm-imports":
        hbm_chips = deps[deps.memory_type.str.contains("HBM", case=False)].chip.unique()
        mem = deps[(deps.role == "memory") & deps.chip.isin(hbm_chips)]
        hit = mem[mem.foreign][["chip", "company", "company_country"]].assign(hit_by="foreign HBM")
        unknown = sorted(set(hbm_chips) - set(mem.chip))
        hit = pd.concat([hit, pd.DataFrame({"chip": unknown, "company": "unknown", "company_country": "",
                                            "hit_by": "HBM from an unpublished maker"})],
                        ignore_index=True)
        reason = None
    elif kind == "foundry":
        target = catalog.resolve("company", target)
        hit = deps[(deps.role == "foundry") & (deps.company == target)][["chip", "company", "company_country"]]
        reason = f"foundry {target}"
    else:
        node = catalog.node(target)
        on_node = [c for c in deps.chip.unique() if catalog.chip(c).process_node == node.id]
        hit = pd.DataFrame({"chip": on_node, "company": node.foundry,
                            "company_country": catalog.company(node.foundry).country})
        reason = f"process node {node.id}"
    if reason is not None:
        hit = hit.assign(hit_by=reason)
    hit = hit.drop_duplicates("chip")
    hit["designer"] = hit.chip.map(designer)
    return hit[["chip", "designer", "hit_by", "company", "company_country"]].reset_index(drop=True)
