import json

import pytest

from .test_run import assert_same_sweep, reference  # noqa: F401  (the fixture)

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_ray_writes_the_same_files_as_local(local_ray, reference, write_spec, tmp_path):  # noqa: F811
    from chipgap.sweep import run_sweep

    s = run_sweep(write_spec(), tmp_path / "out", backend="ray", workers=2)
    assert s.complete and s.done_now == 5
    assert_same_sweep(reference, tmp_path / "out")


def test_killed_ray_worker_is_retried(local_ray, reference, write_spec, tmp_path, monkeypatch):  # noqa: F811
    """The worker running chunk 2 dies the first time; Ray reruns the task and nothing is lost."""
    from chipgap.sweep import ray_backend, read_results, run_sweep

    marker = tmp_path / "crashed"

    def dies_once(plan, inputs, chunk):  # a closure: Ray ships it by value to the worker
        import os

        from chipgap.sweep import ray_backend as worker_side  # the worker's own, unpatched module
        if chunk == 2 and not marker.exists():
            marker.touch()
            os._exit(1)
        return worker_side._chunk_table(plan, inputs, chunk)

    monkeypatch.setattr(ray_backend, "_chunk_table", dies_once)
    s = run_sweep(write_spec(), tmp_path / "out", backend="ray", workers=2)
    assert marker.exists() and s.complete
    assert_same_sweep(reference, tmp_path / "out")
    df = read_results(tmp_path / "out")
    assert len(df) == 240 and df.row.is_unique


def test_ray_task_dying_every_time_is_one_error(local_ray, write_spec, tmp_path, monkeypatch):  # noqa: F811
    from chipgap.errors import RunError
    from chipgap.sweep import ray_backend, run_sweep

    def always_dies(plan, inputs, chunk):
        import os
        if chunk == 1:
            os._exit(1)
        from chipgap.sweep import ray_backend as worker_side
        return worker_side._chunk_table(plan, inputs, chunk)

    monkeypatch.setattr(ray_backend, "_chunk_table", always_dies)
    monkeypatch.setattr(ray_backend, "MAX_RETRIES", 1)
    out = tmp_path / "out"
    with pytest.raises(RunError, match=r"chunk 1 failed on Ray after 1 retries .*run again to resume"):
        run_sweep(write_spec(), out, backend="ray", workers=2)
    m = json.loads((out / "manifest.json").read_text())
    assert not m["complete"] and 1 not in m["done"] and not (out / ".chipgap.lock").exists()


def test_ray_worker_with_another_catalog_refuses(local_ray, write_spec, tmp_path, monkeypatch):  # noqa: F811
    """A node whose catalog files differ from the driver's computes nothing."""
    from chipgap.errors import RunError
    from chipgap.sweep import run_sweep
    from chipgap.sweep import run as run_mod

    monkeypatch.setattr(run_mod, "combined", lambda hashes: "0" * 64)  # the driver's record only
    with pytest.raises(RunError, match="catalog files changed after the run started"):
        run_sweep(write_spec(), tmp_path / "out", backend="ray", workers=2)
