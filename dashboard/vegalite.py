"""Vega-Lite pieces for the chart builders: encodings as plain dicts inside ``alt.Chart``.

Builders write marks and encodings as plain Vega-Lite dicts inside ``alt.Chart``: the same spec
Altair's channel classes give, at a fraction of the cost. (Altair deep-copies every schema object a
chart holds, several times while layering and converting it, and a rerun that changes a chart waits
for that.) Altair's own schema still validates every builder's output in the unit tests.
"""

from __future__ import annotations

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
