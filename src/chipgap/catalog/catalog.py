"""The loaded catalog: look-ups by id or alias, and tidy tables of each kind of record."""

from __future__ import annotations

from typing import Any

import pandas as pd

from chipgap.catalog.costs import ChipCost
from chipgap.catalog.export_rules import ExportRule
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.supply import SupplyScenario
from chipgap.catalog.schema import (Chip, Company, ProcessNode, Source, System, WorkloadEntry,
                                    quantity_fields)
from chipgap.catalog.workload import Workload
from chipgap.errors import CatalogError, UnknownIdError

KINDS = {"source": "sources", "company": "companies", "node": "nodes", "chip": "chips",
         "system": "systems", "workload": "workloads", "rule": "export_rules",
         "run": "runs", "serving_run": "serving_runs", "chip_cost": "chip_costs",
         "assumption": "assumptions", "scenario": "supply", "run_group": "run_groups",
         "framework": "frameworks", "stack": "software_stacks", "constant": "model_constants",
         "fit": "model_fit", "target": "accuracy_targets", "supply_estimate": "supply_estimates",
         "market_claim": "market_claims"}


def normalize_id(s: str) -> str:
    """Ids and aliases match without regard to case, spaces, dashes, underscores or dots."""
    return "".join(c for c in s.lower() if c.isalnum())


