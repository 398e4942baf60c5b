"""A sweep's folder: one Parquet file per chunk and a JSON manifest, written atomically.

::

    DIR/manifest.json          what the rows depend on and which chunks are done (below)
    DIR/chunk-000000.parquet   rows of chunk 0, and so on
    DIR/.chipgap.lock          held by the run writing the folder (`chipgap.sweep.lock`)

The manifest is the truth about the folder. It holds the spec and its SHA-256, the content
hashes of every catalog and config.json file the rows depend on (`chipgap.sweep.provenance`),
the chipgap version, and for each chunk done its file's SHA-256, size in bytes and row count
(``chunk_checksums``). A chunk counts as done only when the manifest lists it and its file
still has that checksum: a damaged chunk is recomputed; a chunk file the manifest does not list
(a stray or a copy) is never read. Every file is written under a temporary name and renamed
(`os.replace`), so a file with its final name is whole; a crash leaves at most a ``.tmp`` file,
which the next run (holding the lock) removes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from chipgap import __version__
from chipgap.atomic import write_atomically
from chipgap.errors import ChipgapError, InputError
from chipgap.files import read_capped, sha256_file
from chipgap.sweep.lock import LOCK_NAME
from chipgap.sweep.plan import Plan
from chipgap.sweep.provenance import differences, spec_differences
from chipgap.sweep.spec import spec_hash, to_dict

MANIFEST = "manifest.json"
FORMAT = 2
MAX_MANIFEST_BYTES = 64_000_000
"""A manifest lists every chunk (about 150 bytes each): 64 MB holds some 400,000 chunks."""
_CHUNK_NAME = re.compile(r"^chunk-(\d{6,})\.parquet$")


def chunk_path(out: Path, chunk: int) -> Path:
    """The file of chunk ``chunk``: ``chunk-000012.parquet`` (six digits or more)."""
    return Path(out) / f"chunk-{chunk:06d}.parquet"


def to_parquet(table: pa.Table) -> bytes:
    """A chunk's table encoded as a Parquet file (zstd), in memory."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


@dataclass(frozen=True)
class Written:
    """A chunk file as written: its chunk, rows, SHA-256 and size in bytes."""

    chunk: int
    rows: int
    sha256: str
    bytes: int

    def record(self) -> dict:
        return {"sha256": self.sha256, "bytes": self.bytes, "rows": self.rows}


def write_chunk(out: Path, chunk: int, data: pa.Table | bytes, rows: int | None = None) -> Written:
    """Write one chunk (a table, or `to_parquet` bytes of ``rows`` rows) atomically.

    Writing a chunk twice is harmless: the second file replaces the first, whole.
    """
    if isinstance(data, pa.Table):
        rows, data = data.num_rows, to_parquet(data)
    write_atomically(chunk_path(out, chunk), data)
    return Written(chunk, int(rows), hashlib.sha256(data).hexdigest(), len(data))


def manifest(plan: Plan, done: dict[int, dict], catalog_dir: str | None, inputs: dict[str, str],
             catalog_sha256: str) -> dict:
    """The manifest's content for ``plan`` with chunks ``done`` (chunk -> `Written.record`)."""
    return {"format": FORMAT, "chipgap_version": __version__, "kind": plan.spec.kind,
            "spec_sha256": spec_hash(plan.spec), "spec_file": plan.label,
            "catalog_dir": catalog_dir, "catalog_sha256": catalog_sha256,
            "cases": plan.n_cases, "rows": plan.n_rows,
            "chunk_rows": plan.spec.chunk_rows, "chunks": plan.n_chunks,
            "done_count": len(done), "complete": len(done) == plan.n_chunks,
            "done": sorted(done), "chunk_checksums": {str(k): done[k] for k in sorted(done)},
            "inputs": inputs, "spec": to_dict(plan.spec)}


def write_manifest(out: Path, content: dict) -> None:
    """Write ``DIR/manifest.json`` atomically."""
    text = json.dumps(content, indent=1)
    write_atomically(Path(out) / MANIFEST, (text + "\n").encode())


