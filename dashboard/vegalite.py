"""Vega-Lite pieces for the chart builders: encodings as plain dicts inside ``alt.Chart``.

Builders write marks and encodings as plain Vega-Lite dicts inside ``alt.Chart``: the same spec
Altair's channel classes give, at a fraction of the cost. (Altair deep-copies every schema object a
chart holds, several times while layering and converting it, and a rerun that changes a chart waits
for that.) Altair's own schema still validates every builder's output in the unit tests.
"""

from __future__ import annotations

import functools
import json
import textwrap

import altair as alt


def quant(field: str, **props) -> dict:
    """A quantitative field encoding."""
    return {"field": field, "type": "quantitative", **props}


def nominal(field: str, **props) -> dict:
    return {"field": field, "type": "nominal", **props}


def ordinal(field: str, **props) -> dict:
    return {"field": field, "type": "ordinal", **props}


def view(data=alt.Undefined, *, mark: str | dict, transform: list | None = None, **encoding) -> alt.Chart:
    """One single-view chart: ``mark`` ("line" or {"type": "line", ...}) and channel -> encoding dict."""
    return alt.Chart(data, mark=mark, encoding=alt.FacetedEncoding(**encoding),
                     transform=transform if transform else alt.Undefined)


def layer(*charts: alt.Chart, variables: dict | None = None, **props) -> alt.LayerChart:
    """``alt.layer``, with the first layer's data given once at the top for every layer that shares it,
    and each layer's selection params lifted to the top by hand (``views``: the layer they live on);
    ``variables``: top-level variable params (name -> value), after them, as ``with_cursor`` adds one.

    (Left to Altair, hoisting the data hashes the DataFrame's printed text, and lifting a param
    validates it against the schema: milliseconds per chart each. The spec is the one Altair gives,
    ``tests/dashboard/test_chartcache.py``.)
    """
    shared = charts[0].data if charts else alt.Undefined
    hoist = shared is not alt.Undefined and "data" not in props and sum(c.data is shared for c in charts) > 1
    lifted, bare = [], []
    for c in charts:
        has_params = c.params is not alt.Undefined and len(c.params) > 0
        if has_params or (hoist and c.data is shared):  # a layer with data of its own (a hover table) keeps it
            c = c.copy(deep=False)
        if has_params:
            lifted += [_top_level(json.dumps(p.to_dict(validate=False), sort_keys=True), c.name) for p in c.params]
            c.params = alt.Undefined
        if hoist and c.data is shared:
            c.data = alt.Undefined
        bare.append(c)
    out = alt.layer(*bare, data=shared, **props) if hoist else alt.layer(*bare, **props)
    variables = [_variable(name, value) for name, value in (variables or {}).items()]
    if lifted or variables:
        out.params = [*lifted, *variables]
    return out


@functools.lru_cache(maxsize=64)
def _top_level(param_json: str, view: str) -> alt.TopLevelSelectionParameter:
    """A layer's selection param (its JSON) as a top-level one on ``view``: built once (Altair validates
    a schema object when it is made), read-only after (Altair copies a param before it changes one)."""
    return alt.TopLevelSelectionParameter(**json.loads(param_json), views=[view])


def cursor_filter(cursor: str | None, field: str = "step") -> list[dict]:
    """Transforms keeping the rows up to the cursor (a top-level param), or none without one."""
    return [{"filter": f"datum.{field} <= {cursor}"}] if cursor else []


def level_filter(level: str | None, *, smoothed: bool = False) -> list[dict]:
    """Transforms keeping the rows whose column ``level`` equals the top-level param ``level`` (the
    curves of one smoothing weight, ``frames.smoothing_levels``), and with ``smoothed`` only while
    that weight is above 0 (the raw curve behind a smoothed one); none without a level."""
    if not level:
        return []
    return [{"filter": f"datum.{level} == {level}" + (f" && {level} > 0" if smoothed else "")}]


def with_cursor(chart: alt.TopLevelMixin, cursor: str | None, value) -> alt.TopLevelMixin:
    """The chart with a top-level param ``cursor`` (its value set per draw by ``with_params``).

    Appended to the top-level params as Altair's ``add_params`` leaves it, without its two deep copies
    of the whole chart (a layered chart's: it re-layers the copy to lift the param, milliseconds a
    chart; the spec is the same, ``tests/dashboard/test_chartcache.py``)."""
    if not cursor:
        return chart
    out = chart.copy(deep=False)
    out.params = [*([] if chart.params is alt.Undefined else chart.params), _variable(cursor, value)]
    return out


@functools.lru_cache(maxsize=256)
def _variable(name: str, value) -> alt.VariableParameter:
    """A variable param, built once per name and value (Altair validates a schema object when it is
    made), read-only after (Altair copies a param before it changes one)."""
    return alt.param(name=name, value=value).param


def with_params(spec: dict, values: dict | None) -> dict:
    """A copy of a Vega-Lite spec with its top-level params' values replaced (the rest shared)."""
    if not values or not spec.get("params"):
        return spec
    params = [{**p, "value": values[p["name"]]} if p.get("name") in values else p for p in spec["params"]]
    return {**spec, "params": params}


def wrapped(title, chars: int):
    """A chart title as lines of at most ``chars`` characters (Vega cuts a long one with "…")."""
    if isinstance(title, dict):
        return {**title, "text": wrapped(title.get("text", ""), chars)}
    if isinstance(title, str) and len(title) > chars:
        return textwrap.wrap(title, chars, break_long_words=False) or title
    return title


def dressed(spec: dict, config: dict, *, title_chars: int) -> dict:
    """A shallow copy of a spec with the drawing ``config`` and its title wrapped to lines."""
    out = {**spec, "config": {**config, **spec.get("config", {})}}
    if "title" in spec:
        out["title"] = wrapped(spec["title"], title_chars)
    return out
