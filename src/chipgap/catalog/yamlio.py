"""Reading YAML that a user hands us, as if it were hostile.

Safe constructors only (no Python objects), no anchors or aliases (they allow "billion laughs"
memory bombs), no duplicate keys (PyYAML would silently keep the last), a byte cap on a regular
file (`chipgap.files.read_capped`), a nesting depth and a length of whole numbers. The document
is composed into nodes first (in C with libyaml when present), checked, and only then
constructed, so an alias bomb is refused before anything expands. ``1e12`` is a number, as in
YAML 1.2 and JSON.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from chipgap.errors import CatalogError
from chipgap.files import read_text_capped

MAX_YAML_BYTES = 4_000_000
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists a file may have (the catalog's grammar needs 6)."""
MAX_INT_DIGITS = 30
"""Longest whole number read (a YAML integer of a million digits costs seconds to convert)."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, reading ``1e12`` and ``2.5e9`` as numbers, as YAML 1.2 does (PyYAML
    follows YAML 1.1, whose floats need a dot and a signed exponent: it reads ``1e12`` as text)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _check(root: yaml.Node) -> None:
    """Refuse aliases (a node reached twice), duplicate keys, non-scalar keys, nesting deeper
    than `MAX_DEPTH` and integers longer than `MAX_INT_DIGITS` digits (iteratively: no
    recursion to exhaust)."""
    seen: set[int] = set()
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise yaml.MarkedYAMLError(None, None, "anchors and aliases (*name) are not allowed",
                                       node.start_mark)
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(None, None, f"nests deeper than {MAX_DEPTH} levels", node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_DIGITS:
                raise yaml.MarkedYAMLError(None, None, f"a whole number longer than {MAX_INT_DIGITS} "
                                                       "digits is not a quantity anything has", node.start_mark)
        elif isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain scalars",
                                               key_node.start_mark)
                if key_node.value in keys:
                    raise yaml.MarkedYAMLError(None, None, f"duplicate key '{key_node.value}'",
                                               key_node.start_mark)
                keys.add(key_node.value)
                stack += [(key_node, depth + 1), (value_node, depth + 1)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, depth + 1) for item in node.value]


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(path: Path, label: str | None = None) -> Any:
    """Parse one YAML file; any problem becomes a one-line `CatalogError` naming the file.

    Parameters
    ----------
    path : Path
        The file to read.
    label : str, optional
        How to name the file in messages (default: the path).
    """
    label = label or str(path)
    text = read_text_capped(path, MAX_YAML_BYTES, label)
    try:
        return _load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise CatalogError(label, f"is not valid YAML: {where}{e.problem or e.context}") from None
    except (yaml.YAMLError, RecursionError) as e:
        raise CatalogError(label, f"is not valid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
