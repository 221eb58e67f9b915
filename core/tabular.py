"""Your own data: a CSV file's bytes in, a checked table of finite numbers out.

``read_table(data, name)`` returns a :class:`Table` or raises :class:`UploadError`, the one error
this module raises, whose message says what is wrong with the file and what to do. Nothing in a
file is ever evaluated: cells are read as text by the ``csv`` module and turned into numbers only
when they look like numbers (a formula such as ``=cmd|...`` is just text). ``select(table,
features, target, task)`` then builds a :class:`core.data.Dataset` from the chosen columns.

Messages and notices are tuples of parts: our own words as ``str``, text taken from the file
(column names, cells) as :class:`FromFile`, so a page can show the latter literally.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data import Dataset

__all__ = ["UploadError", "FromFile", "Table", "read_table", "select", "default_target",
           "default_features", "default_task", "to_csv", "MAX_BYTES", "MAX_ROWS", "MAX_COLUMNS",
           "MIN_ROWS", "MAX_CLASSES", "MAX_ABS"]

MAX_BYTES = 5 * 1024 * 1024  # the upload limit (server.maxUploadSize = 5 in .streamlit/config.toml)
MAX_ROWS = 100_000  # more rows are subsampled (without replacement, reproducibly)
MAX_COLUMNS = 50
MIN_ROWS = 10
MAX_CLASSES = 20  # a classification target has 2 to MAX_CLASSES classes
#: larger magnitudes are unusable: their squares (a loss, a variance) overflow float32 (3.4e38)
MAX_ABS = 1e15
SEPARATORS = {"\t": "tab", ";": "semicolon", ",": "comma"}  # in order of preference
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # never in text (C1: not Latin-1 text)
TEXT = "string[pyarrow]"  # cells as Arrow strings: vectorized matching and parsing
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a",  # and the non-finite:
                     "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
SIGNATURES = (  # (leading bytes, what the file is)
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx workbook)"), (b"PK\x05\x06", "an empty zip archive"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"), (b"BZh", "a bzip2 archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x80\x04", "a Python pickle"), (b"\x80\x05", "a Python pickle"), (b"SQLite format", "an SQLite database"),
    (b"\x93NUMPY", "a NumPy array file"), (b"PAR1", "a Parquet file"), (b"RIFF", "an audio or video file"),
)


class FromFile(str):
    """Text taken from the uploaded file (shown literally, never as markup)."""


Message = tuple[str, ...]  # our words (str) and the file's text (FromFile), in reading order


def _text(parts: Message) -> str:
    return "".join(f"'{p}'" if isinstance(p, FromFile) else p for p in parts)


class UploadError(ValueError):
    """The file cannot be used; ``parts`` says why and what to do (str(error) is the plain text)."""

    def __init__(self, *parts: str):
        self.parts: Message = tuple(parts)
        super().__init__(_text(self.parts))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _names(names, limit: int = 3) -> Message:
    """'a', 'b' and 2 more: column names as parts."""
    names = list(names)
    out: list[str] = []
    for i, n in enumerate(names[:limit]):
        out += ([", "] if i else []) + [FromFile(n)]
    if len(names) > limit:
        out.append(f" and {len(names) - limit} more")
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Table:
    """An uploaded file, checked.

    numeric: column name -> (n,) float64, NaN where a cell is missing or unusable;
    categories: column name -> ((n,) float64 class codes, NaN where missing; the class names),
    text columns with 2 to MAX_CLASSES distinct values (possible classification targets);
    notes: what was done, one message each; digest: the file's sha256.
    """

    name: str
    columns: tuple[str, ...]  # every usable column, in the file's order
    numeric: dict[str, np.ndarray]
    categories: dict[str, tuple[np.ndarray, tuple[str, ...]]]
    notes: tuple[Message, ...]
    digest: str
    separator: str
    n_rows: int

    @property
    def key(self) -> str:
        """The data set's name: ``upload:`` and the start of the file's sha256."""
        return f"upload:{self.digest[:12]}"


# ---------------------------------------------------------------- bytes -> text

def _check_bytes(data: bytes) -> None:
    if not data or not data.strip():
        raise UploadError("The file is empty. Choose a CSV file with a header row and at least "
                          f"{MIN_ROWS} rows of numbers.")
    if len(data) > MAX_BYTES:
        raise UploadError(f"The file is {len(data) / 2**20:.2f} MB; the limit is {MAX_BYTES // 2**20} MB. "
                          "Keep fewer rows or columns and save it again.")
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            raise UploadError(f"This is {kind}, not a CSV text file. Export the table as CSV "
                              "(comma, semicolon or tab separated) and upload that.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise UploadError("The file is not plain text (it holds zero bytes: binary data, or text saved "
                          "as UTF-16). Save it as CSV in UTF-8 and upload it again.")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Latin-1; control characters are refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    bad = len(CONTROL.findall(text))
    if bad:
        raise UploadError("The file could not be read as text in UTF-8 or Latin-1 (it holds "
                          f"{bad:,} control characters). Save it as CSV in UTF-8 and upload it again.")
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<svg", "{", "[")):
        raise UploadError("This looks like a web page, XML or JSON, not a CSV table. Export the table "
                          "as CSV (a header row, then one row per sample) and upload that.")
    return text


# ---------------------------------------------------------------- text -> rows

def _sniff(lines: list[str]) -> str:
    """The separator that splits the first lines into the same number (> 1) of fields."""
    best, best_score = ",", 0.0
    for sep in SEPARATORS:
        counts = [len(r) for r in csv.reader(lines, delimiter=sep)]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        score = hits / len(counts) if width > 1 else 0.0
        if score > best_score + 0.05:  # the earlier (preferred) separator wins a near tie
            best, best_score = sep, score
    return best


def _rows(text: str) -> tuple[list[str], pd.DataFrame, str]:
    """(the header's names, the data rows as text cells, the separator)."""
    lines = [line for line in text[:200_000].splitlines() if line.strip()]
    if not lines:
        raise UploadError("The file holds no rows. Choose a CSV file with a header row and data rows.")
    sep = _sniff(lines[:50])
    raw = next(csv.reader(lines[:1], delimiter=sep))
    header = list(raw)
    while len(header) > 1 and not header[-1].strip():  # the empty names a spreadsheet leaves at the end
        header.pop()
    header = _header(header)
    try:
        body = _body_fast(text, sep, len(raw), len(header))
    except (ValueError, pd.errors.ParserError):  # ragged rows, odd quoting: the careful path says where
        body = _body_slow([line for line in text.splitlines() if line.strip()][1:], sep, len(header))
    return header, body, sep


def _body_fast(text: str, sep: str, raw_width: int, width: int) -> pd.DataFrame:
    """Every data row through pandas' Arrow CSV reader (raises on rows of another length)."""
    frame = pd.read_csv(io.BytesIO(text.encode("utf-8")), sep=sep, header=None, dtype=TEXT,
                        keep_default_na=False, na_values=[], engine="pyarrow").iloc[1:]
    if frame.shape[1] != raw_width:
        raise ValueError("the header's width differs")
    extra = frame.iloc[:, width:]
    if extra.shape[1] and not all(extra[c].str.strip().eq("").all() for c in extra):
        raise ValueError("cells under the empty names at the header's end")
    frame = frame.iloc[:, :width]
    blank = np.logical_and.reduce([frame[c].eq("").to_numpy() for c in frame])  # ",,": a row of nothing
    return frame[~blank].reset_index(drop=True).set_axis(range(width), axis=1)


def _body_slow(lines: list[str], sep: str, width: int) -> pd.DataFrame:
    try:
        rows = list(csv.reader(lines, delimiter=sep, strict=False))
    except csv.Error as err:  # e.g. a field larger than the csv module's limit
        raise UploadError("The file could not be read as CSV (", FromFile(str(err)),
                          "). Check its quoting and save it again.") from None
    rows = _fit_rows(rows, width)
    return pd.DataFrame(rows, columns=range(width), dtype=TEXT)


def _header(row: list[str]) -> list[str]:
    names = [c.strip() for c in row]
    if len(names) < 2:
        raise UploadError("Only one column was found; a table needs at least two (features and a target). "
                          "Save it with its columns separated by commas, semicolons or tabs.")
    if len(names) > MAX_COLUMNS:
        raise UploadError(f"The file has {len(names)} columns; at most {MAX_COLUMNS} can be used. Keep the "
                          "columns you need (features and target) and save it again.")
    numeric = [n for n in names if NUMBER.fullmatch(n.replace(",", "."))]
    if len(numeric) == len(names):
        raise UploadError("The first row holds numbers, not column names: the file has no header. Add a "
                          "first row naming each column (e.g. A,B,y) and upload it again.")
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        raise UploadError(f"Column {', '.join(map(str, empty[:5]))} has no name in the header row. "
                          "Give every column a name and upload it again.")
    seen = Counter(names)
    dup = [n for n, k in seen.items() if k > 1]
    if dup:
        raise UploadError("Column names must differ; ", *_names(dup), " used more than once. "
                          "Rename them and upload again.")
    return names


def _fit_rows(rows: list[list[str]], width: int) -> list[list[str]]:
    """Rows of ``width`` fields: empty fields past it (a spreadsheet's) cut; a row of only empty
    fields skipped; any other length refused."""
    fitted = []
    for row in rows:
        if len(row) > width and not "".join(row[width:]).strip():
            row = row[:width]
        if "".join(row).strip():
            fitted.append(row)
    _check_ragged(fitted, width)
    return fitted


def _check_ragged(rows: list[list[str]], width: int) -> None:
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        first = bad[0]
        raise UploadError(f"Rows have different lengths: the header has {width} fields but data row "
                          f"{first + 1} has {len(rows[first])}" + (f" ({len(bad):,} rows differ)" if len(bad) > 1
                                                                   else "")
                          + ". Check for missing or extra separators (a quoted field keeps a separator "
                          "inside it) and upload again.")


# ---------------------------------------------------------------- cells -> numbers

def _as_float(s: pd.Series, mask: pd.Series) -> np.ndarray:
    """The cells under ``mask`` (each a NUMBER) as floats, NaN elsewhere (Arrow's exact parser)."""
    floats = s.where(mask, "nan").astype("float64[pyarrow]")
    return floats.to_numpy(dtype=np.float64, na_value=np.nan)


def _reformatted(s: pd.Series, plain: pd.Series, present: pd.Series, sep: str) -> tuple[np.ndarray, str | None]:
    """Numbers written with thousands separators (1,234.5) or decimal commas (1.234,5 or 3,5)."""
    if plain.sum() >= 0.9 * present.sum():
        return _as_float(s, plain), None
    decimal = s.str.fullmatch(DECIMAL_COMMA.pattern).fillna(False).astype(bool) & ~plain
    if sep != "," and (plain | decimal).sum() >= 0.9 * present.sum():  # the European way, plainly
        thousands = pd.Series(False, index=s.index)
    else:
        thousands = s.str.fullmatch(THOUSANDS_COMMA.pattern).fillna(False).astype(bool) & ~plain
    n_th, n_dec = int(thousands.sum()), int(decimal.sum())
    if not (n_th or n_dec):
        return _as_float(s, plain), None
    if n_dec > n_th or (n_dec == n_th and sep != ","):  # a semicolon or tab file: the European way
        fixed = s.where(~decimal, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
        return _as_float(fixed, plain | decimal), "decimal commas (3,5 read as 3.5)"
    fixed = s.where(~thousands, s.str.replace(",", "", regex=False))
    return _as_float(fixed, plain | thousands), "thousands separators (1,234 read as 1234)"


def _column(cells: pd.Series, sep: str) -> tuple[str, object, str | None]:
    """('number', values, how they were written) or ('text', series, None); cells: TEXT."""
    s = cells.str.strip()
    try:  # every cell a number (or nan, inf): Arrow's parser alone, no pattern matching
        return "number", s.astype("float64[pyarrow]").to_numpy(dtype=np.float64, na_value=np.nan), None
    except (ValueError, TypeError):
        pass
    if sep != "," and s.str.contains(",", regex=False).any() and not s.str.contains(".", regex=False).any():
        try:  # every cell a number with a decimal comma (3,5) and no point anywhere
            floats = s.str.replace(",", ".", regex=False).astype("float64[pyarrow]")
            return "number", floats.to_numpy(dtype=np.float64, na_value=np.nan), "decimal commas (3,5 read as 3.5)"
        except (ValueError, TypeError):
            pass
    plain = s.str.fullmatch(NUMBER.pattern).fillna(False).astype(bool)
    if plain.all():
        return "number", _as_float(s, plain), None
    present = ~s.str.lower().isin(MISSING)
    n_present = int(present.sum())
    if n_present == 0:
        return "number", np.full(len(s), np.nan), None
    values, how = _reformatted(s, plain, present, sep)
    if np.isfinite(values).sum() + np.isinf(values).sum() >= 0.9 * n_present:
        return "number", values, how
    return "text", s.where(present, None), None


def _category(s: pd.Series) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Class codes of a text column with 2 to MAX_CLASSES values, some repeated (else None)."""
    classes = sorted(set(s.dropna()))
    if not 2 <= len(classes) <= min(MAX_CLASSES, int(s.notna().sum()) - 1):
        return None
    lookup = {c: float(i) for i, c in enumerate(classes)}
    return s.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan), tuple(classes)


def _usable(values: np.ndarray) -> tuple[np.ndarray, int]:
    """NaN for non-finite values and those beyond MAX_ABS; how many were beyond it."""
    with np.errstate(invalid="ignore"):
        huge = np.isfinite(values) & (np.abs(values) > MAX_ABS)
    out = np.where(np.isfinite(values) & ~huge, values, np.nan)
    return out, int(huge.sum())


@dataclass
class _Sorted:
    """Columns sorted by what they can be, and what was done to them (for the notice)."""

    numeric: dict[str, np.ndarray]
    categories: dict[str, tuple[np.ndarray, tuple[str, ...]]]
    left_out: dict[str, list[str]]  # why -> column names
    rewritten: dict[str, list[str]]  # how the numbers were written -> column names
    huge: int = 0


def _sort_column(out: _Sorted, name: str, cells: pd.Series, sep: str) -> None:
    kind, values, how = _column(cells, sep)
    if kind == "text":
        cat = _category(values)
        if cat is None:
            out.left_out.setdefault("text, not numbers", []).append(name)
        else:
            out.categories[name] = cat
        return
    values, huge = _usable(values)
    usable = np.isfinite(values)
    if not usable.any():
        why = ("only values beyond ±1e15, too large for float32 arithmetic" if huge
               else "no finite numbers (empty, NaN or infinite)")
        out.left_out.setdefault(why, []).append(name)
    elif usable.mean() < 0.5:
        out.left_out.setdefault("missing or unusable in more than half the rows", []).append(name)
    elif np.ptp(values[usable]) <= 1e-12 * float(np.abs(values[usable]).max()):  # 0 or rounding noise
        out.left_out.setdefault("constant, and standardizing would divide by zero", []).append(name)
    else:
        out.numeric[name] = values
        out.huge += huge
        if how:
            out.rewritten.setdefault(how, []).append(name)


def _notes(out: _Sorted, n_rows: int, n_file: int, sep: str) -> tuple[Message, ...]:
    notes: list[Message] = [(f"Read {n_file:,} rows, {SEPARATORS[sep]} separated.",)]
    if n_rows < n_file:
        notes.append((f"More than {MAX_ROWS:,} rows: a random {n_rows:,} of them are used.",))
    for how, names in out.rewritten.items():
        notes.append(("Numbers in ", *_names(names), f" are written with {how}.",))
    for why, names in out.left_out.items():
        notes.append(("Left out ", *_names(names), f": {why}.",))
    if out.huge:
        notes.append((f"{_count(out.huge, 'value')} beyond ±1e15 treated as missing (their squares "
                      "overflow float32).",))
    if out.categories:
        notes.append(("Text columns usable as a classification target only: ", *_names(out.categories), ".",))
    return tuple(notes)


def _check_usable(out: _Sorted) -> None:
    if not out.numeric:
        reasons: list[str] = []
        for why, names in out.left_out.items():
            reasons += ["; " if reasons else " (", *_names(names), f": {why}"]
        raise UploadError("No column holds usable numbers", *reasons, ")" if reasons else "", ". Upload a table whose columns "
                          "are numbers (a point as decimal mark), one row per sample.")
    if len(out.numeric) + len(out.categories) < 2:
        raise UploadError("Only one usable column (", *_names(out.numeric), ") is left; features and a "
                          "target need at least two. ", *_left_out_text(out), "Add a numeric column and upload it again.")


def _left_out_text(out: _Sorted) -> Message:
    parts: list[str] = []
    for why, names in out.left_out.items():
        parts += ["Left out ", *_names(names), f": {why}. "]
    return tuple(parts)


def read_table(data: bytes, name: str = "upload.csv") -> Table:
    """Check and read an uploaded CSV file (bytes). Raises UploadError, and nothing else."""
    _check_bytes(data)
    header, body, sep = _rows(_decode(data))
    if len(body) < MIN_ROWS:
        raise UploadError(f"The file has {len(body)} data rows; at least {MIN_ROWS} are needed. Add rows "
                          "and upload it again.")
    n_file = len(body)
    if n_file > MAX_ROWS:  # reproducible: the same file gives the same subsample
        keep = np.sort(np.random.default_rng(0).choice(n_file, MAX_ROWS, replace=False))
        body = body.iloc[keep].reset_index(drop=True)
    out = _Sorted({}, {}, {}, {})
    for j, col in enumerate(header):
        _sort_column(out, col, body[j], sep)
    _check_usable(out)
    order = [c for c in header if c in out.numeric or c in out.categories]
    return Table(name, tuple(order), {c: out.numeric[c] for c in order if c in out.numeric},
                 {c: out.categories[c] for c in order if c in out.categories},
                 _notes(out, len(body), n_file, sep), hashlib.sha256(data).hexdigest(), sep, len(body))


# ---------------------------------------------------------------- columns -> a data set

def default_target(table: Table) -> str:
    """The last usable column."""
    return table.columns[-1]


def default_features(table: Table, target: str) -> list[str]:
    """Every numeric column but the target, in the file's order."""
    return [c for c in table.numeric if c != target]


def default_task(table: Table, target: str) -> str:
    """Classification for a text target or whole numbers with 2 to 10 values; else regression."""
    if target in table.categories:
        return "classification"
    if target not in table.numeric:
        return "regression"
    y = table.numeric[target]
    y = y[np.isfinite(y)]
    whole = bool(np.all(y == np.round(y)))
    return "classification" if whole and 2 <= len(np.unique(y)) <= 10 else "regression"


def _target(table: Table, target: str, task: str, keep: np.ndarray) -> tuple[np.ndarray, Message | None]:
    if target in table.categories:
        if task == "regression":
            raise UploadError("The target ", FromFile(target), " is text (classes), so it cannot be a "
                              "regression target. Choose classification, or a numeric target.")
        codes, classes = table.categories[target]
        y = codes[keep]
        note = ("The target ", FromFile(target), f" is text: its {len(np.unique(y))} classes are "
                "numbered 0, 1, … in alphabetical order.")
    else:
        y, note = table.numeric[target][keep], None
    if task == "regression":
        return y.astype(np.float64), note
    classes, y_codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise UploadError("The target ", FromFile(target), " has one class only: there is nothing to "
                          "tell apart. Choose another target, or regression.")
    if len(classes) == len(y):
        raise UploadError("Every row of ", FromFile(target), " is a class of its own: nothing can be "
                          "learned about a class from the others. Choose regression or another target.")
    if len(classes) > MAX_CLASSES:
        raise UploadError("The target ", FromFile(target), f" has {len(classes)} distinct values; "
                          f"classification takes 2 to {MAX_CLASSES} classes. Choose regression.")
    return y_codes.astype(np.int64), note


def _check_choice(table: Table, features, target: str, task: str) -> None:
    if task not in ("regression", "classification"):
        raise UploadError(f"The task must be regression or classification, not {task!r}. Choose one of them.")
    if target is not None and target not in table.columns:
        raise UploadError("The target ", FromFile(target), " is not a usable column of the file. Choose one of its columns.")
    if not features:
        raise UploadError("Choose at least one feature column.")
    unknown = [f for f in features if f not in table.numeric or f == target]
    if unknown:
        raise UploadError("A feature must be a numeric column other than the target: ", *_names(unknown),
                          " is not. Choose other features.")


def select(table: Table, features, target: str | None, task: str | None = None
           ) -> tuple[Dataset, tuple[Message, ...]]:
    """The chosen columns as a Dataset (rows with a missing value in them dropped) and what was done.

    X: (n, d) float64, y: (n,) float64 (regression) or int64 classes 0..k-1; every value finite.
    With no target (features only, e.g. to standardize them) y is zeros.
    """
    if target is None:
        return _features_only(table, list(features))
    features = list(features)
    _check_choice(table, features, target, task or "regression")
    task = task or default_task(table, target)
    X, keep = _complete(table, features, target)
    y, note = _target(table, target, task, keep)
    if task == "regression" and np.ptp(y) == 0:
        raise UploadError("The target ", FromFile(target), " is constant in the rows used: there is "
                          "nothing to predict. Choose another target.")
    notes: list[Message] = []
    dropped = int(len(keep) - keep.sum())
    if dropped:
        notes.append((f"{_count(dropped, 'row')} dropped: a chosen column is missing, non-numeric or non-finite "
                      "there.",))
    if note:
        notes.append(note)
    return Dataset(X, y, tuple(features), task, table.key), tuple(notes)


def _cell_safe(name: str) -> str:
    """A column name a spreadsheet will not run as a formula (OWASP: prefix a quote)."""
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def _features_only(table: Table, features: list[str]) -> tuple[Dataset, tuple[Message, ...]]:
    _check_choice(table, features, None, "regression")
    X, keep = _complete(table, features, None)
    dropped = int(len(keep) - keep.sum())
    notes = ((f"{_count(dropped, 'row')} dropped: a chosen column is missing, non-numeric or non-finite "
              "there.",),) if dropped else ()
    return Dataset(X, np.zeros(len(X)), tuple(features), "regression", table.key), notes


def _complete(table: Table, features: list[str], target: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(the features' complete rows (n, d), which rows of the file they are); refuses too few rows
    and a feature that is constant in them."""
    cols = [table.numeric[f] for f in features]
    if target is not None:
        cols.append(table.numeric[target] if target in table.numeric else table.categories[target][0])
    keep = np.isfinite(np.column_stack(cols)).all(axis=1)
    if keep.sum() < MIN_ROWS:
        raise UploadError(f"Only {int(keep.sum())} rows have a value in every chosen column; at least "
                          f"{MIN_ROWS} are needed. Choose other columns, or fill in the missing values.")
    X = np.column_stack(cols[: len(features)])[keep]
    flat = [f for j, f in enumerate(features) if np.ptp(X[:, j]) == 0]
    if flat:
        raise UploadError("In the rows used, ", *_names(flat), " is constant: standardizing would divide by "
                          "zero. Choose other features.")
    return X, keep


def to_csv(X: np.ndarray, y: np.ndarray, names, target: str = "y") -> bytes:
    """Features and target as a UTF-8 CSV file (numbers only, full precision): the sample file, or the
    uploaded data to send beside a link."""
    cols = [_cell_safe(n) for n in (*names, target)]
    frame = pd.DataFrame(np.column_stack([np.asarray(X), np.asarray(y)]), columns=cols)
    return frame.to_csv(index=False, float_format="%.17g", lineterminator="\n").encode("utf-8")
