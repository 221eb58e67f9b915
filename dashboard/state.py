"""Page state: config dataclasses <-> session state <-> the page URL.

The config dataclasses in ``core`` declare their fields with a Spec (kind,
range, choices); this module drives everything from that one table.

* Each view belongs to a settings *family* (``dashboard.registry.FAMILIES``):
  the network views share one configuration; Standardization and Loss
  landscape each keep their own. A family's settings live in one dict in
  session state, so moving between views never changes what a view shows,
  whatever was opened before.
* Widgets carry ``key=<field name>`` and no value of its own. On entering a
  view its family's settings are put under those keys before the widgets are
  drawn; on a rerun of the same view the widgets' values are read back.
* The link a session was opened with is read once, by the family of the
  view it points at (or of the lesson it names): bad values fall back to the
  nearest valid setting and one short notice, shown as text, says what was
  ignored.
* After the widgets, the view's own settings (and nothing else) are written
  back to the URL, so the address bar always reproduces the view.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.params import Notice, Spec, from_query, specs, to_query
from dashboard.registry import FAMILIES, family_of
from dashboard.safe import literal, plain

LINK = "_link"  # the query string the session was opened with, until a view reads it
STORE = "_settings::"  # + family: field -> value
NOTICES = "_notices::"  # + family: the link's problems, shown while on the family's views
ON_VIEW = "_on_view"  # the view of the previous run: another one means "entering"
PENDING = "_notices_pending"  # notices about the link found before its view ran (its lesson)
WRITTEN = "_url_written"  # the query the app last wrote: an address that differs is a link
#: link parameters that are not config fields: a lesson to open, presenter mode, the controls and
#: sections a teacher hid (``hide=lr,depth``), the lessons' questions switched off (``predict=0``)
APP_KEYS = ("lesson", "presenter", "hide", "predict")
HIDE = "_hide"  # the names of the controls and sections hidden on every view (a frozenset)
PREDICT_OFF = "_predict_off"  # True when a link said predict=0: lessons open without their question
DRAWN = "_drawn"  # this run's controls: field name -> label (the share panel lists them)
PAGE_STATE = "_page_state"  # this run's PageState (a view stopped before its charts still writes its address)
MAX_LISTED = 6  # problems listed in a notice; the rest are counted


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


# ---------------------------------------------------------------- the link

def _current_query() -> dict[str, list[str]]:
    return {str(k): [str(v) for v in st.query_params.get_all(k)] for k in st.query_params.keys()}


def _link_part(query: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in query.items() if k != "presenter"}


def capture_link() -> None:
    """An address holding settings the app did not write is a link (the session's first, a lesson's):
    keep it until a view reads it."""
    ss = st.session_state
    query = _link_part(_current_query())
    if not query or query == _link_part(ss.get(WRITTEN) or {}):
        return
    if LINK in ss and ss[LINK]["query"] == query:
        return
    ss[LINK] = {"query": query, "read": False}


def _wrote(params: dict[str, str]) -> None:
    st.session_state[WRITTEN] = {k: [v] for k, v in params.items()}


def trim_params() -> dict[str, str]:
    """``hide=`` and ``predict=0`` while the session has them: every view's address keeps them."""
    ss = st.session_state
    params = {"hide": ",".join(sorted(ss[HIDE]))} if ss.get(HIDE) else {}
    return params | ({"predict": "0"} if ss.get(PREDICT_OFF) else {})


def is_hidden(name: str) -> bool:
    """Whether a link hid the control or section ``name`` (``hide=name``)."""
    return name in st.session_state.get(HIDE, ())


def write_no_settings() -> None:
    """A view without settings (home): its address holds none (but the trimming of a lesson link)."""
    params = trim_params() | ({"presenter": "1"} if st.session_state.get("presenter") else {})
    _wrote(params)
    if dict(st.query_params.to_dict()) != params:
        st.query_params.from_dict(params)


