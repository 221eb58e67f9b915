"""The upload parser: every malformed file gets one clear UploadError (what is wrong, what to do),
odd but readable files are read with a notice saying what was done, and whatever the bytes, the
result is a table of finite numbers or that one error."""

from __future__ import annotations

import gzip
import io
import re
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import tabular as T
from core.data import seed_regression

ADVICE = re.compile(r"\b(Choose|Upload|upload|Save|Add|Give|Rename|Keep|Export|Check)\b")


def grid(header: str, row: str, n: int = 12) -> bytes:
    """A header line and ``n`` rows from ``row`` (formatted with i, j = 3i + 1, k = i % 3)."""
    return (header + "\n" + "".join(row.format(i=i, j=3 * i + 1, k=i % 3) + "\n" for i in range(n))).encode()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def zipped() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", grid("a,b,c", "{i},{j},{k}").decode())
    return buf.getvalue()


GOOD = "{i},{j},{k}"
#: name -> (file bytes, a phrase the message must hold): each must raise UploadError
BAD: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "only whitespace": (b"  \n\n\t\n", "empty"),
    "over the size limit": (b"a,b\n" + b"1,2\n" * (T.MAX_BYTES // 4 + 1), "limit is 5 MB"),
    "png named csv": (png(), "PNG image"),
    "jpeg named csv": (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "JPEG image"),
    "zip named csv": (zipped(), "zip archive"),
    "gzip named csv": (gzip.compress(grid("a,b,c", GOOD)), "gzip archive"),
    "pdf named csv": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
    "old excel": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel"),
    "pickle named csv": (b"\x80\x04\x95\x10\x00\x00\x00", "pickle"),
    "utf-16 text": ("a,b,c\n1,2,3\n".encode("utf-16"), "UTF-16"),
    "zero bytes inside": (b"a,b,c\n1,2\x00,3\n" * 12, "zero bytes"),
    "undecodable (cp1252 quotes)": (grid("a,b,c", "{i},{j},\x93q\x94").decode().encode("latin-1"),
                                    "UTF-8 or Latin-1"),
    "control characters": (grid("a,b,c", "{i},{j},\x1b[31m"), "control characters"),
    "an html page": (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "web page"),
    "json": (b'[{"a": 1, "b": 2}]', "JSON"),
    "no header": (grid("1,2,3", GOOD), "no header"),
    "no header, decimal commas": (grid("1,5;2,5;3", "{i},5;{j};{k}"), "no header"),
    "duplicated names": (grid("a,a,c", GOOD), "used more than once"),
    "empty column name": (grid("a,,c", GOOD), "has no name"),
    "blank column name": (grid("a,  ,c", GOOD), "has no name"),
    "one column": (grid("a", "{i}"), "Only one column"),
    "header only": (b"a,b,c\n", "0 data rows"),
    "nine rows": (grid("a,b,c", GOOD, n=9), "9 data rows"),
    "51 columns": ((",".join(f"c{i}" for i in range(51)) + "\n" + ",".join("1" * 51) + "\n") .encode() * 1,
                   "51 columns"),
    "ragged: a short row": (grid("a,b,c", GOOD) + b"1,2\n", "different lengths"),
    "ragged: a long row": (grid("a,b,c", GOOD) + b"1,2,3,4\n", "different lengths"),
    "every column constant": (grid("a,b,c", "1,2,3"), "constant"),
    "every column NaN or inf": (grid("a,b", "nan,inf"), "no finite numbers"),
    "every column text": (grid("name,colour", "n{i},c{i}"), "text, not numbers"),
    "every value 1e300": (grid("a,b", "1e300,-1e300"), "beyond ±1e15"),
    "one usable column": (grid("a,b", "{i},x{i}"), "Only one usable column"),
    "formula cells only": (grid("a,b", "=cmd|' /C calc'!A{i},=1+{i}"), "text, not numbers"),
    "script cells only": (grid("a,b", "<script>alert({i})</script>,<b>{i}</b>"), "text, not numbers"),
}
BAD["rows of empty fields only"] = (b"a,b,c\n" + b"1,2,3\n2,5,1\n" + b",,\n" * 20, "2 data rows")
BAD["mostly missing"] = (b"a,b,c\n" + b"1,2,3\n2,5,1\n" + b"x,,\n" * 20, "more than half the rows")
BAD["a quote never closed"] = (b'a,b,c\n"1,2,3\n' + grid("", GOOD)[1:], "different lengths")


@pytest.mark.parametrize("name", list(BAD))
def test_each_malformed_file_gets_one_upload_error_saying_what_is_wrong_and_what_to_do(name):
    data, phrase = BAD[name]
    with pytest.raises(T.UploadError) as err:
        T.read_table(data, "bad.csv")
    message = str(err.value)
    assert phrase in message, message
    assert ADVICE.search(message), f"no advice in: {message}"


def test_the_corpus_holds_at_least_thirty_malformed_files():
    assert len(BAD) + len(ODD) + len(BAD_CHOICE) >= 30


#: name -> (file, a phrase one of the notices must hold): readable, with what was done said
ODD: dict[str, tuple[bytes, str]] = {
    "semicolons and decimal commas": (grid("a;b;c", "{i},5;{j},25;{k}"), "decimal commas"),
    "european thousands": (grid("a;b;c", "1.{i:03d},5;{j};{k}"), "decimal commas"),
    "quoted thousands separators": (grid("a,b,c", '"1,{i:03d}.5",{j},{k}'), "thousands separators"),
    "tab separated": (grid("a\tb\tc", "{i}\t{j}\t{k}"), "tab separated"),
    "latin-1 names": ("é,b,c\n".encode("latin-1") + grid("", GOOD)[1:], "comma separated"),
    "utf-8 byte-order mark": (b"\xef\xbb\xbf" + grid("a,b,c", GOOD), "comma separated"),
    "a formula cell among numbers": (grid("a,b,c", GOOD) + b"=cmd|' /C calc'!A0,1,2\n", "comma"),
    "a text column": (grid("a,b,name,c", "{i},{j},<script>x{i}</script>,{k}"), "text, not numbers"),
    "a constant column": (grid("a,b,one,c", "{i},{j},1,{k}"), "constant"),
    "an all-NaN column": (grid("a,b,nothing,c", "{i},{j},nan,{k}"), "no finite numbers"),
    "a 1e300 column": (grid("a,b,big,c", "{i},{j},1e300,{k}"), "beyond ±1e15"),
    "a few 1e300 values": (grid("a,b,c", "{i},{j},{k}") + b"1e300,1,2\n", "beyond ±1e15"),
    "trailing empty fields": (grid("a,b,c,", "{i},{j},{k},"), "comma separated"),
    "blank lines": (grid("a,b,c", "{i},{j},{k}\n"), "comma separated"),
    "a text target": (grid("a,b,kind", "{i},{j},t{k}"), "classification target only"),
    "over 100,000 rows": (grid("a,b,c", "{i},{j},{k}", n=T.MAX_ROWS + 5), "a random 100,000"),
}


@pytest.mark.parametrize("name", list(ODD))
def test_each_odd_but_readable_file_is_read_and_the_notice_says_what_was_done(name):
    data, phrase = ODD[name]
    table = T.read_table(data, "odd.csv")
    notes = " ".join(T._text(n) for n in table.notes)
    assert phrase in notes, notes
    target = T.default_target(table)
    ds, _ = T.select(table, T.default_features(table, target), target)
    assert np.isfinite(ds.X).all() and np.isfinite(ds.y).all()
    assert len(ds.X) >= T.MIN_ROWS and len(ds.X) <= T.MAX_ROWS


def test_decimal_commas_and_thousands_separators_give_the_numbers_meant():
    t = T.read_table(grid("a;b;c", "{i},5;{j},25;{k}"))
    assert np.allclose(t.numeric["a"], np.arange(12) + 0.5)
    t = T.read_table(grid("a,b,c", '"1,{i:03d}.5",{j},{k}'))
    assert np.allclose(t.numeric["a"], 1000 + np.arange(12) + 0.5)


def test_a_formula_cell_is_never_evaluated_its_row_is_dropped_and_counted():
    t = T.read_table(grid("a,b,c", GOOD) + b"=1+1,1,2\n")
    ds, notes = T.select(t, ["a", "b"], "c", "regression")
    assert len(ds.X) == 12 and 2.0 not in ds.X[:, 0][ds.X[:, 1] == 1]
    assert "1 row dropped" in T._text(notes[0])


#: (file, features, target, task, phrase): the file reads, the choice does not
BAD_CHOICE = {
    "one class": (grid("a,b,y", "{i},{j},0") + b"1,,1\n2,,1\n", ["a", "b"], "y", "classification", "one class only"),
    "a class per row": (grid("a,b,y", "{i},{j},{k}"), ["b"], "a", "classification", "class of its own"),
    "too many classes": (b"a,y\n" + "".join(f"{i},{i % 30}\n" for i in range(60)).encode(), ["a"], "y",
                         "classification", "30 distinct values"),
    "a text target for regression": (grid("a,b,kind", "{i},{j},t{k}"), ["a", "b"], "kind", "regression", "is text"),
    "a target that is a feature": (grid("a,b,y", GOOD), ["a", "y"], "y", None, "other than the target"),
    "no features": (grid("a,b,y", GOOD), [], "y", None, "at least one feature"),
    "a feature constant in the rows used": (grid("a,b,y", "{i},1,{k}") + b"1,2,\n" * 1, ["a", "b"], "y",
                                            None, "constant"),
    "too few complete rows": (b"a,b,y\n" + b"1,2,3\n3,4,5\n" * 3 + b"1,2,\n5,6,\n" * 2, ["a", "b"], "y",
                              None, "Only 6 rows"),
}


@pytest.mark.parametrize("name", list(BAD_CHOICE))
def test_a_bad_choice_of_columns_gets_one_upload_error_saying_what_to_choose(name):
    data, features, target, task, phrase = BAD_CHOICE[name]
    table = T.read_table(data)
    with pytest.raises(T.UploadError) as err:
        T.select(table, features, target, task)
    assert phrase in str(err.value), str(err.value)
    assert ADVICE.search(str(err.value)), str(err.value)


def test_the_articles_data_as_csv_gives_back_the_same_arrays_bit_for_bit():
    seed = seed_regression()
    table = T.read_table(T.to_csv(seed.X, seed.y, seed.feature_names), "seed.csv")
    ds, notes = T.select(table, ["A", "B"], "y")
    assert ds.task == "regression" and ds.feature_names == ("A", "B") and notes == ()
    assert np.array_equal(ds.X, seed.X) and np.array_equal(ds.y, seed.y)


def test_defaults_are_the_last_column_as_target_and_a_few_whole_numbers_as_classes():
    table = T.read_table(grid("a,b,label", "{i},{j},{k}"))
    assert T.default_target(table) == "label"
    assert T.default_features(table, "label") == ["a", "b"]
    assert T.default_task(table, "label") == "classification"
    assert T.default_task(table, "b") == "regression"


def test_a_text_target_is_encoded_as_classes_and_the_notice_says_so():
    table = T.read_table(grid("a,b,kind", "{i},{j},t{k}"))
    ds, notes = T.select(table, ["a", "b"], "kind")
    assert ds.task == "classification" and set(ds.y) == {0, 1, 2} and ds.y.dtype == np.int64
    assert any("classes" in T._text(n) for n in notes)


def test_column_names_and_cells_from_the_file_are_marked_as_file_text_in_messages():
    with pytest.raises(T.UploadError) as err:
        T.read_table(grid("<b>x</b>,<b>x</b>,c", GOOD))
    assert any(isinstance(p, T.FromFile) and p == "<b>x</b>" for p in err.value.parts)


def test_a_cleaned_export_never_starts_a_cell_with_a_formula_sign():
    out = T.to_csv(np.ones((2, 1)), np.zeros(2), ["=cmd|x"], "@y").decode()
    assert out.splitlines()[0] == "'=cmd|x,'@y"


# ---------------------------------------------------------------- property tests

def outcome(data: bytes):
    """The table's data set with the default choices, or the UploadError's message; nothing else."""
    try:
        table = T.read_table(data)
        target = T.default_target(table)
        features = T.default_features(table, target)
        return T.select(table, features or [target], target)[0]
    except T.UploadError as err:
        assert str(err) and err.parts
        return str(err)


def check_outcome(result) -> None:
    if isinstance(result, str):
        return
    assert result.X.dtype == np.float64 and np.isfinite(result.X).all() and np.isfinite(result.y).all()
    assert len(result.feature_names) == result.X.shape[1] and all(result.feature_names)
    assert result.X.shape[0] == len(result.y) >= T.MIN_ROWS


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=2000))
def test_any_bytes_give_finite_named_columns_or_one_upload_error(data):
    check_outcome(outcome(data))


