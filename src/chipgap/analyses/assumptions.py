"""The assumed and ranged inputs behind the answers, and changes to them as a scenario.

`inputs` lists the catalog numbers a what-if changes (reported yields, cost inputs, prices,
electricity and PUE, supply capacities such as the HBM stockpile, export-control thresholds,
ranged or estimated chip and system specs), each with its source. A `Change` sets one of them;
`scenario_document` writes a set of changes as a scenario file (`chipgap.catalog.scenario`)
that ``chipgap report --scenario`` reads, and `changes_from_scenario` reads one back.

An input is named by a key ``section:entry-id:path``, where ``path`` is a dotted path inside the
entry (``chip_costs:huawei-ascend-910c-cost:yields.1.value``).

>>> from chipgap.catalog import load_catalog
>>> cat = load_catalog()
>>> k = "chip_costs:huawei-ascend-910c-cost:yields.1.value"
>>> doc = scenario_document(cat, [Change(k, value=0.6)])
>>> doc["catalog"]["chip_costs"][0]["yields"][1]["value"]["value"]
0.6
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.schema import quantity_fields
from chipgap.errors import CatalogError, InputError

SOURCE_ID = "chipgap-workbench"
"""The source a changed number cites: the person who changed it, in the workbench."""
MAX_CHANGES = 60
SECTION_KIND = {"chips": "chip", "systems": "system", "nodes": "node", "chip_costs": "chip_cost",
                "assumptions": "assumption", "supply": "scenario", "export_rules": "rule"}
GROUPS = ("Yields and unit cost", "Prices", "Electricity, PUE and server life",
          "Supply: HBM stockpile, capacities and volumes", "Export-control thresholds",
          "Chip specs (ranged or estimated)", "System specs (ranged or estimated)")
SUPPLY_FIELDS = ("hbm_stockpile_stacks", "hbm_domestic_stacks", "hbm_stacks", "packaging_chips")
COST_FIELDS = ("wafer_price_usd", "d0_per_cm2", "hbm_price_usd_per_gb", "packaging_usd", "test_usd",
               "assembly_yield", "other_usd")
UNITS = {"price_usd": "US$", "power_kw": "kW", "wafer_price_usd": "US$ per wafer", "d0_per_cm2": "defects per cm2",
         "hbm_price_usd_per_gb": "US$ per GB", "packaging_usd": "US$", "test_usd": "US$", "other_usd": "US$",
         "assembly_yield": "fraction", "die_yield": "fraction", "chips_per_year": "chips", "units": "chips",
         "wafers_per_year": "wafers", "dies": "dies", "hbm_stockpile_stacks": "HBM stacks",
         "hbm_domestic_stacks": "HBM stacks", "hbm_stacks": "HBM stacks", "packaging_chips": "packages"}


@dataclass(frozen=True)
class Input:
    """One number the answers use.

    Attributes
    ----------
    key : str
        ``section:entry-id:path``.
    group : str
        One of `GROUPS`.
    label : str
        What it is, in a few words.
    unit : str
    quantity : Quantity or None
        The catalog's value, range, confidence and sources (None for a plain number).
    number : float or None
        A plain number (an export-control threshold), with ``sources`` its rule's.
    sources : tuple of str
    """

    key: str
    group: str
    label: str
    unit: str
    quantity: Quantity | None = None
    number: float | None = None
    sources: tuple[str, ...] = ()

    @property
    def point(self) -> float:
        return self.quantity.point if self.quantity is not None else float(self.number)


@dataclass(frozen=True)
class Change:
    """A new value for the input ``key``: a number (``value``), or a range ``low``-``high``
    with an optional ``mode``."""

    key: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None

    def as_quantity(self, old: Input) -> dict[str, Any]:
        """The changed number in catalog grammar, citing the workbench and saying what it was."""
        was = _text(old)
        note = f"set in chipgap serve; the catalog holds {was} ({', '.join(old.sources)})"
        if self.value is not None:
            return {"value": self.value, "source": [SOURCE_ID], "confidence": "estimate", "note": note}
        q: dict[str, Any] = {"value": [self.low, self.high]}
        if self.mode is not None:
            q["mode"] = self.mode
        return {**q, "source": [SOURCE_ID], "confidence": "estimate", "note": note}

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("key", self.key), ("value", self.value), ("low", self.low),
                                  ("high", self.high), ("mode", self.mode)) if v is not None}


def plain(x: float) -> str:
    """A number as a person types it: ``8,200,000``, ``0.066``.

    >>> plain(8.2e6), plain(0.066), plain(1.5)
    ('8,200,000', '0.066', '1.5')
    """
    return f"{int(x):,}" if x == int(x) and abs(x) < 1e15 else f"{x:.6g}"


def _text(i: Input) -> str:
    q = i.quantity
    if q is None:
        return plain(i.number)
    if not q.is_range:
        return plain(q.value)
    return f"{plain(q.low)}-{plain(q.high)}" + (f" (mode {plain(q.mode)})" if q.mode is not None else "")


def _quantities(section: str, rid: str, rec: Any, fields: Iterable[str], group: str, name: str,
                only_uncertain: bool = False) -> list[Input]:
    out = []
    for f in fields:
        q = getattr(rec, f, None)
        if q is None or (only_uncertain and not q.is_range and q.confidence in ("official", "measured")):
            continue
        out.append(Input(f"{section}:{rid}:{f}", group, f"{name}: {f}", UNITS.get(f, _unit(f)), q,
                         sources=tuple(q.source)))
    return out


def _unit(field: str) -> str:
    for suffix, unit in (("_tflops", "TFLOPS"), ("_tops", "TOPS"), ("_gbps_unidir", "GB/s each way"),
                         ("_gbps_bidir", "GB/s both ways"), ("_gbps", "GB/s"), ("_gib", "GiB"), ("_mm2", "mm2"),
                         ("_w", "W"), ("_chips", "chips"), ("_count", "count")):
        if field.endswith(suffix):
            return unit
    return ""


def inputs(catalog: Catalog, chips: Sequence[str] = (), systems: Sequence[str] = ()) -> list[Input]:
    """Every assumed or ranged input of the answers, grouped (see `GROUPS`).

    Parameters
    ----------
    catalog : Catalog
    chips, systems : sequences of str
        The chips and systems whose ranged or estimated specs to list (the report's, say); the
        cost, price, supply, electricity and export inputs are listed for every entry.

    Returns
    -------
    list of Input
    """
    out: list[Input] = []
    g_cost, g_price, g_energy, g_supply, g_export, g_chip, g_sys = GROUPS
    nodes: dict[str, str] = {}
    for cid, cost in catalog.all("chip_cost").items():
        chip = catalog.chip(cost.chip)
        for i, y in enumerate(cost.yields):
            label = f"{chip.name}: die yield {y.date}" + (" (target)" if y.kind == "target" else "") \
                + (f" ({y.basis})" if y.basis != "unspecified" else "")
            out.append(Input(f"chip_costs:{cid}:yields.{i}.value", g_cost, label, "fraction", y.value,
                             sources=tuple(y.value.source)))
        out += _quantities("chip_costs", cid, cost, COST_FIELDS, g_cost, chip.name)
        if chip.process_node:
            nodes[chip.process_node] = chip.name
    for nid in nodes:
        node = catalog.node(nid)
        out += _quantities("nodes", nid, node, ("wafer_price_usd", "d0_per_cm2"), g_cost, f"process {nid}")
    for sid, s in catalog.all("system").items():
        out += _quantities("systems", sid, s, ("price_usd",), g_price, s.name)
    for cid, c in catalog.all("chip").items():
        out += _quantities("chips", cid, c, ("price_usd",), g_price, c.name)
    for aid, a in catalog.all("assumption").items():
        out.append(Input(f"assumptions:{aid}:quantity", g_energy, aid.replace("-", " "), a.unit, a.quantity,
                         sources=tuple(a.quantity.source)))
    for sid, sc in catalog.all("scenario").items():
        out += _quantities("supply", sid, sc, SUPPLY_FIELDS, g_supply, sc.name)
        if sc.wafer_capacity is not None:
            q = sc.wafer_capacity.wafers_per_year
            out.append(Input(f"supply:{sid}:wafer_capacity.wafers_per_year", g_supply,
                             f"{sc.name}: advanced wafers of {sc.wafer_capacity.foundry}", "wafers", q,
                             sources=tuple(q.source)))
        if sc.die_bank is not None and sc.die_bank.dies is not None:
            q = sc.die_bank.dies
            out.append(Input(f"supply:{sid}:die_bank.dies", g_supply, f"{sc.name}: die bank at the start",
                             "dies", q, sources=tuple(q.source)))
        for i, line in enumerate(sc.lines):
            for f in ("chips_per_year", "wafers_per_year", "die_yield"):
                q = getattr(line, f)
                if q is not None:
                    out.append(Input(f"supply:{sid}:lines.{i}.{f}", g_supply, f"{sc.name}: {line.label} {f}",
                                     UNITS[f], q, sources=tuple(q.source)))
        for i, imp in enumerate(sc.imports):
            out.append(Input(f"supply:{sid}:imports.{i}.units", g_supply, f"{sc.name}: imports of {imp.chip}",
                             "chips", imp.units, sources=tuple(imp.units.source)))
    for rid, rule in catalog.rules.items():
        for i, cl in enumerate(rule.classifications):
            for j, prong in enumerate(cl.prongs):
                for k, cond in enumerate(prong.all_of):
                    out.append(Input(f"export_rules:{rid}:classifications.{i}.prongs.{j}.all_of.{k}.threshold",
                                     g_export, f"{rid} {cl.eccn} {prong.id}: {cond.metric} {_OPS[cond.op]}",
                                     _METRIC_UNITS.get(cond.metric, ""), number=cond.threshold,
                                     sources=tuple(rule.source)))
    from chipgap.catalog.schema import Chip, System

    for cid in dict.fromkeys(catalog.resolve("chip", c) for c in chips):
        c = catalog.chip(cid)
        out += _quantities("chips", cid, c, [f for f in quantity_fields(Chip) if f != "price_usd"], g_chip,
                           c.name, only_uncertain=True)
    for sid in dict.fromkeys(catalog.resolve("system", s) for s in systems):
        s = catalog.system(sid)
        out += _quantities("systems", sid, s, [f for f in quantity_fields(System) if f != "price_usd"], g_sys,
                           s.name, only_uncertain=True)
    return out


_OPS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_METRIC_UNITS = {"tpp": "TPP", "performance_density": "TPP per mm2", "io_bw_gbps_bidir": "GB/s",
                 "memory_bw_gbps": "GB/s", "scaleup_bw_gbps_bidir": "GB/s"}


def check_change(change: Change, index: dict[str, Input]) -> Input:
    """The input ``change`` sets, after checking the new number's shape.

    Raises
    ------
    InputError
        Naming the key, when it is not a known input or the number is not a number or a range.
    """
    old = index.get(change.key)
    if old is None:
        raise InputError("key", "the key of an input the workbench lists", change.key)
    nums = [x for x in (change.value, change.low, change.high, change.mode) if x is not None]
    if any(not isinstance(x, (int, float)) or isinstance(x, bool) or x != x or abs(x) == float("inf")
           for x in nums):
        raise InputError(change.key, "finite numbers", nums)
    if change.value is None and (change.low is None or change.high is None or not change.low < change.high):
        raise InputError(change.key, "a number, or a range with low < high", change.to_dict())
    if change.value is not None and (change.low is not None or change.high is not None):
        raise InputError(change.key, "a number or a range, not both", change.to_dict())
    if old.quantity is None and change.value is None:
        raise InputError(change.key, "a single number (a threshold has no range)", change.to_dict())
    if change.mode is not None and not change.low <= change.mode <= change.high:
        raise InputError(change.key, f"a mode inside [{change.low:g}, {change.high:g}]", change.mode)
    return old


def _dump(x: Any) -> Any:
    """A record, quantity or tuple as the plain data the catalog's YAML grammar reads."""
    if isinstance(x, Quantity):
        d = x.model_dump(exclude_none=True)
        d["source"] = list(x.source)
        return d
    if isinstance(x, BaseModel):
        return {k: _dump(getattr(x, k)) for k in type(x).model_fields
                if getattr(x, k) is not None and k in x.model_fields_set}
    if isinstance(x, (list, tuple)):
        return [_dump(v) for v in x]
    return x


def _set(data: Any, path: list[str], value: Any) -> None:
    for p in path[:-1]:
        data = data[int(p)] if isinstance(data, list) else data[p]
    last = path[-1]
    if isinstance(data, list):
        data[int(last)] = value
    else:
        data[last] = value


def scenario_document(catalog: Catalog, changes: Sequence[Change], name: str = "workbench") -> dict[str, Any]:
    """A scenario file (as data) that applies ``changes`` to the catalog.

    Each changed number cites the source `SOURCE_ID`, which the scenario adds, with confidence
    ``estimate`` and a note giving the catalog's own value and sources. The scenario asks one
    cheap question per kind of input changed (a scenario needs one); the report's sections
    carry the answers.

    Raises
    ------
    InputError
        When a change names an unknown input or is not a number or a range, or there are more
        than `MAX_CHANGES`.
    """
    if len(changes) > MAX_CHANGES:
        raise InputError("changes", f"at most {MAX_CHANGES} changes", len(changes))
    index = {i.key: i for i in inputs(catalog)}
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    described = []
    for ch in changes:
        old = _index_with_specs(catalog, index, ch.key)
        check_change(ch, {ch.key: old})
        section, rid, path = ch.key.split(":", 2)
        rec = catalog.get(SECTION_KIND[section], rid)
        parts = path.split(".")
        entry = entries.setdefault((section, rid), {"id": rid})
        if parts[0] not in entry:
            entry[parts[0]] = _dump(getattr(rec, parts[0]))
        new = ch.as_quantity(old) if old.quantity is not None else ch.value
        if len(parts) == 1:
            entry[parts[0]] = new
        else:
            _set(entry[parts[0]], parts[1:], new)
        shown = plain(ch.value) if ch.value is not None else f"{plain(ch.low)}-{plain(ch.high)}"
        described.append(f"{old.label} {_text(old)} -> {shown}")
    today = datetime.date.today().isoformat()
    cat_doc: dict[str, Any] = {"sources": [{
        "id": SOURCE_ID, "title": "Assumptions changed in the chipgap workbench (chipgap serve)",
        "kind": "other", "date": today,
        "notes": "Numbers set by the workbench's user; each changed entry's note gives the catalog's value."}]}
    for (section, _), entry in entries.items():
        cat_doc.setdefault(section, []).append(entry)
    return {"name": name, "title": "Assumptions changed in the workbench",
            "description": ("Changed: " + "; ".join(described) + ".") if described else "No changes.",
            "sources": [SOURCE_ID], "catalog": cat_doc, "questions": _questions(catalog, entries)}


def _index_with_specs(catalog: Catalog, index: dict[str, Input], key: str) -> Input:
    """The input ``key``; a chip or system spec not listed by default is looked up by key."""
    if key in index:
        return index[key]
    parts = key.split(":")
    if len(parts) == 3 and parts[0] in ("chips", "systems") and "." not in parts[2]:
        try:
            rec = catalog.get(SECTION_KIND[parts[0]], parts[1])
        except Exception:  # noqa: BLE001  (an unknown id is reported below as an unknown key)
            rec = None
        if rec is not None and parts[2] in quantity_fields(type(rec)) and getattr(rec, parts[2]) is not None:
            found = _quantities(parts[0], rec.id, rec, (parts[2],), GROUPS[5], getattr(rec, "name", rec.id))
            if found:
                return found[0]
    raise InputError("key", "the key of an input the workbench lists", key)


def _questions(catalog: Catalog, entries: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    costed = [catalog.get("chip_cost", rid).chip for (s, rid) in entries if s == "chip_costs"]
    nodes = {rid for (s, rid) in entries if s == "nodes"}
    costed += [c.chip for c in catalog.all("chip_cost").values() if catalog.chip(c.chip).process_node in nodes]
    supply = [rid for (s, rid) in entries if s == "supply"]
    specs = {(rid, f) for (s, rid), e in entries.items() if s == "chips" for f in e if f not in ("id", "price_usd")}
    qs: list[dict[str, Any]] = []
    # chip-cost questions are left out: the report's scenario section cannot show their table yet
    if supply:
        qs.append({"id": "supply", "title": "Supply scenarios changed", "ask": "supply", "scenarios": supply[:12]})
    if specs:
        qs.append({"id": "specs", "title": "Chip specs changed", "ask": "spec",
                   "chips": sorted({c for c, _ in specs})[:40], "fields": sorted({f for _, f in specs})[:20]})
    if costed:
        qs.append({"id": "cost-inputs", "title": "Price and die area of the chips whose cost inputs changed "
                   "(their unit cost is in the report's yield and unit-cost section)", "ask": "spec",
                   "chips": list(dict.fromkeys(costed))[:40], "fields": ["price_usd", "compute_die_area_mm2"]})
    if not qs:
        qs.append({"id": "headline", "title": "The headline spec gap (a scenario asks at least one question; "
                   "the report's sections carry the answers)", "ask": "spec",
                   "chips": ["huawei-ascend-910c", "nvidia-h100-sxm"], "fields": ["bf16_dense_tflops"]})
    return qs


def write_scenario(doc: dict[str, Any], path: str | Path) -> Path:
    """Write a scenario document as YAML (safe dump, keys in order)."""
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return path


def to_yaml(doc: dict[str, Any]) -> str:
    """A scenario document as YAML text, with a comment saying how to use it."""
    import yaml

    head = ("# A chipgap scenario written by the workbench (chipgap serve).\n"
            "# Use it with: chipgap report --scenario THIS_FILE  (or upload it back to the workbench)\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def changes_from_scenario(catalog: Catalog, text: str, label: str = "uploaded scenario",
                          chips: Sequence[str] = (), systems: Sequence[str] = ()) -> tuple[list[Change], list[str]]:
    """The changes a scenario file makes to the inputs `inputs` lists, and what else it changes.

    The file is read with the catalog's safe YAML loader and validated as a scenario; its
    catalog changes are applied, and every listed input whose number differs becomes a `Change`.

    Returns
    -------
    changes : list of Change
    ignored : list of str
        Catalog entries and fields the scenario changes that are no listed input (they would
        apply in ``chipgap report --scenario`` but the workbench does not show them).

    Raises
    ------
    CatalogError
        Naming the field, when the text is not safe YAML or not a valid scenario.
    """
    from chipgap.analyses.scenario import scenario_catalog
    from chipgap.catalog.scenario import read_scenario

    with tempfile.TemporaryDirectory(prefix="chipgap-upload-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            sc = read_scenario(path)
            new = scenario_catalog(sc)
        except CatalogError as e:
            raise CatalogError(label, e.message, entry=e.entry, field=e.field) from None
    base_inputs = inputs(catalog, chips, systems)
    new_index = {i.key: i for i in inputs(new, chips, systems)}
    changes, covered = [], set()
    for old in base_inputs:
        n = new_index.get(old.key)
        if n is None:
            continue
        section, rid, path = old.key.split(":", 2)
        covered.add((section, rid, path.split(".")[0]))
        if old.quantity is None:
            if n.number != old.number:
                changes.append(Change(old.key, value=n.number))
        elif _numbers(n.quantity) != _numbers(old.quantity):
            q = n.quantity
            changes.append(Change(old.key, value=q.value) if not q.is_range else
                           Change(old.key, low=q.low, high=q.high, mode=q.mode))
    ignored = [f"{section}:{e.get('id')}:{f}" for section, items in sc.catalog.items() if section != "sources"
               for e in (items if isinstance(items, list) else []) if isinstance(e, dict)
               for f in e if f != "id" and (section, e.get("id"), f) not in covered]
    return changes, ignored


def _numbers(q: Quantity) -> tuple:
    return (q.value, q.low, q.high, q.mode)
