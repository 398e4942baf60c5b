"""Reading catalog folders (bundled and a user's) into a validated `Catalog`.

A catalog folder holds ``*.yaml`` files at any depth. Each file is a mapping whose keys are
sections (``sources``, ``companies``, ``nodes``, ``chips``, ``systems``, ``workloads``), each a
list of entries with an ``id``. A user folder is read on top of the bundled one: an entry with a
new id is added; an entry with a known id (or alias) replaces the fields it names and keeps the
rest (a field set to null there is an error: it cannot remove a value the catalog holds).
Nothing is ever written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from chipgap.catalog.catalog import Catalog, normalize_id
from chipgap.catalog.costs import ChipCost
from chipgap.catalog.export_rules import ExportRule
from chipgap.catalog.model_data import (AccuracyTarget, Framework, ModelConstant, ModelFit, RunGroup,
                                        SoftwareStack)
from chipgap.catalog.market import MarketClaim
from chipgap.catalog.runs import ServingRun, TrainingRun
from chipgap.catalog.supply import SupplyEstimate, SupplyScenario
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.schema import (Assumption, Chip, Company, ProcessNode, Source, System, WorkloadEntry,
                                    expand_quantities, quantity_fields)
from chipgap.catalog.workload import Workload, read_config_file, workload_from_config
from chipgap.catalog.yamlio import read_yaml
from chipgap.errors import CatalogError, validation_message

ENV_VAR = "CHIPGAP_CATALOG"
SECTIONS: dict[str, type[BaseModel]] = {
    "sources": Source, "companies": Company, "nodes": ProcessNode,
    "chips": Chip, "systems": System, "workloads": WorkloadEntry, "export_rules": ExportRule,
    "runs": TrainingRun, "serving_runs": ServingRun, "chip_costs": ChipCost,
    "assumptions": Assumption, "supply": SupplyScenario, "supply_estimates": SupplyEstimate,
    "market_claims": MarketClaim,
    "run_groups": RunGroup, "frameworks": Framework, "software_stacks": SoftwareStack,
    "model_constants": ModelConstant, "model_fit": ModelFit, "accuracy_targets": AccuracyTarget,
}
MAX_FILES = 2000


def bundled_dir() -> Path:
    """The folder of catalog data that ships inside the package."""
    return Path(__file__).parent / "data"


@dataclass
class _Raw:
    """Entries as read from YAML (shorthand expanded), not yet validated."""

    entries: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {k: {} for k in SECTIONS})
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    config_paths: dict[str, Path] = field(default_factory=dict)
    problems: list[CatalogError] = field(default_factory=list)


def catalog_files(root: Path, suffixes: tuple[str, ...] = (".yaml", ".yml"),
                  label_prefix: str = "") -> tuple[list[Path], list[CatalogError]]:
    """The files of a catalog folder that end in ``suffixes``, at any depth, in path order.

    Hidden files and folders (a name starting with '.') are skipped. A symbolic link that
    resolves outside the folder is refused (a problem naming it), never followed: a catalog
    folder holds its own files. Links to folders are not descended.

    Returns
    -------
    files : list of Path
    problems : list of CatalogError
    """
    inside = root.resolve()
    files: list[Path] = []
    problems: list[CatalogError] = []

    def outside(p: Path) -> bool:
        if not p.is_symlink():
            return False
        try:
            return not p.resolve().is_relative_to(inside)
        except (OSError, RuntimeError):  # a loop of links
            return True

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        folder = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        for name in dirnames:
            if outside(folder / name):
                rel = (folder / name).relative_to(root).as_posix()
                problems.append(CatalogError(f"{label_prefix}{rel}", "is a symbolic link to a folder "
                                             "outside the catalog folder; copy its files in instead"))
        for name in sorted(filenames):
            p = folder / name
            if name.startswith(".") or p.suffix not in suffixes:
                continue
            if outside(p):
                problems.append(CatalogError(f"{label_prefix}{p.relative_to(root).as_posix()}",
                                             "is a symbolic link to a file outside the catalog folder; "
                                             "copy the file in instead"))
                continue
            files.append(p)
        if len(files) > MAX_FILES:
            raise CatalogError(str(root), f"holds more than {MAX_FILES} {'/'.join(suffixes)} files")
    return sorted(files), problems


def _read_folder(root: Path, label_prefix: str) -> _Raw:
    raw = _Raw()
    if not root.is_dir():
        raw.problems.append(CatalogError(str(root), "is not a folder"))
        return raw
    try:
        files, raw.problems = catalog_files(root, label_prefix=label_prefix)
    except CatalogError as e:
        raw.problems.append(e)
        return raw
    for path in files:
        label = f"{label_prefix}{path.relative_to(root).as_posix()}"
        try:
            _read_file(path, label, root, raw)
        except CatalogError as e:
            raw.problems.append(e)
    return raw


def _read_file(path: Path, label: str, root: Path, raw: _Raw) -> None:
    _read_doc(read_yaml(path, label), label, path.parent, root, raw)


def _read_doc(doc: Any, label: str, folder: Path, root: Path, raw: _Raw) -> None:
    """Add a parsed document's entries; workload configs resolve from ``folder``, inside ``root``."""
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise CatalogError(label, f"must be a mapping of sections ({', '.join(SECTIONS)}). "
                                  f"Got a {type(doc).__name__} instead")
    for section, items in doc.items():
        if section not in SECTIONS:
            raise CatalogError(label, f"unknown section '{section}'; expected one of "
                                      f"{', '.join(SECTIONS)}")
        if not isinstance(items, list):
            raise CatalogError(label, f"section '{section}' must be a list of entries")
        for i, item in enumerate(items):
            _add_entry(section, item, i, label, raw)
            if section == "workloads" and isinstance(item, dict) and "config" in item \
                    and isinstance(item.get("id"), str):
                _resolve_config(item, folder, label, root, raw)