def read_manifest(out: str | Path) -> dict:
    """The manifest of a sweep folder (read with a byte cap; a regular file only).

    Raises
    ------
    InputError
        When the folder holds no readable manifest, or one that is not a chipgap sweep's.
    """
    path = Path(out) / MANIFEST
    try:
        data = json.loads(read_capped(path, MAX_MANIFEST_BYTES))
    except ChipgapError as e:
        raise InputError("DIR", f"a sweep folder (holding a readable manifest.json: {e})", str(out)) from None
    except (ValueError, RecursionError):
        raise InputError("DIR", "a sweep folder (its manifest.json is not valid JSON)", str(out)) from None
    if not isinstance(data, dict) or not isinstance(data.get("chunk_checksums", {}), dict):
        raise InputError("DIR", "a sweep folder (its manifest.json is not a chipgap manifest)", str(out))
    return data


def listed_chunks(m: dict, out: str | Path) -> dict[int, dict]:
    """The chunks a manifest lists as done: chunk -> {sha256, bytes, rows}, checked for shape.

    Raises
    ------
    InputError
        When the manifest is not of this chipgap's format, or its list is malformed.
    """
    if m.get("format") != FORMAT:
        raise InputError("DIR", f"a sweep folder of manifest format {FORMAT} (this one is "
                                f"{str(m.get('format'))[:20]}: run it again into a new folder)", str(out))
    chunks = m.get("chunks")
    if isinstance(chunks, bool) or not isinstance(chunks, int):
        raise InputError("DIR", "a sweep folder (its manifest.json has no chunk count)", str(out))
    listed = {}
    for key, rec in m["chunk_checksums"].items():
        ok = (isinstance(key, str) and key.isdigit() and int(key) < chunks and isinstance(rec, dict)
              and isinstance(rec.get("sha256"), str) and all(
                  isinstance(rec.get(k), int) and not isinstance(rec.get(k), bool) for k in ("bytes", "rows")))
        if not ok:
            raise InputError("DIR", "a sweep folder (its manifest.json lists a malformed chunk)", str(out))
        listed[int(key)] = rec
    return listed


def check_chunk(out: Path, chunk: int, rec: dict) -> str | None:
    """None when chunk ``chunk``'s file is whole (size and SHA-256 as ``rec``); else what is wrong."""
    path = chunk_path(out, chunk)
    if not path.exists():
        return "missing"
    try:
        sha, size = sha256_file(path)
    except ChipgapError:
        return "unreadable or not a regular file"
    if size != rec["bytes"] or sha != rec["sha256"]:
        return "damaged (its checksum differs from the manifest's)"
    return None


@dataclass
class Opened:
    """A sweep folder made ready for a run: the chunks verified done, and what was found."""

    done: dict[int, dict]
    notes: list[str] = field(default_factory=list)


