"""A sweep's folder: one Parquet file per chunk and a JSON manifest, written atomically.

::

    DIR/manifest.json          spec (and its SHA-256), chunk and row counts, chipgap version,
                               which chunks are done
    DIR/chunk-000000.parquet   rows of chunk 0, and so on

Every file is written under a temporary name in DIR and renamed into place (`os.replace`), so
a file with its final name is complete: a crash leaves at most a ``.tmp`` file, which the next
run removes. A chunk counts as done when its file exists and its Parquet footer holds the
chunk's row count; the manifest's ``done`` list is a summary of that, rewritten as chunks land.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from chipgap import __version__
from chipgap.atomic import write_atomically
from chipgap.errors import InputError
from chipgap.sweep.plan import Plan
from chipgap.sweep.spec import spec_hash, to_dict

MANIFEST = "manifest.json"
FORMAT = 1


def chunk_path(out: Path, chunk: int) -> Path:
    """The file of chunk ``chunk``: ``chunk-000012.parquet`` (six digits or more)."""
    return Path(out) / f"chunk-{chunk:06d}.parquet"


def chunk_files(out: Path) -> list[Path]:
    """Every chunk file in ``out``, in chunk order."""
    return sorted(Path(out).glob("chunk-*.parquet"))


def to_parquet(table: pa.Table) -> bytes:
    """A chunk's table encoded as a Parquet file (zstd), in memory."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_chunk(out: Path, chunk: int, data: pa.Table | bytes) -> Path:
    """Write one chunk (a table, or `to_parquet` bytes) atomically; return its path.

    Writing a chunk twice is harmless: the second file replaces the first, whole.
    """
    path = chunk_path(out, chunk)
    data = to_parquet(data) if isinstance(data, pa.Table) else data
    write_atomically(path, data)
    return path


def chunk_done(out: Path, plan: Plan, chunk: int) -> bool:
    """True when the chunk's file exists and holds the chunk's row count."""
    path = chunk_path(out, chunk)
    if not path.exists():
        return False
    start, stop = plan.chunk_bounds(chunk)
    try:
        return pq.read_metadata(path).num_rows == stop - start
    except (OSError, pa.ArrowException):
        return False


def manifest(plan: Plan, done: list[int], catalog_dir: str | None) -> dict:
    """The manifest's content for ``plan`` with chunks ``done``."""
    return {"format": FORMAT, "chipgap_version": __version__, "kind": plan.spec.kind,
            "spec_sha256": spec_hash(plan.spec), "spec_file": plan.label,
            "catalog_dir": catalog_dir, "cases": plan.n_cases, "rows": plan.n_rows,
            "chunk_rows": plan.spec.chunk_rows, "chunks": plan.n_chunks,
            "done_count": len(done), "complete": len(done) == plan.n_chunks,
            "done": sorted(done), "spec": to_dict(plan.spec)}


def write_manifest(out: Path, content: dict) -> None:
    """Write ``DIR/manifest.json`` atomically."""
    text = json.dumps(content, indent=1)
    write_atomically(Path(out) / MANIFEST, (text + "\n").encode())


def read_manifest(out: Path) -> dict:
    """The manifest of a sweep folder.

    Raises
    ------
    InputError
        When the folder holds no readable manifest.
    """
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError("DIR", "a sweep folder (holding manifest.json)", str(out)) from None


def open_folder(out: Path, plan: Plan, catalog_dir: str | None) -> list[int]:
    """Make ``out`` ready for ``plan``: create it, or check that it holds this very sweep.

    Removes temporary files a crash left behind and returns the chunks already done.

    Raises
    ------
    InputError
        When ``out`` holds another sweep (different spec, catalog folder or chipgap version),
        or other files that are not a sweep's.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", "a folder", str(out))
    out.mkdir(parents=True, exist_ok=True)
    path = out / MANIFEST
    if not path.exists():
        if any(out.iterdir()):
            raise InputError("--out", "a new or empty folder, or one holding this sweep", str(out))
        write_manifest(out, manifest(plan, [], catalog_dir))
        return []
    old, new = read_manifest(out), manifest(plan, [], catalog_dir)
    for key, what in (("spec_sha256", "spec"), ("catalog_dir", "catalog folder"),
                      ("chipgap_version", "chipgap version")):
        if old.get(key) != new[key]:
            raise InputError("--out", f"a folder holding this sweep, or a new one ({out} holds a "
                                      f"sweep with another {what}: {str(old.get(key))[:12]})", str(out))
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    return [k for k in range(plan.n_chunks) if chunk_done(out, plan, k)]