def _resolve_config(item: dict[str, Any], folder: Path, label: str, root: Path, raw: _Raw) -> None:
    """Record where a workload's config.json is; it must sit inside the catalog folder."""
    rel = item["config"]
    if not isinstance(rel, str):
        return  # the schema reports the type
    target = (folder / rel).resolve()
    if Path(rel).is_absolute() or not target.is_relative_to(root.resolve()):
        raw.problems.append(CatalogError(label, "must be a path inside the catalog folder, "
                                                "relative to this YAML file. Got "
                                                f"{rel!r} instead", entry=item["id"], field="config"))
    else:
        raw.config_paths[item["id"]] = target


def _add_entry(section: str, item: Any, i: int, label: str, raw: _Raw) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raw.problems.append(CatalogError(label, f"entry {i + 1} of '{section}' must be a mapping "
                                                "with a string 'id'"))
        return
    key = item["id"]
    if (section, key) in raw.origin:
        first = raw.origin[(section, key)]
        raw.problems.append(CatalogError(label, f"is defined twice (also in {first})", entry=key))
        return
    try:
        raw.entries[section][key] = expand_quantities(SECTIONS[section], item)
    except ValueError as e:
        raw.problems.append(CatalogError(label, str(e), entry=key, field="defaults"))
        return
    raw.origin[(section, key)] = label


def _overlay(base: _Raw, user: _Raw) -> _Raw:
    """``user`` entries on top of ``base``: new ids added, known ids (or aliases) updated."""
    out = _Raw(entries={k: dict(v) for k, v in base.entries.items()}, origin=dict(base.origin),
               config_paths=dict(base.config_paths), problems=base.problems + user.problems)
    for section, entries in user.entries.items():
        index = _alias_index(out.entries[section])
        for key, data in entries.items():
            target = index.get(normalize_id(key), key)
            base_entry = out.entries[section].get(target, {})
            for name, value in data.items():
                if value is None and base_entry.get(name) is not None:
                    out.problems.append(CatalogError(
                        user.origin[(section, key)], "is null, which would remove a value the catalog "
                        "holds; give a value or a range instead", entry=key, field=name))
            data = {k: v for k, v in data.items() if v is not None or base_entry.get(k) is None}
            out.entries[section][target] = {**base_entry, **data, "id": target}
            out.origin[(section, target)] = user.origin[(section, key)]
            if section == "workloads" and key in user.config_paths:
                out.config_paths[target] = user.config_paths[key]
    return out


