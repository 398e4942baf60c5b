import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from chipgap.errors import CatalogError, InputError
from chipgap.sweep import read_results, run_sweep
from chipgap.sweep.store import chunk_path


def file_contents(out):
    return {p.name: pq.read_table(p) for p in sorted(out.glob("chunk-*.parquet"))}


def assert_same_sweep(a, b):
    """Same files with the same schema and values (NaN where the other has NaN: Arrow's own
    equality calls NaN unequal to itself)."""
    fa, fb = file_contents(a), file_contents(b)
    assert list(fa) == list(fb)
    assert all(fa[k].schema.equals(fb[k].schema) and fa[k].to_pandas().equals(fb[k].to_pandas()) for k in fa)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, catalog):
    """The SMALL sweep run in one go, in this process."""
    from .conftest import SMALL
    import yaml
    d = tmp_path_factory.mktemp("ref")
    (d / "spec.yaml").write_text(yaml.safe_dump(SMALL))
    s = run_sweep(d / "spec.yaml", d / "out", catalog=catalog)
    assert s.complete and s.done_now == 5 and s.rows == 240
    return d / "out"


def test_result_rows_and_manifest(reference):
    df = read_results(reference)
    assert len(df) == 240 and df.row.tolist() == list(range(240))
    assert df.groupby(["chip", "chips", "tp"]).size().eq(20).all()
    m = json.loads((reference / "manifest.json").read_text())
    assert m["chunks"] == 5 and m["done"] == [0, 1, 2, 3, 4] and m["complete"]
    assert m["spec"]["samples"] == 20 and len(m["spec_sha256"]) == 64 and m["chipgap_version"]


def test_two_workers_write_the_same_files(reference, write_spec, tmp_path):
    s = run_sweep(write_spec(), tmp_path / "out", workers=2)
    assert s.complete
    assert_same_sweep(reference, tmp_path / "out")


