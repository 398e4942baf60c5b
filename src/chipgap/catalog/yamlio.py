"""Reading YAML that a user hands us, as if it were hostile.

Safe constructors only (no Python objects), no anchors or aliases (they allow "billion laughs"
memory bombs), no duplicate keys (PyYAML would silently keep the last), and a size cap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chipgap.errors import CatalogError

MAX_YAML_BYTES = 4_000_000


class _StrictLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # noqa: ANN001
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "anchors and aliases (*name) are not allowed",
                                       event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain scalars",
                                           key_node.start_mark)
            if key in seen:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise CatalogError(label, f"is larger than {MAX_YAML_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CatalogError(label, f"cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(label, "is not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise CatalogError(label, f"is not valid YAML: {where}{e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise CatalogError(label, f"is not valid YAML: {e}") from None
