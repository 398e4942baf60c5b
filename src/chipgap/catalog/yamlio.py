"""Reading YAML that a user hands us, as if it were hostile.

Safe constructors only (no Python objects), no anchors or aliases (they allow "billion laughs"
memory bombs), no duplicate keys (PyYAML would silently keep the last), and a size cap. The
document is composed into nodes first (in C with libyaml when present), checked, and only
then constructed, so an alias bomb is refused before anything expands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chipgap.errors import CatalogError
from chipgap.files import read_text_capped

MAX_YAML_BYTES = 4_000_000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check(node: yaml.Node, seen: set[int]) -> None:
    """Refuse aliases (a node reached twice), duplicate keys and non-scalar keys."""
    if id(node) in seen:
        raise yaml.MarkedYAMLError(None, None, "anchors and aliases (*name) are not allowed",
                                   node.start_mark)
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain scalars",
                                           key_node.start_mark)
            if key_node.value in keys:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key '{key_node.value}'",
                                           key_node.start_mark)
            keys.add(key_node.value)
            _check(key_node, seen)
            _check(value_node, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check(item, seen)


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(node, set())
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