CELL = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NA", "-", "1e300", "=1+1", "<script>x</script>", "1,5", '"1,234.5"',
                     "x", " 3 ", "'", '"']),
    st.text(max_size=6),
)


@PROPERTY
@given(st.integers(1, 6), st.lists(st.lists(CELL, min_size=1, max_size=7), min_size=0, max_size=30),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "latin-1"]))
def test_any_grid_of_cells_gives_finite_named_columns_or_one_upload_error(width, rows, sep, encoding):
    header = sep.join(f"c{i}" for i in range(width))
    text = "\n".join([header, *(sep.join(r) for r in rows)])
    check_outcome(outcome(text.encode(encoding, errors="replace")))


@PROPERTY
@given(st.lists(st.lists(st.floats(-1e12, 1e12), min_size=3, max_size=3), min_size=10, max_size=40))
def test_any_table_of_floats_round_trips_through_csv_exactly(rows):
    X = np.array(rows)
    if any(np.ptp(X[:, j]) <= 1e-12 * np.abs(X[:, j]).max() for j in range(3)):
        return  # constant (or within rounding of it): left out, as the corpus tests
    table = T.read_table(T.to_csv(X[:, :2], X[:, 2], ["a", "b"], "y"))
    ds, _ = T.select(table, ["a", "b"], "y", "regression")
    assert np.array_equal(ds.X, X[:, :2]) and np.array_equal(ds.y, X[:, 2])


