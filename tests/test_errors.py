import pickle

from chipgap.errors import CatalogError, ChipgapError, UnknownIdError


def test_catalog_error_names_file_entry_field_in_one_line():
    e = CatalogError("chips/x.yaml", "must be a positive number. Got -1 instead",
                     entry="huawei-ascend-910c", field="memory_capacity_gib")
    assert str(e) == ("chips/x.yaml: entry 'huawei-ascend-910c': field 'memory_capacity_gib': "
                      "must be a positive number. Got -1 instead")
    assert isinstance(e, ValueError) and isinstance(e, ChipgapError)


def test_unknown_id_suggests_closest_and_is_a_keyerror():
    e = UnknownIdError("chip", "h10", ["nvidia-h100-sxm", "h100", "h20", "910c"])
    assert isinstance(e, KeyError)
    assert "h100" in e.suggestions and str(e).startswith("unknown chip 'h10'. Closest:")


def test_errors_pickle_with_their_fields():
    for e in (CatalogError("f", "m", "e", "x"), UnknownIdError("chip", "zz", ["a"])):
        back = pickle.loads(pickle.dumps(e))
        assert str(back) == str(e) and type(back) is type(e)