def link_query() -> dict[str, list[str]]:
    """The link being opened (empty when there is none)."""
    return dict(st.session_state.get(LINK, {}).get("query", {}))


def _settings_part(query: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in query.items() if k not in APP_KEYS}


def _take_link() -> dict[str, list[str]] | None:
    """The link's settings, once, for the first view that runs while the address still holds them.

    A link to home that a click on a view then leaves (the address loses its query) reaches no view,
    as a fresh link to that view would not; a lesson link opens its view with the address kept.
    """
    link = st.session_state.get(LINK)
    if link is None or link["read"] or _link_part(_current_query()) != link["query"]:
        return None
    link["read"] = True
    return _settings_part(link["query"])


def family_defaults(family: str) -> dict[str, Any]:
    """Every setting of a family at its default."""
    return {f: getattr(cls(), f) for cls in FAMILIES.get(family, ()) for f in specs(cls)}


def set_family(family: str, values: dict[str, Any]) -> None:
    """Replace a family's settings (defaults, then ``values``); its views show them when next drawn."""
    ss = st.session_state
    ss[STORE + family] = {**family_defaults(family), **values}
    ss[ON_VIEW] = None  # the next run enters its view afresh, whichever it is


def family_settings(family: str) -> dict[str, Any]:
    """A family's current settings (its defaults where nothing was set yet)."""
    return {**family_defaults(family), **st.session_state.get(STORE + family, {})}


# ---------------------------------------------------------------- notices

