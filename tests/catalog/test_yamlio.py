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
