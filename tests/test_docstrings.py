"""Docstrings cannot drift from signatures: every name in a numpydoc Parameters section must be
a parameter of the function, and every parameter of a documented function must be listed."""

import importlib
import inspect
import pkgutil
import re

import chipgap

SECTION = re.compile(r"\n\s*Parameters\n\s*-+\n(.*?)(?:\n\s*\n\s*[A-Z][a-z ]+\n\s*-+\n|\Z)", re.S)
ENTRY = re.compile(r"^(\s*)([\w*]+(?:\s*,\s*[\w*]+)*)\s*(?::|$)")


def documented(doc):
    m = SECTION.search(doc)
    if not m:
        return None
    block = m.group(1).splitlines()
    indent = min((len(l) - len(l.lstrip()) for l in block if l.strip()), default=0)
    names = []
    for line in block:
        if line.strip() and len(line) - len(line.lstrip()) == indent:
            e = ENTRY.match(line)
            if e:
                names += [n.strip().lstrip("*") for n in e.group(2).split(",")]
    return names


def public_functions():
    for info in pkgutil.walk_packages(chipgap.__path__, "chipgap."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{info.name}.{name}", obj


def test_parameters_sections_match_signatures():
    checked = 0
    for qualname, fn in public_functions():
        names = documented(inspect.getdoc(fn) or "")
        if names is None:
            continue
        params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        assert sorted(names) == sorted(params), f"{qualname}: documents {names}, takes {params}"
        checked += 1
    assert checked >= 3

