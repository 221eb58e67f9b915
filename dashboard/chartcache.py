"""Reuse built charts across reruns: a chart is a pure function of its inputs.

Building an Altair chart and converting it to the Vega-Lite spec Streamlit
sends costs 10-60 ms a chart, and a page has up to ten. Most reruns (a
chosen layer, a step of the player) change one chart's data and leave the
others as they were, so:

* ``@memo`` memoizes a chart builder (or a page's data preparation) on the
  *content* of its arguments (DataFrames by a hash of their values, index,
  columns and dtypes; a training run by its config, which determines it): the
  same call returns the same object, across reruns and sessions;
* ``vega_lite_spec(chart)`` converts a chart once (data as Arrow bytes, the
  way ``st.altair_chart`` does it) and keeps the result on the chart object,
  so a reused chart costs nothing to convert again (Arrow bytes written with pyarrow).

The cache is bounded (entries and bytes, least recently used first out) and
thread-safe; it holds only immutable results of pure functions, like
``st.cache_data``, so sessions never see each other's state.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from core.training import History

MAX_ENTRIES = 512
MAX_BYTES = 96 * 2**20  # the data the cached charts hold (their frames and Arrow bytes)

F = TypeVar("F", bound=Callable[..., Any])


class _Unkeyable(Exception):
    """An argument with no content key: the call is built, not cached."""


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p)
    return h.hexdigest()


def _column_bytes(col: pd.Series) -> bytes:
    """A column's values as bytes: raw for numbers, codes and categories for categoricals."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().tobytes() + repr(tuple(col.cat.categories)).encode()
    values = col.to_numpy()
    if values.dtype.kind in "biufcmM":
        return np.ascontiguousarray(values).tobytes()
    texts = values.tolist()
    if all(type(v) is str for v in texts):  # run names, a hover table's values: their repr is their
        return repr(texts).encode()  # content, unambiguous, and 10-20x cheaper than hashing them
    return pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes()


def _index_bytes(index: pd.Index) -> bytes:
    if isinstance(index, pd.RangeIndex):
        return repr((index.start, index.stop, index.step)).encode()
    return _column_bytes(index.to_series(index=pd.RangeIndex(len(index))))


# Frames a memoized function returned, by id: (weak reference, the key of the call that made them).
# They are shared and never modified, so that key stands for their content: a rerun passing them on
# to a chart builder does not hash them again.
_DERIVED: dict[int, tuple[weakref.ref, Any]] = {}
_DERIVED_LOCK = threading.Lock()


def _remember(out: Any, key: Any) -> None:
    if isinstance(out, pd.DataFrame):
        i = id(out)
        with _DERIVED_LOCK:
            if i in _DERIVED and _DERIVED[i][0]() is out:
                return  # a frame already known (a function that returned its input): its key stays

        def forget(ref, i=i):
            with _DERIVED_LOCK:
                if _DERIVED.get(i, (None,))[0] is ref:
                    del _DERIVED[i]

        with _DERIVED_LOCK:
            _DERIVED[i] = (weakref.ref(out, forget), key)
    elif isinstance(out, (list, tuple)):
        for j, v in enumerate(out):
            _remember(v, (key, j))
    elif isinstance(out, dict):
        for k, v in out.items():
            _remember(v, (key, k))


