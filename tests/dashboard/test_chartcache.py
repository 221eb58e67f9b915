"""dashboard/chartcache.py: the direct Vega-Lite conversion gives exactly Altair's spec.

``vega_lite_spec`` converts the builders' charts (plain Vega-Lite dicts inside
``alt.Chart``) itself instead of through Altair's ``to_dict``; every chart a
page draws must come out the same as Streamlit's own route (Altair with the
Arrow data transformer) would give it, data bytes included.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dashboard import chartcache, charts
from dashboard.chartcache import _convert, _direct, vega_lite_spec
from tests.dashboard.test_charts import EXAMPLES
from tests.dashboard.test_netcharts import _draw, _page_calls


def _direct_as_drawn(chart) -> dict:
    return _direct(chart)  # (Streamlit patches null legend titles when it draws either)


def _convert_as_drawn(chart) -> dict:
    return _convert(chart)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_direct_conversion_equals_altairs_for_every_standardization_and_landscape_chart(name):
    args, kwargs = EXAMPLES[name]()
    chart = getattr(charts, name).uncached(*args, **kwargs)
    assert _direct_as_drawn(chart) == _convert_as_drawn(chart)


def test_direct_conversion_equals_altairs_for_the_scrubbed_surface():
    args, kwargs = EXAMPLES["surface"]()
    kwargs = {**{k: v for k, v in kwargs.items() if k != "current"}, "cursor": "at_step"}
    chart = charts.surface.uncached(*args, **kwargs)
    spec = _direct_as_drawn(chart)
    assert spec == _convert_as_drawn(chart)
    assert spec["params"] == [{"name": "at_step", "value": int(args[1]["step"].max())}]


@pytest.mark.parametrize("case", ["default", "diverged"])
def test_direct_conversion_equals_altairs_for_every_chart_the_network_pages_draw(case):
    calls = _page_calls(case)
    assert len(calls) > 10
    for call in calls:
        chart = _draw(call)
        assert _direct_as_drawn(chart) == _convert_as_drawn(chart), call[0]


def test_a_chart_holding_other_altair_objects_goes_through_altairs_conversion():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    chart = alt.Chart(df).mark_point().encode(x="x:Q")  # channel objects, not plain dicts
    with pytest.raises(chartcache._NotPlain):
        _direct(chart)
    spec = vega_lite_spec(chart)
    assert spec["encoding"]["x"] == {"field": "x", "type": "quantitative"}
    assert spec["data"]["name"] in spec["datasets"]


def test_chart_data_is_written_as_the_arrow_stream_streamlit_ships():
    """``arrow_bytes`` (pyarrow's public API) writes what Streamlit's own serializer writes for a
    chart's frames, and reads back as the same frame."""
    from streamlit import dataframe_util  # the reference, in the test only

    from dashboard.chartcache import arrow_bytes

    frames = [
        pd.DataFrame({"run": pd.Categorical(["none", "batch"] * 3), "step": np.arange(6),
                      "loss": np.linspace(1, 0.1, 6), "split": ["train", "val"] * 3}),
        pd.DataFrame({"x": np.arange(4, dtype=np.float32)}, index=pd.Index([3, 5, 7, 9])),
        pd.DataFrame({"label": ["—", "0.5"], "v": [True, False]}),
    ]
    for df in frames:
        blob = arrow_bytes(df)
        assert blob == dataframe_util.convert_anything_to_arrow_bytes(df)
        back = pa.ipc.open_stream(blob).read_all().to_pandas()
        pd.testing.assert_frame_equal(back, df, check_categorical=False, check_index_type=False)


def test_chart_data_is_written_without_starting_threads(monkeypatch):
    """A chart frame of thousands of rows is converted on the calling thread: pyarrow's default
    starts a pool of threads per frame (about 7x slower for a 1,500-row frame, and each thread's
    start waits for the interpreter lock that a class's burst holds). The bytes are the same."""
    import concurrent.futures

    from streamlit import dataframe_util

    from dashboard.chartcache import arrow_bytes

    pools = []
    real = concurrent.futures.ThreadPoolExecutor

    def counting(*args, **kwargs):
        pools.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", counting)
    n = 3000
    df = pd.DataFrame({"run": pd.Categorical(np.repeat(["none", "batch", "layer"], n // 3)), "step": np.arange(n),
                       "loss": np.linspace(1, 0.1, n), "split": ["train", "val"] * (n // 2)})
    blob = arrow_bytes(df)
    assert pools == []
    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", real)
    assert blob == dataframe_util.convert_anything_to_arrow_bytes(df)


def test_a_memoized_function_that_returns_its_input_leaves_the_inputs_key_alone():
    """A frame returned as it is (smoothing at weight 0) must keep the key it came with: re-keyed, every
    later call on it (smoothing at another weight, the chart built from it) missed the cache."""
    calls = {"derive": 0, "maybe": 0, "build": 0}

    @chartcache.memo
    def derive(n: int) -> pd.DataFrame:
        calls["derive"] += 1
        return pd.DataFrame({"step": np.arange(n), "v": np.linspace(1, 2, n)})

    @chartcache.memo
    def maybe(df: pd.DataFrame, w: float) -> pd.DataFrame:
        calls["maybe"] += 1
        return df if w == 0 else df.assign(v=df["v"] * w)

    @chartcache.memo
    def build(df: pd.DataFrame) -> tuple:
        calls["build"] += 1
        return (len(df),)

    df = derive(7)
    before = chartcache.content_key(df)
    for w in (0.5, 0.0, 0.5, 0.0, 0.5):
        build(maybe(df, w))
    assert chartcache.content_key(df) == before
    assert calls == {"derive": 1, "maybe": 2, "build": 2}, calls


@pytest.mark.parametrize("cursor", [None, "train_step"])
def test_vegalite_layer_lifts_a_hover_param_exactly_as_altair_does(cursor):
    """``vegalite.layer`` lifts each layer's selection param to the top itself (Altair validates it when
    it lifts it): the spec is Altair's own ``alt.layer``'s, and the param lives on the hover rule."""
    from dashboard import marks, vegalite

    df = pd.DataFrame({"run": np.repeat(["none", "batch"], 5), "step": np.tile(np.arange(5) * 10, 2),
                       "loss": np.linspace(0.1, 1.0, 10)})
    x, y = vegalite.quant("step"), vegalite.quant("loss")
    line = vegalite.view(df, mark="line", x=x, y=y, color=vegalite.nominal("run"))
    layers = [line, *marks.hover_layers(df, "loss", x, y, ("none", "batch"), cursor)]
    bare = [c.copy(deep=False) for c in layers]  # Altair's own layering of the same layers, the shared
    for c in bare:  # data given once at the top as vegalite.layer gives it
        if c.data is df:
            c.data = alt.Undefined
    ours, altairs = vegalite.layer(*layers, title="t"), alt.layer(*bare, data=df, title="t")
    assert _convert_as_drawn(ours) == _convert_as_drawn(altairs)
    spec = _direct_as_drawn(ours)
    assert spec == _convert_as_drawn(ours)
    assert [p["name"] for p in spec["params"]] == ["hover"] and spec["params"][0]["views"] == ["hover_rule"]
    assert all("params" not in layer for layer in spec["layer"])
    assert any(c.params is not alt.Undefined for c in layers)  # the layers given are left as they were


@pytest.mark.parametrize("layered", [False, True])
def test_with_cursor_adds_the_param_exactly_as_altairs_add_params(layered):
    """``vegalite.with_cursor`` appends the cursor param itself (Altair's ``add_params`` deep-copies and
    re-layers the chart): the spec is Altair's, with a hover selection already lifted or not, and the
    chart given is left as it was."""
    from dashboard import marks, vegalite

    df = pd.DataFrame({"run": np.repeat(["none", "batch"], 5), "step": np.tile(np.arange(5) * 10, 2),
                       "loss": np.linspace(0.1, 1.0, 10)})
    x, y = vegalite.quant("step"), vegalite.quant("loss")
    line = vegalite.view(df, mark="line", x=x, y=y, color=vegalite.nominal("run"),
                         transform=vegalite.cursor_filter("train_step"))
    chart = vegalite.layer(line, *marks.hover_layers(df, "loss", x, y, ("none", "batch"), None)) if layered else line
    before = _convert_as_drawn(chart)
    ours, altairs = vegalite.with_cursor(chart, "train_step", 40), chart.add_params(alt.param(name="train_step", value=40))
    assert _convert_as_drawn(ours) == _convert_as_drawn(altairs)
    assert _direct_as_drawn(ours) == _convert_as_drawn(altairs)
    assert [p["name"] for p in _direct_as_drawn(ours)["params"]][-1] == "train_step"
    assert _convert_as_drawn(chart) == before and vegalite.with_cursor(chart, None, 1) is chart


def test_content_keys_of_text_columns_are_equal_for_equal_text_and_differ_otherwise():
    """Text columns are keyed by their values' repr (dashboard.chartcache._column_bytes): equal text
    gives equal keys whatever the frame object; text that a plain join would confuse does not."""
    def key(values, dtype=None):
        return chartcache.content_key(pd.DataFrame({"v": pd.Series(values, dtype=dtype)}))

    assert key(["batch norm", "0.25"]) == key(["batch norm", "0.25"])
    assert key(["a\x1fb", "c"]) != key(["a", "b\x1fc"]) and key(["ab", ""]) != key(["a", "b"])
    assert key(["a", "b"]) != key(["a", "c"]) and key(["a", "b"], "object") != key(["a", "b"], "category")
    assert key(["a", None]) != key(["a", "None"])  # not all text: hashed by pandas, None is not "None"