class Catalog:
    """Every record chipgap knows, validated and cross-checked.

    Build one with `chipgap.load_catalog`. Look-ups accept an id or any alias, in any case,
    with or without dashes (``"H100"``, ``"nvidia-h100-sxm"``, ``"910c"``).
    """

    def __init__(self, records: dict[str, dict[str, Any]], workloads: dict[str, Workload],
                 origin: dict[tuple[str, str], str]):
        self._records = records
        self.workload_models: dict[str, Workload] = workloads
        self._origin = origin
        self._index = {section: self._build_index(section) for section in records}

    def _build_index(self, section: str) -> dict[str, str]:
        index: dict[str, str] = {}
        for key, rec in self._records[section].items():
            for name in (key, *getattr(rec, "aliases", ())):
                norm = normalize_id(name)
                if index.get(norm, key) != key:
                    raise CatalogError(self._origin.get((section, key), section),
                                       f"alias '{name}' is already used by '{index[norm]}'",
                                       entry=key, field="aliases")
                index[norm] = key
        return index

    # -- look-ups -----------------------------------------------------------------------------
    def resolve(self, kind: str, name: str) -> str:
        """The canonical id of ``name`` among records of ``kind`` ('chip', 'system', ...).

        Raises
        ------
        UnknownIdError
            With the closest known ids when nothing matches.
        """
        section = KINDS[kind]
        key = self._index[section].get(normalize_id(name))
        if key is None:
            known = list(self._records[section])
            known += [a for r in self._records[section].values() for a in getattr(r, "aliases", ())]
            raise UnknownIdError(kind, name, known)
        return key

    def get(self, kind: str, name: str) -> Any:
        """The record of ``kind`` ('chip', 'system', 'company', 'node', 'source', 'rule',
        'run', 'serving_run', 'assumption', 'scenario', ...) named by id or alias."""
        return self._records[KINDS[kind]][self.resolve(kind, name)]

    def all(self, kind: str) -> dict[str, Any]:
        """Every record of ``kind``, by id."""
        return dict(self._records[KINDS[kind]])

    # typed shortcuts for the records most code asks for
    def chip(self, name: str) -> Chip:
        return self.get("chip", name)

    def system(self, name: str) -> System:
        return self.get("system", name)

    def company(self, name: str) -> Company:
        return self.get("company", name)

    def node(self, name: str) -> ProcessNode:
        return self.get("node", name)

    def source(self, name: str) -> Source:
        return self.get("source", name)

    def rule(self, name: str) -> ExportRule:
        """An export-control rule version by its effective month (``2023-10``)."""
        return self.get("rule", name)

    def supply(self, name: str) -> SupplyScenario:
        """A supply scenario by id (``china-2025-base``)."""
        return self.get("scenario", name)

    def assumption(self, name: str) -> Quantity:
        """A sourced default by id (``electricity-usd-per-kwh-us``)."""
        return self.get("assumption", name).quantity

    def workload(self, name: str) -> Workload:
        """The architecture of a catalog workload, read from its config.json."""
        return self.workload_models[self.resolve("workload", name)]

    def workload_entry(self, name: str) -> WorkloadEntry:
        return self.get("workload", name)

    def chip_cost(self, chip: str) -> ChipCost | None:
        """The cost inputs recorded for a chip (by chip id or alias), or None."""
        cid = self.resolve("chip", chip)
        return next((c for c in self._records["chip_costs"].values() if c.chip == cid), None)

    def default_system(self, chip: str) -> System | None:
        """The server a chip usually ships in, or None when it has none (consumer cards, CPUs)."""
        c = self.chip(chip)
        return self.system(c.default_system) if c.default_system else None

    def origin(self, kind: str, name: str) -> str:
        """The file an entry was read from (``catalog:...`` for bundled data)."""
        return self._origin[(KINDS[kind], self.resolve(kind, name))]

    @property
    def rules(self) -> dict[str, ExportRule]:
        """Every rule version, in order of effective date."""
        return dict(sorted(self._records["export_rules"].items(), key=lambda kv: kv[1].effective))

    chips = property(lambda self: self.all("chip"), doc="Every chip, by id.")
    systems = property(lambda self: self.all("system"), doc="Every system, by id.")
    workloads = property(lambda self: self.all("workload"), doc="Every workload entry, by id.")
    companies = property(lambda self: self.all("company"), doc="Every company, by id.")
    nodes = property(lambda self: self.all("node"), doc="Every process node, by id.")
    sources = property(lambda self: self.all("source"), doc="Every source, by id.")
    runs = property(lambda self: self.all("run"), doc="Published training measurements.")
    serving_runs = property(lambda self: self.all("serving_run"), doc="Published serving measurements.")
    supply_scenarios = property(lambda self: self.all("scenario"), doc="Every supply scenario, by id.")
    supply_estimates = property(lambda self: self.all("supply_estimate"),
                                doc="Published estimates of AI-chip output, by id.")
    market_claims = property(lambda self: self.all("market_claim"), doc="The article's market claims, by id.")

    # -- tables -------------------------------------------------------------------------------
    def to_frame(self, kind: str, value: str = "point") -> pd.DataFrame:
        """One row per record of ``kind``; quantities as their ``value`` ('point', 'low', 'high').

        Examples
        --------
        >>> import chipgap
        >>> df = chipgap.load_catalog().to_frame("chip")
        >>> float(df.loc["nvidia-h100-sxm", "memory_bw_gbps"])
        3350.0
        """
        rows = [record_row(r, value) for r in self._records[KINDS[kind]].values()]
        return pd.DataFrame(rows).set_index("id") if rows else pd.DataFrame()


def record_to_dict(record: Any) -> dict[str, Any]:
    """A record as JSON-ready data: every quantity with its value or range, sources and confidence."""
    data = record.model_dump(exclude_none=True, mode="json")
    for name in quantity_fields(type(record)):
        q = getattr(record, name)
        if q is not None:
            data[name] = q.to_dict()
    return data


def record_row(record: Any, value: str = "point") -> dict[str, Any]:
    """A record as one flat row: quantities reduced to a number, tuples joined with commas."""
    qfields = set(quantity_fields(type(record)))
    row: dict[str, Any] = {}
    for name in type(record).model_fields:
        v = getattr(record, name)
        if name in qfields:
            row[name] = _number(v, value)
        elif isinstance(v, tuple):
            row[name] = ", ".join(x if isinstance(x, str) else getattr(x, "company", str(x)) for x in v)
        else:
            row[name] = v
    return row


def _number(q: Quantity | None, value: str) -> float | None:
    if q is None:
        return None
    return q.point if value == "point" else q.bounds[0 if value == "low" else 1]