def test_interrupted_then_resumed_equals_one_run(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    first = run_sweep(spec, out, catalog=catalog, max_chunks=2)
    assert (first.done_now, first.complete) == (2, False)
    assert json.loads((out / "manifest.json").read_text())["done"] == [0, 1]
    # a crash mid-write leaves a temporary file; a damaged file is redone, not trusted
    (out / ".chunk-000002.parquet.x1.tmp").write_bytes(b"half a parquet file")
    chunk_path(out, 1).write_bytes(b"not parquet")
    second = run_sweep(spec, out, catalog=catalog)
    assert (second.done_before, second.done_now, second.complete) == (1, 4, True)
    assert not list(out.glob("*.tmp"))
    assert_same_sweep(reference, out)
    assert read_results(out).row.is_unique
    again = run_sweep(spec, out, catalog=catalog)
    assert (again.done_before, again.done_now) == (5, 0)


def test_killed_pool_worker_loses_and_duplicates_nothing(reference, write_spec, tmp_path, monkeypatch):
    """The pool worker running chunk 3 dies the first time (forked workers share the patch)."""
    from chipgap.sweep import run as run_mod

    marker, evaluate = tmp_path / "crashed", run_mod.evaluate_chunk

    def dies_once(plan, grid, chunk):
        if chunk == 3 and not marker.exists():
            marker.touch()
            os._exit(1)
        return evaluate(plan, grid, chunk)

    monkeypatch.setattr(run_mod, "MP_START", "fork")
    monkeypatch.setattr(run_mod, "evaluate_chunk", dies_once)
    s = run_sweep(write_spec(), tmp_path / "out", workers=2)
    assert marker.exists() and s.complete
    assert_same_sweep(reference, tmp_path / "out")


def test_pool_whose_workers_keep_dying_is_one_error(write_spec, tmp_path, monkeypatch):
    from chipgap.errors import RunError
    from chipgap.sweep import run as run_mod

    def dies(plan, grid, chunk):
        os._exit(1)

    monkeypatch.setattr(run_mod, "MP_START", "fork")
    monkeypatch.setattr(run_mod, "POOL_RETRIES", 1)
    monkeypatch.setattr(run_mod, "evaluate_chunk", dies)
    with pytest.raises(RunError, match="a worker process died 2 times"):
        run_sweep(write_spec(), tmp_path / "out", workers=2)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["done"] == []


def test_crash_in_process_keeps_the_chunks_written(reference, write_spec, tmp_path, catalog, monkeypatch):
    from chipgap.sweep import run as run_mod

    evaluate = run_mod.evaluate_chunk

    def fails_at_3(plan, grid, chunk):
        if chunk == 3:
            raise MemoryError("simulated")
        return evaluate(plan, grid, chunk)

    monkeypatch.setattr(run_mod, "evaluate_chunk", fails_at_3)
    spec, out = write_spec(), tmp_path / "out"
    with pytest.raises(MemoryError):
        run_sweep(spec, out, catalog=catalog)
    m = json.loads((out / "manifest.json").read_text())
    assert m["done"] == [0, 1, 2] and not m["complete"] and not (out / ".chipgap.lock").exists()
    monkeypatch.setattr(run_mod, "evaluate_chunk", evaluate)
    s = run_sweep(spec, out, catalog=catalog)
    assert (s.done_before, s.done_now, s.complete) == (3, 2, True)
    assert_same_sweep(reference, out)


def test_other_spec_into_a_sweep_folder_is_refused(reference, write_spec, tmp_path, catalog):
    out = tmp_path / "out"
    run_sweep(write_spec(), out, catalog=catalog, max_chunks=1)
    with pytest.raises(InputError, match="another spec"):
        run_sweep(write_spec("other.yaml", seed=4), out, catalog=catalog)
    assert len(list(out.glob("chunk-*"))) == 1


def test_folder_with_other_files_is_refused(write_spec, tmp_path, catalog):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="empty folder"):
        run_sweep(write_spec(), tmp_path / "mine", catalog=catalog)
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_unknown_chip_names_the_field(write_spec, catalog):
    with pytest.raises(CatalogError, match=r"spec.yaml: field 'chips.1': unknown chip 'h1OO'"):
        run_sweep(write_spec(chips=["910c", "h1OO"]), "/nonexistent/never-created", catalog=catalog)
    assert not os.path.exists("/nonexistent/never-created")


# -- provenance: a resume with other inputs is refused, naming what differs -------------------

def test_catalog_changed_between_runs_is_refused_naming_the_file(write_spec, tmp_path):
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "mine.yaml").write_text("sources:\n  - {id: my-note, title: A note, kind: other}\n")
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog_dir=cat, max_chunks=1)
    m = json.loads((out / "manifest.json").read_text())
    assert m["inputs"]["catalog:mine.yaml"] == hashlib.sha256((cat / "mine.yaml").read_bytes()).hexdigest()
    assert "chipgap:catalog/data/chips/nvidia.yaml" in m["inputs"] and len(m["catalog_sha256"]) == 64
    (cat / "mine.yaml").write_text("sources:\n  - {id: my-note, title: Another note, kind: other}\n")
    with pytest.raises(InputError, match=r"another catalog: catalog:mine.yaml changed"):
        run_sweep(spec, out, catalog_dir=cat)
    (cat / "mine.yaml").write_text("sources:\n  - {id: my-note, title: A note, kind: other}\n")
    (cat / "extra.yaml").write_text("sources: []\n")
    with pytest.raises(InputError, match=r"catalog:extra.yaml added"):
        run_sweep(spec, out, catalog_dir=cat)
    (cat / "extra.yaml").unlink()
    moved = tmp_path / "moved"
    cat.rename(moved)  # the same files elsewhere: the same catalog
    s = run_sweep(spec, out, catalog_dir=moved)
    assert s.complete and s.done_before == 1
    with pytest.raises(InputError, match=r"another catalog: catalog:mine.yaml removed"):
        run_sweep(spec, out)  # bundled data only: the folder's file is missing


