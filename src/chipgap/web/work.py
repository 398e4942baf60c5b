"""What the API routes and the pages share: bounded answers, the set of changed assumptions
(kept in a cookie), uploads, and the JSON of the report's answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from chipgap.analyses.assumptions import Change, Input, check_change, inputs, plain
from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.errors import InputError
from chipgap.jsondata import jsonable
from chipgap.web.state import Built, Workbench

COOKIE = "chipgap_changes"
MAX_COOKIE = 3800
MAX_CHANGES = 40


def state(request: Request) -> Workbench:
    return request.app.state.workbench


# -- questions ------------------------------------------------------------------------------------
def check_size(catalog: Any, q: TrainQuestion | ServeQuestion, st: Workbench) -> int:
    """The configurations ``q`` asks for, refused (`InputError`, a 422) past the workbench's bounds."""
    from chipgap.analyses import infer, train

    s = st.settings
    if q.samples > s.max_samples:
        raise InputError("samples", f"at most {s.max_samples:,} in the workbench (the CLI and sweeps take more)",
                         q.samples)
    if isinstance(q, TrainQuestion):
        n = len(train.layout_grid(train.setup(catalog, q))["tp"])
    else:
        n = len(infer.instance_layouts(infer.serving_setup(catalog, q))["tp"]) * \
            (1 if q.batch else len(infer.BATCHES))
    if n > s.max_configs:
        raise InputError("layout", f"a search of at most {s.max_configs:,} configurations in the workbench; this "
                                   f"one has {n:,}: fix some layout fields (tp, pp, ep, ...) or use a sweep", n)
    return n


def _answer(catalog: Any, q: TrainQuestion | ServeQuestion, st: Workbench) -> Any:
    from chipgap.analyses.answer import answer

    check_size(catalog, q, st)
    return answer(catalog, q)


async def answer(request: Request, q: TrainQuestion | ServeQuestion) -> Any:
    """`chipgap.analyses.answer.answer` of ``q`` in the pool, bounded in size and time."""
    st = state(request)
    return await st.run(_answer, st.catalog(), q, st)


# -- assumptions and their changes ----------------------------------------------------------------
def report_scope() -> tuple[list[str], list[str]]:
    """The chips and systems whose ranged specs the report's answers read."""
    from chipgap.report import context as cx

    chips = [*cx.SPEC_CHIPS, *(c for q in cx.asks().values() for c in q.chips), *cx.CPU_CHIPS]
    return chips, list(cx.SYSTEMS)


def listed_inputs(catalog: Any) -> list[Input]:
    chips, systems = report_scope()
    return inputs(catalog, chips, systems)


def input_json(i: Input) -> dict[str, Any]:
    q = i.quantity
    return {"key": i.key, "group": i.group, "label": i.label, "unit": i.unit, "point": i.point,
            "quantity": q.to_dict() if q is not None else None, "number": i.number, "sources": list(i.sources),
            "text": value_text(i)}


def value_text(i: Input) -> str:
    """An input's value as the form shows it: ``0.4``, ``10-15``, ``1.2-1.5 (1.3)``."""
    return change_text(Change(i.key, i.number)) if i.quantity is None else change_text(
        Change(i.key, i.quantity.value, i.quantity.low, i.quantity.high, i.quantity.mode))


def change_text(c: Change | None) -> str:
    """A change as the form shows it (empty for none)."""
    if c is None:
        return ""
    if c.value is not None:
        return plain(c.value)
    return f"{plain(c.low)}-{plain(c.high)}" + (f" ({plain(c.mode)})" if c.mode is not None else "")


_NUM = r"[0-9][0-9,_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"


def parse_value(key: str, text: str) -> Change:
    """A change from the form's text: ``0.6`` (a number) or ``0.5-0.7`` (a range, optionally
    with its mode in parentheses: ``0.5-0.7 (0.6)``).

    >>> parse_value("k", "0.6")
    Change(key='k', value=0.6, low=None, high=None, mode=None)
    >>> parse_value("k", "10 - 15 (12)")
    Change(key='k', value=None, low=10.0, high=15.0, mode=12.0)
    """
    t = text.strip()
    num = lambda s: float(s.replace(",", "").replace("_", ""))  # noqa: E731
    if m := re.fullmatch(rf"({_NUM})", t):
        return Change(key, value=num(m.group(1)))
    if m := re.fullmatch(rf"({_NUM})\s*(?:-|–|\.\.|to)\s*({_NUM})(?:\s*\(\s*(?:mode\s*)?({_NUM})\s*\))?", t):
        return Change(key, low=num(m.group(1)), high=num(m.group(2)),
                      mode=num(m.group(3)) if m.group(3) else None)
    raise InputError(key, "a number (0.6) or a range low-high, with an optional mode (0.5-0.7 (0.6))", text)