def _alias_index(entries: dict[str, dict[str, Any]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, data in entries.items():
        aliases = data.get("aliases")
        for name in (key, *(aliases if isinstance(aliases, list) else ())):
            if isinstance(name, str):
                index[normalize_id(name)] = key
    return index


def _validate(raw: _Raw) -> tuple[dict[str, dict[str, Any]], list[CatalogError]]:
    records: dict[str, dict[str, Any]] = {k: {} for k in SECTIONS}
    problems = list(raw.problems)
    for section, entries in raw.entries.items():
        for key, data in entries.items():
            label = raw.origin[(section, key)]
            try:
                records[section][key] = SECTIONS[section].model_validate(data)
            except ValidationError as e:
                problems.append(_from_validation(label, key, e))
    return records, problems


def _from_validation(label: str, key: str, e: ValidationError) -> CatalogError:
    errs = e.errors()
    err = errs[0]
    loc = [str(p) for p in err.get("loc", ())]
    msg = validation_message(err)
    if len(errs) > 1:
        msg += f" (and {len(errs) - 1} more problem{'s' * (len(errs) > 2)} in this entry)"
    return CatalogError(label, msg, entry=key, field=".".join(loc) or None)


def _check_references(records: dict[str, dict[str, Any]], raw: _Raw) -> list[CatalogError]:
    problems: list[CatalogError] = []

    def need(section: str, key: str, field_name: str, target: str, ref: str | None) -> None:
        # an entry that exists but failed validation is reported once, not by everything naming it
        if ref is not None and ref not in records[target] and ref not in raw.entries[target]:
            label = raw.origin[(section, key)]
            singular = {"companies": "company", "supply": "supply scenario"}.get(target, target[:-1])
            problems.append(CatalogError(label, f"names {singular}"
                                                f" '{ref}', which the catalog does not hold",
                                         entry=key, field=field_name))

    for section, entries in records.items():
        for key, rec in entries.items():
            for fname in quantity_fields(type(rec)):
                q: Quantity | None = getattr(rec, fname)
                for s in (q.source if q is not None else ()):
                    need(section, key, f"{fname}.source", "sources", s)
            for s in getattr(rec, "source", ()) or ():
                need(section, key, "source", "sources", s)
    for key, c in records["chips"].items():
        need("chips", key, "vendor", "companies", c.vendor)
        need("chips", key, "process_node", "nodes", c.process_node)
        need("chips", key, "default_system", "systems", c.default_system)
        for sup in c.suppliers:
            need("chips", key, "suppliers.company", "companies", sup.company)
            for s in sup.source:
                need("chips", key, "suppliers.source", "sources", s)
    for key, s in records["systems"].items():
        need("systems", key, "chip", "chips", s.chip)
        need("systems", key, "vendor", "companies", s.vendor)
    for key, n in records["nodes"].items():
        need("nodes", key, "foundry", "companies", n.foundry)
    for key, sc in records["supply"].items():
        for item in (*sc.lines, *sc.imports):
            need("supply", key, "lines.chip", "chips", item.chip)
            need("supply", key, "lines.designer", "companies", getattr(item, "designer", None))
            for q in (getattr(item, "chips_per_year", None), getattr(item, "wafers_per_year", None),
                      getattr(item, "die_yield", None), getattr(item, "units", None)):
                for ref in (q.source if q is not None else ()):
                    need("supply", key, "lines.source", "sources", ref)
        need("supply", key, "carry_from", "supply", sc.carry_from)
        if sc.wafer_capacity is not None:
            need("supply", key, "wafer_capacity.foundry", "companies", sc.wafer_capacity.foundry)
            for n in sc.wafer_capacity.nodes:
                need("supply", key, "wafer_capacity.nodes", "nodes", n)
            for ref in sc.wafer_capacity.wafers_per_year.source:
                need("supply", key, "wafer_capacity.source", "sources", ref)
        if sc.die_bank is not None:
            need("supply", key, "die_bank.foundry", "companies", sc.die_bank.foundry)
            for c in sc.die_bank.chips:
                need("supply", key, "die_bank.chips", "chips", c)
            for ref in (sc.die_bank.dies.source if sc.die_bank.dies is not None else ()):
                need("supply", key, "die_bank.source", "sources", ref)
    for key, est in records["supply_estimates"].items():
        for d in est.designers:
            need("supply_estimates", key, "designers", "companies", d)
        for c in est.chips:
            need("supply_estimates", key, "chips", "chips", c)
    for key, cost in records["chip_costs"].items():
        need("chip_costs", key, "chip", "chips", cost.chip)
        for report in cost.yields:
            for ref in report.value.source:
                need("chip_costs", key, "yields.value.source", "sources", ref)
    for section in ("runs", "serving_runs"):
        for key, run in records[section].items():
            need(section, key, "workload", "workloads", run.workload)
            need(section, key, "chip", "chips", run.chip)
            need(section, key, "system", "systems", run.system)
    for key, group in records["run_groups"].items():
        for ref in group.sources:
            need("run_groups", key, "sources", "sources", ref)
    for key, stack in records["software_stacks"].items():
        for chip in (*stack.chips, *stack.report_as):
            need("software_stacks", key, "chips", "chips", chip)
        for name in ("gemm_max", "memory"):
            for ref in getattr(stack, name).source:
                need("software_stacks", key, f"{name}.source", "sources", ref)
        for engine in stack.engines:
            need("software_stacks", key, "engines", "frameworks", engine)
    for key, const in records["model_constants"].items():
        for ref in (const.prior.source if const.prior else ()):
            need("model_constants", key, "prior.source", "sources", ref)
    for key, mc in records["market_claims"].items():
        for c in mc.companies:
            need("market_claims", key, "companies", "companies", c)
        for f in mc.figures:
            need("market_claims", key, "figures.company", "companies", f.company)
            need("market_claims", key, "figures.chip", "chips", f.chip)
            for ref in f.value.source:
                need("market_claims", key, "figures.value.source", "sources", ref)
        for t in mc.tests:
            need("market_claims", key, "tests.company", "companies", t.company)
    for key, rule in records["export_rules"].items():
        for m in rule.measures:
            refs = [*m.source, *(s for q in (m.percent, m.tpp_cap) if q for s in q.source)]
            for ref in refs:
                need("export_rules", key, "measures.source", "sources", ref)
    return problems


def _load_workloads(records: dict[str, dict[str, Any]],
                    raw: _Raw) -> tuple[dict[str, Workload], list[CatalogError]]:
    workloads: dict[str, Workload] = {}
    problems: list[CatalogError] = []
    for key, entry in records["workloads"].items():
        if key not in raw.config_paths:
            continue  # its path was refused when the file was read
        try:
            cfg_path = raw.config_paths[key]
            workloads[key] = workload_from_config(read_config_file(cfg_path), file=str(cfg_path),
                                                  id=key, name=entry.name, family=entry.family,
                                                  source=entry.source)
        except CatalogError as e:
            problems.append(CatalogError(raw.origin[("workloads", key)], f"config {e}",
                                         entry=key, field="config"))
    return workloads, problems


@lru_cache(maxsize=1)
def _bundled_raw() -> _Raw:
    return _read_folder(bundled_dir(), "catalog:")


Overlay = tuple[str, Path, dict[str, Any]]
"""An in-memory catalog document read on top: (label for errors, its folder, the sections)."""


def read_catalog(user_dir: str | Path | None = None,
                 overlays: tuple[Overlay, ...] = ()) -> tuple[Catalog | None, list[CatalogError]]:
    """Read and validate the bundled catalog with ``user_dir``, then ``overlays``, on top.

    Returns the catalog and every problem; the catalog is None when a problem stops it from
    being built at all. Use `load_catalog` unless you want the full list of problems (as
    ``chipgap catalog check`` does). A scenario's ``catalog:`` section is an overlay.
    """
    raw = _bundled_raw()
    if user_dir is not None:
        user_root = Path(user_dir)
        raw = _overlay(raw, _read_folder(user_root, f"{user_root.as_posix().rstrip('/')}/"))
    for label, folder, doc in overlays:
        layer = _Raw()
        try:
            _read_doc(doc, label, folder, folder, layer)
        except CatalogError as e:
            layer.problems.append(e)
        raw = _overlay(raw, layer)
    records, problems = _validate(raw)
    problems += _check_references(records, raw)
    workloads, wl_problems = _load_workloads(records, raw)
    problems += wl_problems
    try:
        catalog = Catalog(records, workloads, dict(raw.origin))
    except CatalogError as e:
        return None, problems + [e]
    return catalog, problems


def load_catalog(user_dir: str | Path | None = None, overlays: tuple[Overlay, ...] = ()) -> Catalog:
    """Load the bundled catalog, with a user's folder of YAML on top.

    Parameters
    ----------
    user_dir : str or Path, optional
        A folder of YAML files laid out like the bundled data. When None, the folder named by the
        ``CHIPGAP_CATALOG`` environment variable is used, if set.
    overlays : tuple of (label, folder, document), optional
        In-memory documents read on top, in order (a scenario's catalog changes).

    Returns
    -------
    Catalog

    Raises
    ------
    CatalogError
        On the first problem found (the message counts the others).

    Examples
    --------
    >>> import chipgap
    >>> cat = chipgap.load_catalog()
    >>> cat.chip("h100").bf16_dense_tflops.value
    989.4
    """
    if user_dir is None and os.environ.get(ENV_VAR):
        user_dir = os.environ[ENV_VAR]
    catalog, problems = read_catalog(user_dir, overlays)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            hint = f"chipgap catalog check {user_dir}" if user_dir else "chipgap catalog check"
            first = CatalogError(first.file, f"{first.message} (+{len(problems) - 1} more; run "
                                             f"'{hint}')", first.entry, first.field)
        raise first
    return catalog  # type: ignore[return-value]  # built whenever there is no problem
