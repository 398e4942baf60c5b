"""The errors chipgap raises.

Every error derives from `ChipgapError` and also from the builtin it resembles, so a caller can
catch either. Errors keep their parts as fields and build the sentence in ``__str__``; they stay
picklable (``__reduce__``) so that they cross process and Ray boundaries intact.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ChipgapError(Exception):
    """Base class of every error chipgap raises on purpose."""


def one_line(text: str) -> str:
    """``text`` with control characters (newlines from a hostile id, say; C1 controls; the
    bidirectional overrides) written as escapes, so an error is one line and nothing in it
    drives the terminal.

    >>> one_line("entry 'a\\nb'")
    "entry 'a\\\\nb'"
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def validation_message(err: Mapping[str, Any]) -> str:
    """One pydantic problem (an item of ``ValidationError.errors()``) as the sentence a user acts
    on: what is wrong and, for a bad value, what was given.

    >>> validation_message({"type": "greater_than", "msg": "Input should be greater than 0", "input": -3})
    'Input should be greater than 0. Got -3 instead'
    """
    kind = err.get("type")
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling and the unit in the name)"
    if kind == "missing":
        return "is required"
    if "input" in err and err["input"] is None and kind not in ("value_error", "assertion_error"):
        return "is required: give a value, not null"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if "input" in err and kind != "value_error":
        got = repr(err["input"])
        msg += f". Got {got if len(got) <= 80 else got[:77] + '...'} instead"
    return msg


class CatalogError(ValueError, ChipgapError):
    """A catalog file or one of its entries is malformed.

    Parameters
    ----------
    file : str
        The file (path as given) that holds the problem.
    message : str
        What was expected and what was found.
    entry : str, optional
        The id of the entry (chip, system, ...) that holds the problem.
    field : str, optional
        The dotted field name inside the entry.
    """

    def __init__(self, file: str, message: str, entry: str | None = None, field: str | None = None):
        super().__init__(file, message, entry, field)
        self.file, self.message, self.entry, self.field = file, message, entry, field

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f": entry '{self.entry}'"
        if self.field:
            where += f": field '{self.field}'"
        return one_line(f"{where}: {self.message}")

    def __reduce__(self):
        return (type(self), (self.file, self.message, self.entry, self.field))


LIST_COMMANDS = {"chip": "chipgap chips list", "system": "chipgap systems list",
                 "workload": "chipgap models list", "rule": "chipgap export rules"}


class UnknownIdError(KeyError, ChipgapError):
    """An id that no catalog entry (nor alias) has.

    Parameters
    ----------
    kind : str
        What was looked up: 'chip', 'system', 'workload', ...
    given : str
        The id as the user wrote it.
    known : iterable of str
        Every id and alias of that kind, used to suggest the closest matches.
    """

    def __init__(self, kind: str, given: str, known: Iterable[str] = ()):
        known = sorted(set(known))
        super().__init__(kind, given, known)
        self.kind, self.given = kind, given
        self.suggestions = difflib.get_close_matches(given.lower(), known, n=4, cutoff=0.5)
        self._known = known

    def __str__(self) -> str:
        msg = f"unknown {self.kind} '{self.given}'."
        if self.suggestions:
            msg += " Closest: " + ", ".join(self.suggestions) + "."
        elif self.kind in LIST_COMMANDS:
            msg += f" Run '{LIST_COMMANDS[self.kind]}' to see the known ids."
        else:
            msg += f" The catalog holds {len(self._known)} {self.kind} ids."
        return one_line(msg)

    def __reduce__(self):
        return (type(self), (self.kind, self.given, self._known))


class InputError(ValueError, ChipgapError):
    """A parameter of an API call or command is outside what it accepts.

    Parameters
    ----------
    parameter : str
        The parameter's name as the caller wrote it ('die_area_mm2', '--rule').
    expected : str
        What it must be ("a positive number of mm2").
    got : object
        What was given.
    """

    def __init__(self, parameter: str, expected: str, got: object):
        super().__init__(parameter, expected, got)
        self.parameter, self.expected, self.got = parameter, expected, got

    def __str__(self) -> str:
        return f"'{self.parameter}' must be {self.expected}. Got {self.got!r} instead"

    def __reduce__(self):
        return (type(self), (self.parameter, self.expected, self.got))


class FieldError(InputError):
    """A record built from a caller's arguments refused one of them.

    Records such as `chipgap.catalog.serving_job.ServingJob` raise it in place of pydantic's
    ``ValidationError``, so that a caller (and the CLI) gets a chipgap error naming the field.

    Parameters
    ----------
    record : str
        The record's name ('ServingJob').
    field : str
        The dotted name of the field refused.
    message : str
        What is wrong, in `validation_message`'s words.
    """

    def __init__(self, record: str, field: str, message: str):
        super().__init__(field, message, None)
        self.record, self.field, self.message = record, field, message

    @classmethod
    def from_validation(cls, record: str, e: Any) -> FieldError:
        """The first problem of pydantic's ValidationError ``e`` (see `validation_message`)."""
        err = e.errors()[0]
        return cls(record, ".".join(str(p) for p in err["loc"]), validation_message(err))

    def __str__(self) -> str:
        return one_line(f"{self.record}: field '{self.field}': {self.message}")

    def __reduce__(self):
        return (type(self), (self.record, self.field, self.message))


class UnsupportedWorkloadError(ValueError, ChipgapError):
    """A workload the catalog reads correctly but the performance models cannot evaluate yet.

    Parameters
    ----------
    model : str
        The workload's id.
    feature : str
        What is not modelled ('sliding-window attention').
    detail : str, optional
        Which layers, in a few words ('18 of 36 layers').
    """

    def __init__(self, model: str, feature: str, detail: str = ""):
        super().__init__(model, feature, detail)
        self.model, self.feature, self.detail = model, feature, detail

    def __str__(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return one_line(f"{self.model}: {self.feature} layers are not modelled yet{tail}")

    def __reduce__(self):
        return (type(self), (self.model, self.feature, self.detail))


class RunError(RuntimeError, ChipgapError):
    """A long run (a sweep) stopped for a reason outside its input: a worker process that kept
    dying, a cluster that lost its tasks, files changed while it ran.

    Parameters
    ----------
    what : str
        What was running ('sweep into runs/small').
    message : str
        What happened, and what to do (the chunks written are kept; run again to resume).
    """

    def __init__(self, what: str, message: str):
        super().__init__(what, message)
        self.what, self.message = what, message

    def __str__(self) -> str:
        return one_line(f"{self.what}: {self.message}")

    def __reduce__(self):
        return (type(self), (self.what, self.message))
