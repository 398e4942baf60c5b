"""The report's one-line answers as data: per section, its question, the claims it settles with
their verdicts and evidence, or its first sentence; and what changed between two reports.

The web workbench's overview shows these; they are read from a built `Report` (its sections and
claims ledger), never recomputed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from chipgap.report.document import Report, Section
from chipgap.text import num

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


@dataclass(frozen=True)
class Claim:
    number: int
    claim: str
    verdict: str
    evidence: str


@dataclass(frozen=True)
class Answer:
    """One section's line: ``answer`` is its headline and the evidence of the claims it settles,
    else its first sentence."""

    key: str
    title: str
    question: str
    answer: str
    claims: tuple[Claim, ...] = ()
    missing: tuple[str, ...] = ()
    headline: str = ""
    """A summary of the section's own numbers, where it has one (`HEADLINES`)."""


@dataclass
class Difference:
    """What moved between two reports."""

    numbers: dict[str, dict[str, tuple]] = field(default_factory=dict)
    """Section key -> number key -> (before, after), for every number that changed."""
    flipped: list[tuple[int, str, str, str]] = field(default_factory=list)
    """(claim number, claim, verdict before, verdict after) for every verdict that changed."""
    answers: list[str] = field(default_factory=list)
    """Keys of the sections whose line changed."""


def first_sentence(text: str) -> str:
    """The first sentence of ``text``.

    >>> first_sentence("The 910C has 0.8x. It has no FP8 units.")
    'The 910C has 0.8x.'
    """
    return _SENTENCE.split(text.strip(), maxsplit=1)[0] if text else ""


def _unit_cost(s: Section) -> str:
    """The unit cost at each yield the section evaluated (its ``cost.yieldNN.p50`` numbers), which
    follows a changed yield where the ledger's evidence names 20% and 40% only."""
    found = sorted((int(m.group(1)), v) for k, v in s.numbers.items()
                   if (m := re.fullmatch(r"cost\.yield(\d+)\.p50", k)) and isinstance(v, float) and v == v)
    if not found:
        return ""
    return ("Lower-bound cost per chip (dies + HBM), P50: "
            + ", ".join(f"US${num(v)} at {y}% die yield" for y, v in found) + ".")


HEADLINES = {"unit-cost": _unit_cost}
"""Sections whose line starts with a summary of their own numbers."""


def answers(report: Report) -> list[Answer]:
    """Each section's one-line answer, in report order."""
    by_section: dict[str, list[Claim]] = {}
    for c in report.claims:
        by_section.setdefault(c.section, []).append(Claim(c.number, c.claim, c.verdict, c.evidence))
    out = []
    for s in report.sections:
        claims = tuple(by_section.get(s.key, ()))
        line = " ".join(c.evidence for c in claims) if claims else \
            first_sentence(s.paragraphs[0]) if s.paragraphs else ""
        head = HEADLINES[s.key](s) if s.key in HEADLINES else ""
        line = " ".join(x for x in (head, line) if x)
        out.append(Answer(s.key, s.title, s.question, line, claims, tuple(s.missing), head))
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def difference(before: Report, after: Report) -> Difference:
    """The numbers, verdicts and answer lines of ``after`` that differ from ``before``."""
    d = Difference()
    old = {s.key: s for s in before.sections}
    for s in after.sections:
        prev = old.get(s.key)
        if prev is None:
            continue
        moved = {k: (prev.numbers.get(k), v) for k, v in s.numbers.items() if not _same(prev.numbers.get(k), v)}
        moved.update({k: (v, None) for k, v in prev.numbers.items() if k not in s.numbers})
        if moved:
            d.numbers[s.key] = moved
    verdicts = {c.number: c.verdict for c in before.claims}
    d.flipped = [(c.number, c.claim, verdicts[c.number], c.verdict) for c in after.claims
                 if c.number in verdicts and verdicts[c.number] != c.verdict]
    lines = {a.key: a.answer for a in answers(before)}
    d.answers = [a.key for a in answers(after) if a.key in lines and lines[a.key] != a.answer]
    return d