def check_new_folder(out: Path) -> None:
    """Refuse ``out`` unless it is new, empty (but for a lock file) or holds a manifest; create it.

    Raises
    ------
    InputError
        When ``out`` is not a folder, or holds files and no manifest.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", "a folder", str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("--out", f"a folder that can be created ({e.strerror})", str(out)) from None
    if not (out / MANIFEST).exists() and any(not _ours(p.name) for p in out.iterdir()):
        raise InputError("--out", "a new or empty folder, or one holding this sweep", str(out))


def _ours(name: str) -> bool:
    """A name only a run writes before its manifest: the lock and temporary files."""
    return name == LOCK_NAME or (name.startswith((".chunk-", f".{MANIFEST}.")) and name.endswith(".tmp"))


def open_folder(out: Path, new: dict) -> Opened:
    """Make ``out`` ready for a run whose manifest (with nothing done) is ``new``; call it
    holding the folder's lock.

    A new folder gets ``new``. A folder holding a sweep must hold this very sweep: the same spec,
    chipgap version and input files (by content). Its temporary files are removed, and each
    chunk the manifest lists is checked against its checksum; damaged or missing ones are
    dropped (and so computed again), and the manifest is rewritten with the chunks that hold.

    Raises
    ------
    InputError
        When ``out`` holds another sweep, naming what differs (the spec's fields, the chipgap
        version, the catalog or config.json files that changed).
    """
    out = Path(out)
    if not (out / MANIFEST).exists():
        check_new_folder(out)
        write_manifest(out, new)
        return Opened({})
    old = read_manifest(out)
    listed = listed_chunks(old, out)

    def refuse(what: str) -> InputError:
        return InputError("--out", f"a folder holding this sweep, or a new one ({out} holds a sweep "
                                   f"with {what})", str(out))

    if old.get("spec_sha256") != new["spec_sha256"]:
        fields = spec_differences(old.get("spec") or {}, new["spec"]) if isinstance(old.get("spec"), dict) else ""
        raise refuse(f"another spec{': ' + fields + ' differ' if fields else ''}")
    if old.get("chipgap_version") != new["chipgap_version"]:
        raise refuse(f"another chipgap version: {str(old.get('chipgap_version'))[:20]}")
    if old.get("catalog_sha256") != new["catalog_sha256"]:
        was = old.get("inputs") if isinstance(old.get("inputs"), dict) else {}
        raise refuse(f"another catalog: {differences(was, new['inputs']) or 'its inputs differ'}")
    for tmp in [*out.glob(".chunk-*.tmp"), *out.glob(f".{MANIFEST}.*.tmp")]:
        tmp.unlink(missing_ok=True)  # we hold the lock: no other run is writing them
    opened = Opened({})
    rows_of = {k: new["chunk_rows"] for k in listed}
    if new["chunks"] - 1 in rows_of:  # the last chunk holds what is left
        rows_of[new["chunks"] - 1] = new["rows"] - (new["chunks"] - 1) * new["chunk_rows"]
    for chunk, rec in sorted(listed.items()):
        problem = check_chunk(out, chunk, rec)
        if problem is None and rec["rows"] != rows_of[chunk]:
            problem = f"listed with {rec['rows']:,} rows instead of {rows_of[chunk]:,}"
        if problem is None:
            opened.done[chunk] = rec
        else:
            opened.notes.append(f"chunk {chunk} was {problem}: computed again")
    expected = {chunk_path(out, k).name for k in range(new["chunks"])}
    for p in sorted(out.glob("chunk-*")):
        m = _CHUNK_NAME.match(p.name)
        if p.name in expected and m and int(m.group(1)) not in listed:
            opened.notes.append(f"{p.name} is not in the manifest (written by a run that stopped "
                                "before recording it, or copied in): computed again")
        elif p.name not in expected:
            opened.notes.append(f"{p.name} is not a chunk of this sweep: ignored")
    write_manifest(out, {**new, **manifest_done(new, opened.done)})
    return opened


def manifest_done(base: dict, done: dict[int, dict]) -> dict:
    """The manifest fields that say which chunks are done."""
    return {"done_count": len(done), "complete": len(done) == base["chunks"], "done": sorted(done),
            "chunk_checksums": {str(k): done[k] for k in sorted(done)}}


def verified_chunks(out: str | Path, checksums: bool = False) -> list[Path]:
    """The chunk files a sweep folder's manifest lists as done, in chunk order, each checked
    to exist with its recorded size (and SHA-256 with ``checksums``).

    Raises
    ------
    InputError
        When ``out`` is not a sweep folder, or a listed chunk is missing or damaged.
    """
    out = Path(out)
    listed = listed_chunks(read_manifest(out), out)
    files = []
    for chunk, rec in sorted(listed.items()):
        path = chunk_path(out, chunk)
        if checksums:
            problem = check_chunk(out, chunk, rec)
        else:
            try:
                problem = None if path.stat().st_size == rec["bytes"] and path.is_file() else \
                    "damaged (its size differs from the manifest's)"
            except OSError:
                problem = "missing"
        if problem:
            raise InputError("DIR", f"a sweep folder whose chunks are whole (chunk {chunk} is {problem}; "
                                    "run the sweep again to recompute it)", str(out))
        files.append(path)
    return files
