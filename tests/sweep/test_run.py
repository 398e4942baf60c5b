import json
import os

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


def test_killed_pool_worker_loses_and_duplicates_nothing(reference, write_spec, tmp_path):
    marker = tmp_path / "crashed"
    s = run_sweep(write_spec(), tmp_path / "out", workers=2, _crash_once=(3, str(marker)))
    assert marker.exists() and s.complete
    assert_same_sweep(reference, tmp_path / "out")


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