# ---------------------------------------------------------------- the registry the network views would use

def test_a_registered_upload_loads_by_its_content_addressed_name_like_a_built_in_set():
    from core.data import load_dataset, register_table

    table = T.read_table(grid("a,b,label", "{i},{j},{k}", n=40))
    ds, _ = T.select(table, ["a", "b"], "label")
    name = register_table(ds)
    assert name.startswith("upload:") and name == register_table(ds)  # the same data, the same name
    loaded = load_dataset(name, n_samples=1000, noise=0.3, seed=1)
    assert np.array_equal(loaded.X, ds.X) and np.array_equal(loaded.y, ds.y) and loaded.name == name
    assert loaded.task == "classification" and loaded.n_classes == 3
    small = load_dataset(name, n_samples=20, seed=1)
    assert len(small.X) == 20 and np.array_equal(small.X, load_dataset(name, n_samples=20, seed=1).X)


def test_an_unknown_upload_name_is_refused_with_a_message_saying_to_upload_again():
    from core.data import load_dataset

    with pytest.raises(ValueError, match="upload the file again"):
        load_dataset("upload:0000000000000000", n_samples=100)


def test_the_same_file_registers_under_one_name_and_other_columns_tasks_or_files_under_others():
    from core.data import register_table

    data = grid("a,b,label", "{i},{j},{k}", n=40)
    first, _ = T.select(T.read_table(data, "one.csv"), ["a", "b"], "label")
    again, _ = T.select(T.read_table(data, "another name.csv"), ["a", "b"], "label")
    names = {register_table(first), register_table(again)}
    assert len(names) == 1  # content-addressed: two sessions with the same file name the same runs
    table = T.read_table(data)
    others = [T.select(table, ["a"], "label")[0], T.select(table, ["a", "b"], "label", "regression")[0],
              T.select(T.read_table(grid("a,b,label", "{i},{j},{k}", n=41)), ["a", "b"], "label")[0]]
    assert len(names | {register_table(d) for d in others}) == 4  # never collide


