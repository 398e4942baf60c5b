from pathlib import Path

import pytest

from chipgap.catalog.yamlio import read_yaml
from chipgap.errors import CatalogError


def write(tmp_path, text, name="f.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_plain_yaml_reads(tmp_path):
    assert read_yaml(write(tmp_path, "a: [1, 2]\n")) == {"a": [1, 2]}


@pytest.mark.parametrize("text, expected", [
    ("a: &x [1]\nb: *x\n", "anchors and aliases"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
    ("a: [1,\n", "not valid YAML"),
])
def test_hostile_or_broken_yaml_is_refused_with_the_file_named(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(CatalogError) as e:
        read_yaml(p)
    assert expected in str(e.value) and str(p) in str(e.value)
    assert "\n" not in str(e.value)


def test_billion_laughs_never_expands(tmp_path):
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(CatalogError, match="anchors and aliases"):
        read_yaml(write(tmp_path, lol))


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match="not UTF-8"):
        read_yaml(p)


def test_exponent_numbers_are_numbers_as_in_yaml_1_2(tmp_path):
    got = read_yaml(write(tmp_path, "a: 1e12\nb: 1.5e9\nc: -2E-3\nd: .5e3\ne: 1_000\nf: '1e5'\ng: e12\n"))
    assert got == {"a": 1e12, "b": 1.5e9, "c": -0.002, "d": 500.0, "e": 1000, "f": "1e5", "g": "e12"}


@pytest.mark.parametrize("text, expected", [
    ("a: " + "[" * 40 + "]" * 40 + "\n", "nests deeper than 32 levels"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "not valid YAML"),
    ("a: " + "9" * 31 + "\n", "longer than 30 digits"),
])
def test_deep_nesting_and_huge_integers_are_refused(tmp_path, text, expected):
    with pytest.raises(CatalogError, match=expected):
        read_yaml(write(tmp_path, text))


def test_fifo_device_and_folder_are_refused_without_reading(tmp_path):
    import os
    import time

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # nobody writes to it: reading would block for ever
    t0 = time.monotonic()
    for path, kind in ((fifo, "a FIFO"), (tmp_path, "a folder")):
        with pytest.raises(CatalogError, match=f"is {kind}, not a regular file"):
            read_yaml(path)
    if os.path.exists("/dev/zero"):  # endless: a size check would read 0 bytes and trust it
        with pytest.raises(CatalogError, match="is a device, not a regular file"):
            read_yaml(Path("/dev/zero"))
    assert time.monotonic() - t0 < 5


def test_read_capped_reads_at_most_cap_plus_one_bytes(tmp_path):
    from chipgap.files import read_capped

    p = write(tmp_path, "x" * 101)
    assert read_capped(p, 101) == b"x" * 101
    with pytest.raises(CatalogError, match="larger than 100 bytes"):
        read_capped(p, 100)
    proc = Path("/proc/self/status")  # a regular file whose size says 0
    if proc.exists():
        assert proc.stat().st_size == 0 and b"Name:" in read_capped(proc, 100_000)
