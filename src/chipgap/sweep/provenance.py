"""What a sweep's rows depend on, by content: the catalog files and the config.json files.

Every file that can change a row is hashed (SHA-256) under a label:

=======================================  ==================================================
``chipgap:catalog/data/chips/nvidia.yaml``  the bundled catalog (YAML and config.json files)
``catalog:chips/mine.yaml``                 a ``--catalog`` folder's files, by path inside it
``config:configs/my-model.json``            a config.json the spec names, as the spec writes it
=======================================  ==================================================

The manifest keeps each label's hash (``inputs``) and one hash over all of them
(``catalog_sha256``), so that a resume finds and names any file that changed, appeared or went.
A folder moved elsewhere keeps its labels, and so its hashes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from chipgap.catalog.load import bundled_dir, catalog_files
from chipgap.errors import CatalogError
from chipgap.files import sha256_file

SUFFIXES = (".yaml", ".yml", ".json")


def _folder(root: Path, prefix: str) -> dict[str, str]:
    files, problems = catalog_files(root, SUFFIXES, prefix)
    if problems:
        raise problems[0]
    return {f"{prefix}{p.relative_to(root).as_posix()}": sha256_file(p)[0] for p in files}


def input_hashes(catalog_dir: str | Path | None, configs: dict[str, str | Path]) -> dict[str, str]:
    """SHA-256 of every input file of a sweep, by label (see the module's docstring).

    Parameters
    ----------
    catalog_dir : str or Path, optional
        The user catalog folder read on top of the bundled one.
    configs : dict of str to path
        The config.json files the spec names: as the spec writes them -> where they are.

    Raises
    ------
    CatalogError
        When a file cannot be read (or links outside its catalog folder).
    """
    hashes = _folder(bundled_dir(), "chipgap:catalog/data/")
    if catalog_dir is not None:
        root = Path(catalog_dir)
        if not root.is_dir():
            raise CatalogError(str(root), "is not a folder")
        hashes |= _folder(root, "catalog:")
    for written, path in configs.items():
        hashes[f"config:{written}"] = sha256_file(path, str(path))[0]
    return dict(sorted(hashes.items()))


def combined(hashes: dict[str, str]) -> str:
    """One SHA-256 over every (label, hash) pair: equal exactly when every input is.

    >>> combined({"a": "1"}) == combined({"a": "1"}) != combined({"a": "2"})
    True
    """
    text = "".join(f"{label}\0{h}\n" for label, h in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def differences(old: dict[str, str], new: dict[str, str], most: int = 3) -> str:
    """The labels that differ between two `input_hashes`, in words ('' when none do).

    >>> differences({"catalog:a.yaml": "1", "catalog:b.yaml": "2"},
    ...             {"catalog:a.yaml": "9", "catalog:c.yaml": "3"})
    'catalog:a.yaml changed, catalog:b.yaml removed, catalog:c.yaml added'
    """
    changes = [f"{k} changed" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    changes += [f"{k} removed" for k in sorted(old.keys() - new.keys())]
    changes += [f"{k} added" for k in sorted(new.keys() - old.keys())]
    text = ", ".join(changes[:most])
    if len(changes) > most:
        text += f" and {len(changes) - most} more"
    return text


def spec_differences(old: dict, new: dict, most: int = 4) -> str:
    """The top-level spec fields whose values differ, in words.

    >>> spec_differences({"seed": 1, "samples": 2}, {"seed": 3, "samples": 2})
    'seed'
    """
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return ", ".join(keys[:most]) + (f" and {len(keys) - most} more" if len(keys) > most else "")
