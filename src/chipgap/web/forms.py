"""Question forms generated from the question records' JSON schema, and the query strings that
encode a question (a shareable URL).

A field of a nested record (``layout``) is named with a dot (``layout.tp``). A field left empty
takes the record's default; a layout field left empty is searched.

>>> from chipgap.catalog.question import TrainQuestion
>>> [f.name for f in form_fields(TrainQuestion)][:3]
['model', 'chip', 'chips']
>>> question_data(TrainQuestion, {"model": "llama-3.1-8b", "chip": "h100", "chips": "8", "layout.tp": "2"})
{'model': 'llama-3.1-8b', 'chip': 'h100', 'chips': 8, 'layout': {'tp': 2}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

SKIP = {"ask"}
FIRST = ("model", "chip", "chips")


@dataclass(frozen=True)
class FormField:
    """One input of a question form."""

    name: str
    kind: str  # 'integer', 'number', 'boolean', 'text' or 'choice'
    required: bool
    default: Any
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    group: str = ""


def _docs(cls: type) -> dict[str, str]:
    """Field descriptions from a record's numpydoc Parameters section (``name : type`` lines and
    the indented text under them)."""
    out: dict[str, str] = {}
    doc = cls.__doc__ or ""
    if "Parameters" not in doc:
        return out
    lines = doc.split("Parameters", 1)[1].splitlines()[2:]
    names: list[str] = []
    for line in lines:
        m = re.match(r"^    (\w[\w, ]*?)(?: : .*)?$", line)
        if m and not line.startswith("        "):
            names = [n.strip() for n in m.group(1).split(",")]
            for n in names:
                out.setdefault(n, "")
        elif line.startswith("        ") and names:
            for n in names:
                out[n] = (out[n] + " " + line.strip()).strip()
        elif not line.strip() and not names:
            break
    return out


def _variant(prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null branch of ``anyOf: [X, null]``, and whether null is allowed."""
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        return ({**branches[0], **{k: v for k, v in prop.items() if k != "anyOf"}} if branches else prop,
                len(branches) < len(prop["anyOf"]))
    return prop, False


def form_fields(cls: type[BaseModel]) -> list[FormField]:
    """The inputs of a form for the record ``cls``, from its JSON schema, nested records last."""
    schema = cls.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        for k, v in _docs(base).items():
            if v and not (k in docs and v.startswith(("As in", "The job"))):
                docs[k] = v
    flat, nested = [], []
    for name, prop in schema["properties"].items():
        if name in SKIP:
            continue
        ref = prop.get("$ref") or next((b.get("$ref") for b in prop.get("anyOf", ()) if "$ref" in b), None)
        if ref:
            sub = defs[ref.split("/")[-1]]
            for sname, sprop in sub["properties"].items():
                nested.append(_field(f"{name}.{sname}", sprop, False, name, ""))
            continue
        flat.append(_field(name, prop, name in schema.get("required", ()), "", docs.get(name, "")))
    order = {n: i for i, n in enumerate(FIRST)}
    flat.sort(key=lambda f: order.get(f.name, len(order)))
    return flat + nested


def _field(name: str, prop: dict[str, Any], required: bool, group: str, help_text: str) -> FormField:
    p, _ = _variant(prop)
    default = prop.get("default")
    kind = {"integer": "integer", "number": "number", "boolean": "boolean"}.get(p.get("type"), "text")
    choices: tuple = ()
    if "enum" in p:
        kind, choices = "choice", tuple(p["enum"])
    return FormField(name, kind, required, default, choices, p.get("minimum", p.get("exclusiveMinimum")),
                     p.get("maximum"), help_text or prop.get("description", ""), group)


def _parse(f: FormField, text: str) -> Any:
    """The typed value of one form input (left as text when it does not parse, so the record's
    validation names the field)."""
    t = text.strip()
    if f.kind == "integer" or (f.kind == "choice" and all(isinstance(c, int) for c in f.choices)):
        return int(t) if re.fullmatch(r"[+-]?\d+", t) else t
    if f.kind == "number":
        try:
            return float(t)
        except ValueError:
            return t
    if f.kind == "boolean":
        return {"true": True, "false": False}.get(t.lower(), t)
    return t


def question_data(cls: type[BaseModel], params: Mapping[str, str]) -> dict[str, Any]:
    """The record's fields from form inputs (query parameters): empty inputs left out, nested
    names gathered, values typed as the schema says. Unknown names are kept, so the record
    refuses them by name."""
    fields = {f.name: f for f in form_fields(cls)}
    data: dict[str, Any] = {}
    for name, text in params.items():
        if text is None or str(text).strip() == "" or name.startswith("_"):
            continue
        f = fields.get(name)
        value = _parse(f, str(text)) if f else str(text)
        if "." in name:
            head, tail = name.split(".", 1)
            data.setdefault(head, {})[tail] = value
        else:
            data[name] = value
    return data


def query_string(question: BaseModel) -> str:
    """The query string of a question: its fields that differ from the defaults.

    >>> from chipgap.catalog.question import TrainQuestion
    >>> query_string(TrainQuestion(model="llama-3.1-8b", chip="h100", chips=8, layout={"tp": 2}))
    'model=llama-3.1-8b&chip=h100&chips=8&layout.tp=2'
    """
    items: list[tuple[str, str]] = []
    for k, v in question.model_dump(mode="json", exclude_defaults=True).items():
        if k in SKIP:
            continue
        if isinstance(v, dict):
            items += [(f"{k}.{sk}", _text(sv)) for sk, sv in v.items() if sv is not None]
        elif v is not None:
            items.append((k, _text(v)))
    return urlencode(items)


def _text(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)