def notice_markdown(notices: Sequence[Notice]) -> str:
    """One short notice: the problems first, each link text shown literally, the rest counted."""
    unknown = [n.subject for n in notices if n.problem == UNKNOWN]
    problems = [n for n in notices if n.problem != UNKNOWN]
    parts = [f"{literal(n.subject)} {plain(n.problem)}" if n.subject else plain(n.problem)
             for n in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        parts.append(f"{len(problems) - MAX_LISTED} more problem(s)")
    if unknown:
        names = ", ".join(literal(u, 24) for u in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        parts.append(f"{len(unknown)} unknown setting(s) ignored: {names}{more}")
    return "**The link was adjusted:** " + " · ".join(parts) + "."


UNKNOWN = "is not a setting of this view; ignored"


def pend_notice(subject: str, problem: str) -> None:
    """A notice for the view the link opens (it may be another page, after a switch)."""
    st.session_state.setdefault(PENDING, []).append(Notice(subject, problem))


def take_pending() -> list[Notice]:
    return st.session_state.pop(PENDING, [])


def show_link_notices(notices: Sequence[Notice], container=st) -> None:
    if notices:
        container.warning(notice_markdown(notices), icon=":material/link_off:")


class PageState:
    """Settings of one view: its family's settings in session state, its link read once.

    ``owner`` is the view's url path (the registry's ``url_path``).
    """

    def __init__(self, owner: str):
        from dashboard.drawing import reset_chart_keys

        reset_chart_keys(owner)
        ss = st.session_state
        ss[PAGE_STATE] = self
        capture_link()  # a page file run on its own (no app.py) reads its own link
        self.owner, self.family = owner, family_of(owner) or owner
        self._store = ss.setdefault(STORE + self.family, {})
        self._entering = ss.get(ON_VIEW) != owner
        ss[ON_VIEW] = owner
        self._query = _take_link()
        if self._query is not None or self._entering:
            ss[NOTICES + self.family] = []
        ss[NOTICES + self.family].extend(ss.pop(PENDING, []))
        self._classes: list[tuple[type, tuple[str, ...]]] = []
        self._options: dict[str, Sequence[Any]] = {}
        self._owned: set[str] = set()
        self._box = st.empty()  # the notice goes here, at the top, once every config has been read
        if self._query:
            self._note_repeated()

    # -- reading
    def _note_repeated(self) -> None:
        for key, values in self._query.items():
            if len(values) > 1:
                self.notice(key, f"appears {len(values)} times; the last one is used")

    def notice(self, subject: str, problem: str) -> None:
        st.session_state[NOTICES + self.family].append(Notice(subject, problem))

    def own(self, *keys: str) -> None:
        """Link keys this view reads itself (not config fields: the pinned runs' ``pin``)."""
        self._owned.update(keys)

    def opened_with_link(self) -> bool:
        """Whether this run of the view read the link it was opened with."""
        return self._query is not None

    def from_link(self, field: str) -> bool:
        """Whether the link this view was opened with set ``field``."""
        return bool(self._query) and field in self._query

    def limit(self, field: str, high: int, why: str) -> None:
        """Cap a setting at ``high`` (e.g. a layer at the depth); a link that asked for more is told."""
        ss = st.session_state
        if ss[field] > high:
            if self.from_link(field):
                self.notice(f"{field}={self.link_value(field)}", f"{why}; showing {high}")
            ss[field] = high

    def link_value(self, field: str) -> str | None:
        values = (self._query or {}).get(field)
        return values[-1] if values else None

    def _stored(self, cls, fields: Sequence[str]) -> dict[str, Any]:
        """The family's values for ``fields`` (on a rerun of this view, the widgets' values)."""
        ss = st.session_state
        table = specs(cls)
        values = {f: self._store[f] for f in fields if f in self._store}
        if not self._entering:
            values.update({f: ss[f] for f in fields if f in ss})
        return {f: v for f, v in values.items() if table[f].admits(v)}

    def config(self, cls, *, fields: Sequence[str] | None = None,
               options: dict[str, Sequence[Any]] | None = None, base=None):
        """The current ``cls`` config, put in session state under its field names.

        fields: the fields this view sets (default: all declared ones); the
        others keep ``base``'s (or the class default) value. options: for
        fields shown as a list of choices (select sliders), the allowed
        values; a stored value is snapped to the nearest one.
        """
        ss = st.session_state
        fields = tuple(fields or specs(cls))
        options = options or {}
        self._options.update(options)
        base = base if base is not None else cls()
        try:
            config = dataclasses.replace(base, **self._stored(cls, fields))
            config.validate()
        except (TypeError, ValueError):  # a cross-field rule: start from the defaults
            config = base
        if self._query:
            mine = {k: v for k, v in self._query.items() if k in fields}
            config, notices = from_query(cls, mine, base=config)
            ss[NOTICES + self.family].extend(notices)
        values = {f: self._snap(f, getattr(config, f), options) for f in fields}
        for f, v in values.items():
            # assigned on every run, equal or not: a widget keyed f on another view (or none drawn
            # last run) would otherwise start from its own default (Streamlit's documented idiom)
            ss[f] = v
            self._store[f] = v
        self._classes.append((cls, fields))
        return dataclasses.replace(config, **values)

    def _snap(self, field: str, value: Any, options: dict[str, Sequence[Any]]) -> Any:
        if field not in options:
            return value
        snapped = _nearest_option(value, options[field])
        if snapped != value and self.from_link(field):
            notes = st.session_state[NOTICES + self.family]
            notes[:] = [n for n in notes if not n.subject.startswith(f"{field}=")]  # one notice a field
            self.notice(f"{field}={self.link_value(field)}", f"set to the nearest choice, {snapped:g}"
                        if isinstance(snapped, (int, float)) else f"set to the nearest choice, {snapped}")
        return snapped

    def note_unknown(self, known: Sequence[str] = ()) -> None:
        """Report link keys that no config of this view owns (kept for pages that call it early)."""

    def _note_unknown(self) -> None:
        if not self._query:
            return
        owned = {f for _, fields in self._classes for f in fields} | self._owned
        reported = {n.subject for n in st.session_state[NOTICES + self.family]}
        for key in self._query:
            if key not in owned and key not in reported:
                self.notice(key, UNKNOWN)

    def show_notices(self) -> None:
        """The one notice of what the link asked for that could not be used (drawn at the top)."""
        with self._box.container():
            show_link_notices(st.session_state.get(NOTICES + self.family) or [])

    # -- writing
    def write_url(self, extra: dict[str, Any] | None = None) -> str:
        """Write the view's own settings to the URL and show the link's notice; returns the query."""
        ss = st.session_state
        self._note_unknown()
        self.show_notices()
        params: dict[str, str] = {}
        for cls, fields in self._classes:
            table = specs(cls)
            for f in fields:
                if f in ss and table[f].admits(ss[f]):
                    self._store[f] = ss[f]
            try:
                cfg = cls(**{f: self._store[f] for f in fields if f in self._store})
            except (TypeError, ValueError):
                cfg = cls()
            q = to_query(cfg)
            params.update({f: q[f] for f in fields if f in q})  # an uploaded file: no link carries it
        from dashboard.teach import lesson_params  # the open lesson's key, while its settings hold

        params.update(lesson_params(self.owner))
        params.update(trim_params())
        for k, v in (extra or {}).items():
            params[k] = str(v)
        if ss.get("presenter"):
            params["presenter"] = "1"
        _wrote(params)
        if dict(st.query_params.to_dict()) != params:
            st.query_params.from_dict(params)
        return "&".join(f"{k}={v}" for k, v in params.items())


def keep_settings() -> None:
    """Re-assign the app-wide switches so Streamlit keeps them when no widget draws them (its
    documented idiom); view settings are kept in their family's store instead."""
    ss = st.session_state
    for key in ("presenter",):
        if key in ss and ss[key] is not None:
            ss[key] = ss[key]


def number(cls, name: str, label: str, *, help: str | None = None, container=st, **kw):
    """A whole-number box over the field's declared range (a seed)."""
    if not drawn(name, label):
        return st.session_state.get(name)
    spec = _spec(cls, name)
    return container.number_input(label, min_value=int(spec.low), max_value=int(spec.high), step=1, key=name,
                                  help=help or _help(cls, name), **kw)


def known_keys() -> set[str]:
    """Every field name of every family, and APP_KEYS."""
    return {f for classes in FAMILIES.values() for cls in classes for f in specs(cls)} | set(APP_KEYS)


# ---------------------------------------------------------------- widgets
# Each widget takes the field's name as its key and no value of its own: the
# value is the one PageState.config put in session state.

def _spec(cls, name: str) -> Spec:
    return specs(cls)[name]


def drawn(name: str, label: str) -> bool:
    """Note a control of this run (for the share panel); False when a link hid it (draw nothing:
    its value stays the one its settings hold)."""
    st.session_state.setdefault(DRAWN, {})[name] = label
    return not is_hidden(name)


def _help(cls, name: str) -> str | None:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help") or None
    return None


def slider(cls, name: str, label: str, *, step=None, format: str | None = None,
           help: str | None = None, container=st, **kw):
    """A slider over the field's declared range."""
    if not drawn(name, label):
        return st.session_state.get(name)
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
    if not drawn(name, label):
        return st.session_state.get(name)
    return container.select_slider(label, options=list(options), format_func=format_func, key=name,
                                   help=help or _help(cls, name), **kw)


def choice(cls, name: str, label: str, *, labels: dict[Any, str] | None = None,
           horizontal: bool = True, help: str | None = None, container=st, **kw):
    """Pick one of the field's declared choices."""
    if not drawn(name, label):
        return st.session_state.get(name)
    spec = _spec(cls, name)
    fmt = (lambda v: labels.get(v, str(v))) if labels else str
    if horizontal and len(spec.choices) <= 4:
        return container.segmented_control(label, options=list(spec.choices), format_func=fmt,
                                           key=name, required=True,
                                           help=help or _help(cls, name), **kw)
    return container.selectbox(label, options=list(spec.choices), format_func=fmt, key=name,
                               help=help or _help(cls, name), **kw)


def toggle(cls, name: str, label: str, *, help: str | None = None, container=st, **kw):
    if not drawn(name, label):
        return st.session_state.get(name)
    return container.toggle(label, key=name, help=help or _help(cls, name), **kw)
