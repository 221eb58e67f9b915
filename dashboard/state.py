"""Page state: config dataclasses <-> session state <-> the page URL.

The config dataclasses in ``core`` declare their fields with a Spec (kind,
range, choices); this module drives everything from that one table:

* on a page's first run in a session the URL's query parameters are read
  (``core.params.from_query``): bad values fall back to the nearest valid
  setting, and one short notice says what was ignored;
* every widget carries ``key=<field name>`` and no value of its own: its
  value lives in ``st.session_state`` under the field's name, so it survives
  page switches and the URL and tests can name it;
* after the widgets, the page's settings are written back to the URL, so
  the address bar always reproduces the view.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.params import Spec, from_query, specs, to_query

_READ = "_url_read::"
_NOTICES = "_url_notices::"
_PAGE_KEYS = "_url_keys::"


def _nearest_option(value: Any, options: Sequence[Any]) -> Any:
    """The option closest to value (on a log scale when all are positive)."""
    if value in options:
        return value
    try:
        if all(o > 0 for o in options) and value > 0:
            return min(options, key=lambda o: abs(math.log(o) - math.log(value)))
        return min(options, key=lambda o: abs(o - value))
    except TypeError:
        return options[0]


class PageState:
    """Settings of one page: read the URL once, keep them in session state.

    ``owner`` names the page (a URL is read once per page per session).
    """

    def __init__(self, owner: str):
        self.owner = owner
        from dashboard.views import reset_chart_keys

        reset_chart_keys(owner)
        self._classes: list[tuple[type, tuple[str, ...]]] = []
        self._options: dict[str, Sequence[Any]] = {}
        ss = st.session_state
        self._first_run = _READ + owner not in ss
        ss[_READ + owner] = True
        if self._first_run:
            ss[_NOTICES + owner] = []

    def config(self, cls, *, fields: Sequence[str] | None = None,
               options: dict[str, Sequence[Any]] | None = None, base=None):
        """The current ``cls`` config built from session state.

        fields: the fields this page sets (default: all declared ones); the
        others keep ``base``'s (or the class default) value. options: for
        fields shown as a list of choices (select sliders), the allowed
        values; a stored value is snapped to the nearest one.
        """
        ss = st.session_state
        table = specs(cls)
        fields = tuple(fields or table)
        options = options or {}
        self._options.update(options)
        base = base if base is not None else cls()
        current = {f: ss[f] for f in fields if f in ss}
        try:
            start = dataclasses.replace(base, **current)
        except (TypeError, ValueError):
            start = base
        if self._first_run:
            query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
            mine = {k: v for k, v in query.items() if k in fields}
            config, notices = from_query(cls, mine, base=start)
            ss[_NOTICES + self.owner].extend(notices)
        else:
            config = start
        values = {}
        for f in fields:
            v = getattr(config, f)
            if f in options:
                snapped = _nearest_option(v, options[f])
                if snapped != v and self._first_run and f in st.query_params:
                    notes = ss[_NOTICES + self.owner]
                    notes[:] = [n for n in notes if not n.startswith(f"'{f}=")]  # one notice a field
                    raw = st.query_params.get(f)
                    notes.append(f"'{f}={raw}' set to the nearest choice, {snapped}")
                v = snapped
            values[f] = v
            if ss.get(f) != v or f not in ss:
                ss[f] = v
        self._classes.append((cls, fields))
        return dataclasses.replace(config, **values)

    def note_unknown(self, known: Sequence[str] = ()) -> None:
        """After all configs: report URL keys that no config of the page owns."""
        if not self._first_run:
            return
        owned = {f for _, fields in self._classes for f in fields} | set(known) | known_keys()
        extra = [k for k in st.query_params.keys() if k not in owned]
        if extra:
            names = ", ".join(str(k) for k in extra[:5])
            st.session_state[_NOTICES + self.owner].append(f"unknown setting(s) ignored: {names}")

    def show_notices(self) -> None:
        """One short warning listing what the URL asked for that could not be used."""
        notices = st.session_state.get(_NOTICES + self.owner) or []
        if notices:
            text = "; ".join(_clean(n, 120) for n in notices[:6])
            more = f" (+{len(notices) - 6} more)" if len(notices) > 6 else ""
            st.warning(f"Some settings in the link were not usable and were adjusted: {text}{more}.",
                       icon=":material/link_off:")

    def write_url(self, extra: dict[str, Any] | None = None) -> str:
        """Write the page's settings to the URL; returns the query string."""
        ss = st.session_state
        params: dict[str, str] = {}
        for cls, fields in self._classes:
            cfg = cls(**{f: ss[f] for f in fields if f in ss})
            q = to_query(cfg)
            params.update({f: q[f] for f in fields})
        for k, v in (extra or {}).items():
            params[k] = str(v)
        if dict(st.query_params.to_dict()) != params:
            st.query_params.from_dict(params)
        return "&".join(f"{k}={v}" for k, v in params.items())