def to_changes(request: Request, bodies: Sequence[Any]) -> list[Change]:
    """Checked changes (`InputError` names the key of the first bad one)."""
    changes = [parse_value(b.key, b.text) if getattr(b, "text", None) else Change(b.key, b.value, b.low, b.high, b.mode)
               for b in bodies]
    return check_changes(state(request).catalog(), changes)


def check_changes(catalog: Any, changes: Sequence[Change]) -> list[Change]:
    if len(changes) > MAX_CHANGES:
        raise InputError("changes", f"at most {MAX_CHANGES} changes", len(changes))
    index = {i.key: i for i in listed_inputs(catalog)}
    out: dict[str, Change] = {}
    for c in changes:
        old = check_change(c, index)
        same = (old.quantity is None and c.value == old.number) or (
            old.quantity is not None and (c.value, c.low, c.high, c.mode) ==
            (old.quantity.value, old.quantity.low, old.quantity.high, old.quantity.mode))
        if not same:
            out[c.key] = c
    return list(out.values())


def encode_changes(changes: Sequence[Change]) -> str:
    raw = json.dumps([c.to_dict() for c in changes], separators=(",", ":")).encode()
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if len(text) > MAX_COOKIE:
        raise InputError("changes", f"a set small enough to remember (at most about {MAX_CHANGES} changes)",
                         len(changes))
    return text


def decode_changes(catalog: Any, text: str | None) -> list[Change]:
    """The changes a cookie or URL holds (an unreadable or stale one reads as no change)."""
    if not text or len(text) > MAX_COOKIE:
        return []
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        changes = [Change(str(d["key"]), d.get("value"), d.get("low"), d.get("high"), d.get("mode"))
                   for d in raw if isinstance(d, dict)]
        return check_changes(catalog, changes)
    except (ValueError, KeyError, TypeError, binascii.Error, InputError):
        return []


def current_changes(request: Request) -> list[Change]:
    """The changes of this browser: the URL's ``changes`` if given, else its cookie."""
    text = request.query_params.get("changes") or request.cookies.get(COOKIE)
    return decode_changes(state(request).catalog(), text)


def with_cookie(data: dict[str, Any], changes: Sequence[Change]) -> JSONResponse:
    resp = JSONResponse(jsonable(data))
    if changes:
        resp.set_cookie(COOKIE, encode_changes(changes), samesite="strict", httponly=False, max_age=30 * 86400)
    else:
        resp.delete_cookie(COOKIE)
    return resp


async def read_upload(request: Request) -> str:
    """The request body as UTF-8 text, refused (413) past the size limit without reading on."""
    limit = state(request).settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the file is larger than {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the file is larger than {limit:,} bytes")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("file", "UTF-8 text (a scenario YAML file)", "binary data") from None


def changes_from_text(catalog: Any, text: str) -> tuple[list[Change], list[str]]:
    from chipgap.analyses.assumptions import changes_from_scenario

    chips, systems = report_scope()
    changes, ignored = changes_from_scenario(catalog, text, chips=chips, systems=systems)
    return check_changes(catalog, changes), ignored


# -- the report's answers -------------------------------------------------------------------------
def answers_json(base: Built, built: Built) -> dict[str, Any]:
    """The one-line answers of ``built``, with what changed from ``base``."""
    from chipgap.report.answers import answers, difference

    d = difference(base.report, built.report)
    return {"settings": built.report.settings,
            "changes": [c.to_dict() for c in built.changes],
            "answers": [{"key": a.key, "title": a.title, "question": a.question, "answer": a.answer,
                         "headline": a.headline, "changed": a.key in d.answers,
                         "claims": [vars(c) for c in a.claims], "missing": list(a.missing)}
                        for a in answers(built.report)],
            "flipped": [{"number": n, "claim": c, "before": b, "after": a} for n, c, b, a in d.flipped],
            "numbers_changed": {k: {n: list(v) for n, v in m.items()} for k, m in d.numbers.items()}}


# -- scenarios and sweeps -------------------------------------------------------------------------
def run_scenario_json(catalog_dir: Any, name: str | None, doc: dict | None, samples: int, seed: int) -> dict:
    from chipgap.analyses.assumptions import write_scenario
    from chipgap.analyses.scenario import run_scenario

    with tempfile.TemporaryDirectory(prefix="chipgap-scenario-") as tmp:
        if name is not None:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
                raise InputError("scenario", "the name of a bundled scenario (chipgap scenario list)", name)
            target: Any = name
        else:
            target = write_scenario(doc, Path(tmp) / "scenario.yaml")
        result = run_scenario(target, catalog_dir, samples, seed)
    return jsonable({"name": result.scenario.name, "title": result.scenario.title, "samples": samples, "seed": seed,
                     "claims": result.claims().to_dict("records"),
                     "questions": {r.question.id: r.table.to_dict("records") for r in result.results}})


def sweep_query(folder: str, sql: str) -> Any:
    from chipgap.sweep.query import query

    return query(Path(folder).expanduser(), sql)