def test_config_json_changed_between_runs_is_refused(write_spec, tmp_path):
    from chipgap.catalog import bundled_dir

    cfg = tmp_path / "m.json"
    original = json.loads((bundled_dir() / "workloads" / "configs" / "llama-3.1-8b.json").read_text())
    cfg.write_text(json.dumps(original))
    spec, out = write_spec(models=["m.json"]), tmp_path / "out"
    run_sweep(spec, out, max_chunks=1)
    cfg.write_text(json.dumps({**original, "num_hidden_layers": 16}))
    with pytest.raises(InputError, match=r"config:m.json changed"):
        run_sweep(spec, out)


def test_other_spec_names_the_fields_that_differ(write_spec, tmp_path, catalog):
    out = tmp_path / "out"
    run_sweep(write_spec(), out, catalog=catalog, max_chunks=1)
    with pytest.raises(InputError, match=r"another spec: samples, seed differ"):
        run_sweep(write_spec(seed=5, samples=10), out, catalog=catalog)


# -- checksums: a damaged, stray or duplicated chunk is never counted ---------------------------

def test_chunk_damaged_in_the_middle_is_recomputed(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog)
    m = json.loads((out / "manifest.json").read_text())
    rec = m["chunk_checksums"]["2"]
    data = bytearray(chunk_path(out, 2).read_bytes())
    assert rec["bytes"] == len(data) and rec["rows"] == 50
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()
    data[len(data) // 2] ^= 0xFF  # same size, footer intact
    chunk_path(out, 2).write_bytes(bytes(data))
    again = run_sweep(spec, out, catalog=catalog)
    assert (again.done_before, again.done_now, again.complete) == (4, 1, True)
    assert "chunk 2 was damaged (its checksum differs from the manifest's): computed again" in again.notes
    assert_same_sweep(reference, out)


def test_stray_and_copied_chunks_are_never_read(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog)
    shutil.copy(chunk_path(out, 1), out / "chunk-000001 (copy).parquet")
    shutil.copy(chunk_path(out, 1), out / "chunk-000007.parquet")
    df = read_results(out)
    assert len(df) == 240 and df.row.is_unique
    from chipgap.sweep import query
    assert query(out, "SELECT count(*) AS n, count(DISTINCT row) AS u FROM results").iloc[0].tolist() == [240, 240]
    again = run_sweep(spec, out, catalog=catalog)
    assert again.complete and again.done_now == 0
    assert "chunk-000007.parquet is not a chunk of this sweep: ignored" in again.notes
    assert (out / "chunk-000007.parquet").exists()  # never deleted: it may be the user's


def test_chunk_replaced_by_a_copy_of_another_is_recomputed(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog)
    shutil.copy(chunk_path(out, 0), chunk_path(out, 3))  # chunk 3's name, chunk 0's rows
    with pytest.raises(InputError, match="chunk 3 is damaged"):
        read_results(out)
    again = run_sweep(spec, out, catalog=catalog)
    assert again.done_now == 1 and again.complete
    assert_same_sweep(reference, out)


def test_unrecorded_chunk_file_is_recomputed_not_counted(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog, max_chunks=2)
    shutil.copy(chunk_path(out, 0), chunk_path(out, 2))  # a file the manifest does not list
    assert len(read_results(out)) == 100
    again = run_sweep(spec, out, catalog=catalog)
    assert (again.done_before, again.done_now) == (2, 3) and again.complete
    assert any(n.startswith("chunk-000002.parquet is not in the manifest") for n in again.notes)
    assert_same_sweep(reference, out)


def test_manifest_that_is_not_a_manifest_is_refused(write_spec, tmp_path, catalog):
    out = tmp_path / "out"
    out.mkdir()
    for text in ("[1, 2]", "{\"chunk_checksums\": 3}", "[" * 100000, "\xff\xfe"):
        (out / "manifest.json").write_text(text, errors="surrogateescape")
        with pytest.raises(InputError, match="DIR"):
            read_results(out)
        with pytest.raises(InputError):
            run_sweep(write_spec(), out, catalog=catalog)


# -- one run per folder ---------------------------------------------------------------------

def test_second_run_into_a_busy_folder_is_refused_and_deletes_nothing(write_spec, tmp_path, catalog):
    from chipgap.sweep.lock import FolderLock

    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog, max_chunks=1)
    tmp = out / ".chunk-000003.parquet.abc.tmp"  # the busy run's file being written
    tmp.write_bytes(b"half")
    with FolderLock(out):
        with pytest.raises(InputError, match=rf"pid {os.getpid()} on host .* holds .*\.chipgap\.lock"):
            run_sweep(spec, out, catalog=catalog)
        assert tmp.exists()
    s = run_sweep(spec, out, catalog=catalog)
    assert s.complete and not tmp.exists() and s.notes == ()
    assert not (out / ".chipgap.lock").exists()