def keep_settings() -> None:
    """Re-assign every setting in session state so Streamlit keeps it when the
    page that draws its widget is not the one running (its documented idiom)."""
    ss = st.session_state
    for key in known_keys():
        if key in ss and ss[key] is not None:
            ss[key] = ss[key]


#: link parameters that are not config fields: a lesson to open, presenter mode
APP_KEYS = ("lesson", "presenter")


def known_keys() -> set[str]:
    """Every field name of every page's config (a link may carry another page's) and APP_KEYS."""
    from dashboard.registry import CONFIG_CLASSES

    return {name for cls in CONFIG_CLASSES for name in specs(cls)} | set(APP_KEYS)


def _clean(text: Any, n: int = 40) -> str:
    """Safe to show: printable, short, markdown escaped (Streamlit never renders raw HTML here)."""
    s = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    s = s if len(s) <= n else s[: n - 1] + "…"
    s = s.replace("<", "‹").replace(">", "›")  # shown as text, never as a tag
    for ch in "\\`*_{}[]()#+-!|$~":
        s = s.replace(ch, "\\" + ch)
    return s


# ---------------------------------------------------------------- widgets
# Each widget takes the field's name as its key and no value of its own: the
# value is the one PageState.config put in session state.

def _spec(cls, name: str) -> Spec:
    return specs(cls)[name]


def _help(cls, name: str) -> str | None:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help") or None
    return None


def slider(cls, name: str, label: str, *, step=None, format: str | None = None,
           help: str | None = None, container=st, **kw):
    """A slider over the field's declared range."""
    spec = _spec(cls, name)
    lo, hi = spec.low, spec.high
    if spec.kind == "int":
        lo, hi, step = int(lo), int(hi), int(step or 1)
    else:
        lo, hi, step = float(lo), float(hi), (float(step) if step is not None else None)
    return container.slider(label, min_value=lo, max_value=hi, step=step, format=format,
                            key=name, help=help or _help(cls, name), **kw)


def select_slider(cls, name: str, label: str, options: Sequence[Any], *,
                  format_func: Callable[[Any], str] = str, help: str | None = None,
                  container=st, **kw):
    """A slider over a list of values (e.g. log-spaced learning rates)."""
    return container.select_slider(label, options=list(options), format_func=format_func, key=name,
                                   help=help or _help(cls, name), **kw)


def choice(cls, name: str, label: str, *, labels: dict[Any, str] | None = None,
           horizontal: bool = True, help: str | None = None, container=st, **kw):
    """Pick one of the field's declared choices."""
    spec = _spec(cls, name)
    fmt = (lambda v: labels.get(v, str(v))) if labels else str
    if horizontal and len(spec.choices) <= 4:
        return container.segmented_control(label, options=list(spec.choices), format_func=fmt,
                                           key=name, required=True,
                                           help=help or _help(cls, name), **kw)
    return container.selectbox(label, options=list(spec.choices), format_func=fmt, key=name,
                               help=help or _help(cls, name), **kw)


def toggle(cls, name: str, label: str, *, help: str | None = None, container=st, **kw):
    return container.toggle(label, key=name, help=help or _help(cls, name), **kw)
