"""Downloads: a run's recorded history (CSV), its configuration (JSON), a chart (PNG/SVG).

Files are built only when a download button is clicked (deferred callables),
so reruns stay fast; nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import urllib.parse
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

import altair as alt
import pandas as pd

from dashboard import palette
from dashboard.chartcache import ALTAIR_SETTINGS
from dashboard.vegalite import with_params


def config_json(config) -> str:
    """The config's fields as pretty JSON (its class name included)."""
    return json.dumps({"config": type(config).__name__, **dataclasses.asdict(config)}, indent=2,
                      default=str)


def query_value(value: Any) -> str:
    """A setting as the URL writes it (booleans 1/0, floats in full)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def query_string(settings: Mapping[str, Any]) -> str:
    """The settings as a URL query string: opening ``?<it>`` rebuilds the view."""
    return urllib.parse.urlencode({k: query_value(v) for k, v in settings.items()})


def view_json(view: str, settings: Mapping[str, Any], configs: Mapping[str, Any] | None = None) -> str:
    """Everything that rebuilds a view, as pretty JSON: its URL path, every setting of the page under
    the URL's field names (``settings``, and the same as a ``query`` string), and for reading the
    full configurations behind it (``configs``: name -> config dataclass)."""
    out: dict[str, Any] = {"view": view, "settings": dict(settings), "query": query_string(settings)}
    if configs:
        out["configs"] = {name: {"config": type(c).__name__, **dataclasses.asdict(c)} for name, c in configs.items()}
    return json.dumps(out, indent=2, default=str)


def frames_zip(frames: dict[str, pd.DataFrame], config=None) -> bytes:
    """A ZIP holding one CSV per frame, plus config.json when a config is given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, df in frames.items():
            zf.writestr(f"{name}.csv", df.to_csv(index=False))
        if config is not None:
            zf.writestr("config.json", config_json(config))
    return buf.getvalue()


def seeds_zip(runs: Mapping[int, tuple[dict[str, pd.DataFrame], Any]]) -> bytes:
    """A ZIP holding one folder per seed (``seed-<seed>/``), each with one CSV per frame and its
    config.json: ``runs`` is seed -> (frames, config)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for seed, (frames, config) in runs.items():
            for name, df in frames.items():
                zf.writestr(f"seed-{seed}/{name}.csv", df.to_csv(index=False))
            zf.writestr(f"seed-{seed}/config.json", config_json(config))
    return buf.getvalue()


def slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()
    return s[:60] or "chart"


def _spec(chart: alt.TopLevelMixin, params: dict | None = None) -> dict:
    """The chart's Vega-Lite spec with its data inline (Altair's default transformer) and its
    top-level params set to ``params``."""
    with ALTAIR_SETTINGS, alt.data_transformers.enable("default"):
        spec = type(chart).to_dict(chart, validate=False)
    spec = with_params(spec, params)
    # the saved file has the page's chart style (dark axis text, the run palette's legend)
    return {**spec, "config": {**palette.chart_config(False), **spec.get("config", {})}}


def chart_png(chart: alt.TopLevelMixin, params: dict | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        import vl_convert as vlc

        return vlc.vegalite_to_png(_spec(chart, params), scale=2)

    return build


def chart_svg(chart: alt.TopLevelMixin, params: dict | None = None) -> Callable[[], str]:
    def build() -> str:
        import vl_convert as vlc

        return vlc.vegalite_to_svg(_spec(chart, params))

    return build