def test_stale_lock_is_taken_over_with_a_note(write_spec, tmp_path, catalog):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (out / ".chipgap.lock").write_text(json.dumps({"pid": int(dead), "host": socket.gethostname(),
                                                   "started": "2025-01-01T00:00:00"}))
    s = run_sweep(write_spec(), out, catalog=catalog)
    assert s.complete
    assert s.notes == (f"took over the lock of an earlier run (pid {dead} on host {socket.gethostname()}, "
                       "since 2025-01-01T00:00:00) that ended without releasing it",)


def test_run_sweep_has_no_test_hook():
    import inspect

    assert not [p for p in inspect.signature(run_sweep).parameters if p.startswith("_")]


def test_run_killed_with_sigkill_resumes_to_the_same_rows(reference, write_spec, tmp_path, catalog):
    """A real process killed mid-run (chunks slowed down so the kill lands inside it)."""
    import signal
    import time

    spec, out = write_spec(), tmp_path / "out"
    slow = ("import time; from chipgap.sweep import run; ev = run.evaluate_chunk; "
            "run.evaluate_chunk = lambda p, g, c: (time.sleep(0.4), ev(p, g, c))[1]; "
            "run.MANIFEST_EVERY_S = 0; from chipgap.cli import main; main()")
    proc = subprocess.Popen([sys.executable, "-c", slow, "sweep", "run", str(spec), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if json.loads((out / "manifest.json").read_text())["done_count"] >= 2:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    m = json.loads((out / "manifest.json").read_text())
    assert 2 <= m["done_count"] < 5 and not m["complete"] and (out / ".chipgap.lock").exists()
    s = run_sweep(spec, out, catalog=catalog)
    assert s.complete and s.done_before == m["done_count"]
    assert any(n.startswith(f"took over the lock of an earlier run (pid {proc.pid} ") for n in s.notes)
    assert_same_sweep(reference, out)


def test_manifest_listing_a_wrong_row_count_is_recomputed(reference, write_spec, tmp_path, catalog):
    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog)
    m = json.loads((out / "manifest.json").read_text())
    assert [m["chunk_checksums"][str(k)]["rows"] for k in range(5)] == [50, 50, 50, 50, 40]
    m["chunk_checksums"]["4"]["rows"] = 50
    (out / "manifest.json").write_text(json.dumps(m))
    again = run_sweep(spec, out, catalog=catalog)
    assert again.done_now == 1 and "chunk 4 was listed with 50 rows instead of 40: computed again" in again.notes
    assert_same_sweep(reference, out)


def test_catalog_changed_while_running_drops_what_the_run_wrote(write_spec, tmp_path, catalog, monkeypatch):
    from chipgap.errors import RunError
    from chipgap.sweep import run as run_mod

    spec, out = write_spec(), tmp_path / "out"
    run_sweep(spec, out, catalog=catalog, max_chunks=2)
    real = run_mod.Inputs.hashes  # the run hashes its inputs at the start; these are at its end
    monkeypatch.setattr(run_mod.Inputs, "hashes", lambda self: real(self) | {"catalog:new.yaml": "0"})
    with pytest.raises(RunError, match="the catalog files changed while it ran"):
        run_sweep(spec, out, catalog=catalog)
    m = json.loads((out / "manifest.json").read_text())
    assert m["done"] == [0, 1] and not m["complete"] and not (out / ".chipgap.lock").exists()