def content_key(x: Any) -> Any:
    """A hashable key equal for equal contents (frames, arrays, containers, scalars, runs)."""
    if isinstance(x, History):  # train() is deterministic: the config is the run (and whether it has its boundary)
        return ("history", x.config, x.with_boundary)
    if isinstance(x, pd.DataFrame):
        known = _DERIVED.get(id(x))
        if known is not None and known[0]() is x:
            return ("derived", known[1])
        return ("frame", tuple(map(str, x.columns)), tuple(map(str, x.dtypes)), x.shape,
                _digest(*(_column_bytes(x[c]) for c in x.columns), _index_bytes(x.index)))
    if isinstance(x, pd.Series):
        return ("series", str(x.name), str(x.dtype), len(x), _digest(_column_bytes(x), _index_bytes(x.index)))
    if isinstance(x, np.ndarray):
        return ("array", x.shape, str(x.dtype), _digest(np.ascontiguousarray(x).tobytes()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(content_key(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((content_key(k), content_key(v)) for k, v in x.items()))
    if x is None or isinstance(x, (str, bool, int, float, np.generic)):
        return (type(x).__name__, x)
    raise _Unkeyable(type(x).__name__)


def _nbytes(x: Any) -> int:
    """The memory a value holds, estimated from shapes and dtypes (``memory_usage`` costs ~1 ms a
    frame; a string counts 16 bytes)."""
    if isinstance(x, pd.DataFrame):
        return len(x) * (8 + sum(getattr(dt, "itemsize", 0) or 16 for dt in x.dtypes))
    if isinstance(x, pd.Series):
        return len(x) * (8 + (getattr(x.dtype, "itemsize", 0) or 16))
    if isinstance(x, np.ndarray):
        return x.nbytes
    if isinstance(x, (list, tuple)):
        return sum(_nbytes(v) for v in x)
    if isinstance(x, dict):
        return sum(_nbytes(v) for v in x.values())
    return 0


class _Cache:
    """A bounded, thread-safe LRU map of key -> (chart, bytes)."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key, value, size: int) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                self._bytes -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


CACHE = _Cache(MAX_ENTRIES, MAX_BYTES)


_BUILDING: dict[Any, list] = {}  # key -> [lock, callers holding or waiting for it]
_BUILDING_LOCK = threading.Lock()


@contextlib.contextmanager
def _building(key):
    """One builder per key at a time; the others wait for it, then find its result in the cache.
    (Pure functions have no cycles, so one call never waits for a key its own caller holds.)"""
    with _BUILDING_LOCK:
        entry = _BUILDING.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _BUILDING_LOCK:
            entry[1] -= 1
            if entry[1] == 0:
                del _BUILDING[key]


def memo(fn: F) -> F:
    """Memoize a pure function of frames, runs and plain values on their content.

    The result is shared: callers must not modify it in place (Altair's
    ``.properties()``, pandas' filters and ``assign`` return copies, which is fine).
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            key = (fn.__module__, fn.__qualname__, content_key(args), content_key(sorted(kwargs.items())))
        except _Unkeyable:
            return fn(*args, **kwargs)
        out = CACHE.get(key)
        if out is None:
            with _building(key):  # sessions asking at once (a class after one training) build it once
                out = CACHE.get(key)
                if out is None:
                    out = fn(*args, **kwargs)
                    # a chart keeps its input frames and its spec their Arrow bytes: inputs counted twice
                    CACHE.put(key, out, 2 * (_nbytes(args) + _nbytes(kwargs)) + _nbytes(out) + 4096)
                    _remember(out, key)
        return out

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


#: converted specs by the id of their chart object (a memoized builder returns the same object)
_SPECS: dict[int, dict] = {}
#: Arrow bytes of chart data by content: a frame shared by many charts (a loss surface's grid
#: under every position of the scrubber) is serialized once
ARROW = _Cache(4 * MAX_ENTRIES, 32 * 2**20)
_TRANSFORMER = "dashboard_arrow"
#: Altair's data transformers are process-wide settings: every conversion of ours that enables one
#: does it under this lock. (The dashboard draws every chart with ``st.vega_lite_chart``, never
#: ``st.altair_chart``, whose own conversion swaps them too.)
ALTAIR_SETTINGS = threading.Lock()


def arrow_bytes(data: Any) -> bytes:
    """A frame as Arrow IPC stream bytes: the form ``st.vega_lite_chart`` ships a chart's named
    datasets in (bytes it passes on as they are), written with pyarrow's own API.

    ``nthreads=1``: by default pyarrow starts a pool of threads for each frame of more than 100
    rows a column, which took 1.9 ms against 0.28 ms for a 1,500-row chart frame (and starting
    threads waits for the interpreter lock, which a class's burst holds).
    """
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    table = pa.Table.from_pandas(frame, nthreads=1)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _arrow_dataset(data: Any, datasets: dict[str, Any]) -> dict[str, str]:
    """Altair data transformer: the data as Arrow bytes under a content-derived name (cached)."""
    try:
        key = content_key(data)
    except _Unkeyable:
        key = None
    blob = ARROW.get(key) if key is not None else None
    if blob is None:
        blob = arrow_bytes(data)
        if key is not None:
            ARROW.put(key, blob, len(blob))
    name = "data-" + _digest(blob)[:20]
    datasets[name] = blob
    return {"name": name}


def _convert(chart: alt.TopLevelMixin) -> dict:
    """The spec ``st.altair_chart`` would send: data as named Arrow datasets, no Altair theme.

    The same steps as Streamlit's own conversion, under the lock for Altair's process-wide
    settings, with an Arrow cache in front of the serialization.
    """
    datasets: dict[str, Any] = {}
    alt.data_transformers.register(_TRANSFORMER, _arrow_dataset)
    with ALTAIR_SETTINGS:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else contextlib.nullcontext()
        with theme, alt.data_transformers.enable(_TRANSFORMER, datasets=datasets):
            spec = type(chart).to_dict(chart, validate=False)
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


class _NotPlain(Exception):
    """The chart holds an Altair object the direct conversion does not know."""


_CHARTS = (alt.Chart, alt.LayerChart, alt.FacetChart)


def _plain(value: Any) -> Any:
    """A Vega-Lite value from plain Python (dicts, lists, numbers, strings), Undefined dropped."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not alt.Undefined}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (alt.VariableParameter, alt.SelectionParameter, alt.TopLevelSelectionParameter)):
        return value.to_dict(validate=False)
    if isinstance(value, alt.SchemaBase):  # a channel or mark object may need the chart's context
        raise _NotPlain(type(value).__name__)
    return value


@functools.cache
def _properties(cls: type) -> tuple[str, ...]:
    """The Vega-Lite properties an Altair class takes: the keyword parameters of its constructor and
    of the schema classes it derives from (``alt.Chart`` takes ``transform`` as one of its bases')."""
    names: dict[str, None] = {}
    for klass in cls.__mro__:
        if issubclass(klass, alt.SchemaBase) and "__init__" in vars(klass):
            names.update(dict.fromkeys(inspect.signature(klass.__init__).parameters))
    return tuple(n for n in names if n not in ("self", "args", "kwds"))


def _set(obj: alt.SchemaBase) -> dict[str, Any]:
    """An Altair object's properties that are set, by their public attribute names."""
    out = {}
    for key in _properties(type(obj)):
        value = getattr(obj, key, alt.Undefined)
        if value is not alt.Undefined:
            out[key] = value
    return out


def _view_dict(chart: alt.TopLevelMixin, datasets: dict[str, Any]) -> dict:
    """One chart, layer or facet spec as Vega-Lite, its data moved into ``datasets``."""
    if not isinstance(chart, _CHARTS):
        raise _NotPlain(type(chart).__name__)
    out: dict[str, Any] = {}
    for key, value in _set(chart).items():
        if key == "data":
            if not isinstance(value, pd.DataFrame):
                raise _NotPlain("data")
            out["data"] = _arrow_dataset(value, datasets)
        elif key == "mark":
            out["mark"] = {"type": value} if isinstance(value, str) else _plain(value)
        elif key == "encoding":
            if isinstance(value, alt.SchemaBase):
                value = _set(value)
            out["encoding"] = _plain(value)
        elif key == "layer":
            out["layer"] = [_view_dict(c, datasets) for c in value]
        elif key == "spec":
            out["spec"] = _view_dict(value, datasets)
        else:
            out[key] = _plain(value)
    return out


def _direct(chart: alt.TopLevelMixin) -> dict:
    """The spec of a chart built from plain Vega-Lite dicts (``dashboard.vegalite``), without
    Altair's conversion, which deep-copies every schema object it meets: the same dict as
    ``_convert`` (tested builder by builder), a fraction of the time. Raises ``_NotPlain`` for
    anything else."""
    datasets: dict[str, Any] = {}
    spec = _view_dict(chart, datasets)
    spec["$schema"] = alt.SCHEMA_URL
    if datasets:
        spec["datasets"] = datasets
    return spec


def vega_lite_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec for ``st.vega_lite_chart``, converted once per chart object.

    Skips Altair's JSON-schema validation: the builders' specs are validated by their unit tests.
    """
    spec = _SPECS.get(id(chart))
    if spec is None:
        try:
            spec = _direct(chart)
        except _NotPlain:
            spec = _convert(chart)
        with _DERIVED_LOCK:
            _SPECS[id(chart)] = spec
        weakref.finalize(chart, _SPECS.pop, id(chart), None)  # forgotten with the chart
    return spec