def test_a_registered_name_stays_loadable_while_a_registrant_keeps_its_data_and_goes_with_the_last():
    import gc

    from core.data import is_registered, load_dataset, register_table, registered_table
    from core.training import TrainConfig

    data = grid("a,b,label", "{i},{j},{k}", n=40)
    mine, _ = T.select(T.read_table(data), ["a", "b"], "label")
    theirs, _ = T.select(T.read_table(data), ["a", "b"], "label")  # another session, the same file
    name = register_table(mine)
    assert register_table(theirs) == name and registered_table(name).name == name
    TrainConfig(dataset=name).validate()  # the config's spec admits a registered name
    del mine
    gc.collect()
    assert is_registered(name) and len(load_dataset(name, n_samples=100).X) == 40  # the other one keeps it
    del theirs
    gc.collect()
    assert not is_registered(name) and registered_table(name) is None  # nothing outlives its sessions
    with pytest.raises(ValueError, match="The 'dataset' parameter must be one of .* an uploaded file's name"):
        TrainConfig(dataset=name).validate()


def test_a_link_never_reads_nor_writes_an_uploaded_files_name_even_a_registered_one():
    from core.data import register_table
    from core.params import from_query, to_query
    from core.training import TrainConfig

    ds, _ = T.select(T.read_table(grid("a,b,label", "{i},{j},{k}", n=40)), ["a", "b"], "label")
    name = register_table(ds)
    config, notices = from_query(TrainConfig, {"dataset": name, "lr": "0.3"})
    assert config.dataset == TrainConfig().dataset and config.lr == 0.3
    assert len(notices) == 1 and "a link cannot carry an uploaded file" in notices[0]
    query = to_query(TrainConfig(dataset=name, lr=0.3))
    assert "dataset" not in query and query["lr"] == "0.3"
