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


def test_killed_ray_worker_is_retried(local_ray, reference, write_spec, tmp_path):  # noqa: F811
    from chipgap.sweep import read_results, run_sweep

    marker = tmp_path / "crashed"
    s = run_sweep(write_spec(), tmp_path / "out", backend="ray", workers=2, _crash_once=(2, str(marker)))
    assert marker.exists() and s.complete
    assert_same_sweep(reference, tmp_path / "out")
    df = read_results(tmp_path / "out")
    assert len(df) == 240 and df.row.is_unique
