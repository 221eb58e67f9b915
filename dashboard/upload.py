"""Your own data: one CSV uploader in a view's data section, its columns chosen, what was done said.

The file is read by ``core.tabular`` (bytes in, a checked table or one UploadError out). The table
lives in this session's state only: never on disk, never in another session, never in the URL; a
link cannot carry it, so the "Link to this view" panel offers the chosen data as a download. Text
from the file (names, cells, its file name) is shown only literally (``dashboard.safe``).

A view calls :func:`data_section` in its sidebar's data section with what it needs (the
landscape: two features and a target; the network views: features, a target and the task) and gets
back the chosen :class:`Chosen` data, or None for the built-in data; :func:`show_notice` then says
in the main area what was done to the file.

The network views train on the chosen data by name: it is registered with
``core.data.register_table`` (a content hash, so runs on it are keyed by what it is, and two
sessions with the same file share them), and the session keeps the object it registered, which
keeps the name loadable while the session holds the file (the registry only refers to it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from core.data import Dataset, register_table, registered_table, seed_regression
from core.tabular import (
    FromFile,
    Message,
    Table,
    UploadError,
    default_features,
    default_target,
    default_task,
    read_table,
    to_csv,
)
from core.tabular import select as select_columns
from dashboard.safe import literal, plain

FILE = "upload_file"  # the uploader's widget key (not a config field: a file is not a setting)
GENERATION = "_upload::generation"  # how many times the uploader was emptied by "Back to the built-in data"
TABLE = "_upload::table"  # the session's checked table
ERROR = "_upload::error"  # (file name, message parts) of the last file that could not be used
CHOICE = "_upload::choice::"  # + view: that view's chosen columns, kept across page switches
IN_USE = "_upload::in_use"  # url path -> the Chosen data that view drew this run
MEMO = "_upload::memo::"  # + name: a few results computed from the session's data (session only)
MEMO_SIZE = 4
ON_VIEW = "_upload::on_view"  # the view whose data section ran last (another one: its choice is restored)
ENTERING = "_upload::entering"  # this run entered the view: its columns come from its stored choice
SAMPLE_NAME = "article-data.csv"
NETWORK = "network"  # the network views share one choice of columns, as they share one configuration
TASKS = ("regression", "classification")


@dataclass(frozen=True, eq=False)
class Chosen:
    """The columns a view uses from the uploaded file, as a Dataset, and what was done to them."""

    dataset: Dataset
    file_name: str
    notes: tuple[Message, ...]
    target: str | None

    @property
    def key(self) -> str:
        """What the data is: the file's hash, the columns and the task (a memo key)."""
        return "|".join((self.dataset.name, *self.dataset.feature_names, str(self.target), self.dataset.task))


def message_markdown(parts: Sequence[str], limit: int = 40) -> str:
    """A core.tabular message as Markdown: our words escaped, the file's text as literal spans."""
    return "".join(literal(p, limit) if isinstance(p, FromFile) else plain(p) for p in parts)


# ---------------------------------------------------------------- the file

def file_key() -> str:
    """The uploader's widget key: a new one after "Back to the built-in data" empties the uploader."""
    n = st.session_state.get(GENERATION, 0)
    return FILE if not n else f"{FILE}-{n}"


def _on_upload() -> None:
    """The uploader changed: read the new file, or forget the removed one."""
    ss = st.session_state
    file = ss.get(file_key())
    ss.pop(ERROR, None)
    if file is None:
        ss.pop(TABLE, None)
        return
    try:
        ss[TABLE] = read_table(file.getvalue(), file.name)
        for key in [k for k in ss if str(k).startswith((CHOICE, MEMO))]:
            del ss[key]  # another file: choose its columns afresh
        ss[ON_VIEW] = None  # ... from the file's defaults, not from the last file's widgets
    except UploadError as err:  # the previous data (the file before, or the built-in) stays
        ss[ERROR] = (file.name, err.parts)


def _forget() -> None:
    ss = st.session_state
    for key in (TABLE, ERROR, *(k for k in ss if str(k).startswith(MEMO))):
        ss.pop(key, None)  # the file and what was computed from it (its registered columns too)
    ss[GENERATION] = ss.get(GENERATION, 0) + 1  # a fresh, empty uploader (its file cannot be unset)


def table() -> Table | None:
    """The session's uploaded table, if any."""
    return st.session_state.get(TABLE)


def sample_csv() -> bytes:
    """The article's data set (A, B, y) as a CSV file: a sample to download and try."""
    data = seed_regression()
    return to_csv(data.X, data.y, data.feature_names, "y")


def _uploader() -> None:
    st.file_uploader("Your own data (CSV)", type=["csv", "tsv", "txt"], key=file_key(), on_change=_on_upload,
                     help="A header row, then one row per sample; comma, semicolon or tab separated; UTF-8 "
                          "or Latin-1; up to 5 MB. It stays in this browser session: it is not saved.")
    failed = st.session_state.get(ERROR)
    if failed:
        name, parts = failed
        still = "your previous file" if table() is not None else "the built-in data"
        st.error(f"**{literal(name)} cannot be used.** " + message_markdown(parts)
                 + f" {plain('Still showing ' + still + '.')}", icon=":material/error:")
    st.download_button("Sample file: the article's data", sample_csv, file_name=SAMPLE_NAME,
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="upload_sample",
                       type="tertiary")


# ---------------------------------------------------------------- the columns

def _keep(store: dict, key: str, options: Sequence[str], default) -> None:
    """Put the column widget's value under its key before it is drawn: on entering a view, the view's
    stored choice (or ``default``); on a rerun of the same view, what the user just chose. A value the
    options no longer hold (another target, another file) falls back to ``default``."""
    ss = st.session_state
    value = store.get(key, default) if ss.get(ENTERING, True) or key not in ss else ss[key]
    if isinstance(value, list):
        value = [v for v in value if v in options] or default
    elif value not in options:
        value = default
    ss[key] = value


def _features_only(view: str, t: Table) -> tuple[list[str], str | None]:
    store = st.session_state.setdefault(CHOICE + view, {})
    options = list(t.numeric)
    default = options[:-1] if len(options) > 1 else options
    _keep(store, "upload_features", options, default)
    st.multiselect("Feature columns", options, key="upload_features",
                   help="The numeric columns to standardize (text columns are left out).")
    store["upload_features"] = list(st.session_state["upload_features"])
    return store["upload_features"], None


def _two_and_target(view: str, t: Table) -> tuple[list[str], str | None]:
    store = st.session_state.setdefault(CHOICE + view, {})
    numeric = list(t.numeric)
    if len(numeric) < 3:
        raise UploadError(f"The landscape needs two numeric features and a numeric target; the file has "
                          f"{len(numeric)} numeric column(s). Choose a file with at least three.")
    target = default_target(t) if default_target(t) in numeric else numeric[-1]
    _keep(store, "upload_target", numeric, target)
    st.selectbox("Target (y)", numeric, key="upload_target", help="The column the regression predicts.")
    target = store["upload_target"] = st.session_state["upload_target"]
    rest = [c for c in numeric if c != target]
    _keep(store, "upload_a", rest, rest[0])
    st.selectbox("First feature (plays A)", rest, key="upload_a")
    a = store["upload_a"] = st.session_state["upload_a"]
    others = [c for c in rest if c != a]
    _keep(store, "upload_b", others, others[0])
    st.selectbox("Second feature (plays B)", others, key="upload_b")
    b = store["upload_b"] = st.session_state["upload_b"]
    return [a, b], target


def _target_and_task(store: dict, t: Table) -> tuple[str, str]:
    columns = list(t.columns)
    before = store.get("upload_target")
    _keep(store, "upload_target", columns, default_target(t))
    st.selectbox("Target (y)", columns, key="upload_target",
                 help="The column the network predicts (numbers, or text classes).")
    target = store["upload_target"] = st.session_state["upload_target"]
    tasks = store.setdefault("tasks", {})  # the task chosen for each target, the file's guess until then
    guess = tasks.get(target, default_task(t, target))
    if target != before:  # another target: its own task, not the one chosen for the last
        st.session_state["upload_task"] = guess
    _keep(store, "upload_task", TASKS, guess)
    st.segmented_control("Task", TASKS, key="upload_task", required=True,
                         help="Classification when the target has a few whole-number or text values (2 to 10), "
                              "else regression; choose the other one to override.")
    task = tasks[target] = st.session_state["upload_task"]
    return target, task


def _network_columns(view: str, t: Table) -> tuple[list[str], str | None, str]:
    store = st.session_state.setdefault(CHOICE + view, {})
    target, task = _target_and_task(store, t)
    options = [c for c in t.numeric if c != target]
    _keep(store, "upload_features", options, default_features(t, target))
    st.multiselect("Feature columns", options, key="upload_features",
                   help="The numeric columns the network reads (the decision boundary is drawn for two).")
    store["upload_features"] = list(st.session_state["upload_features"])
    return store["upload_features"], target, task


def _task_note(ds: Dataset, target: str) -> Message:
    if ds.task == "regression":
        return ("Regression of ", FromFile(target), ".")
    boundary = "" if ds.n_features == 2 else " Decision boundaries are drawn for exactly two features."
    return ("Classification of ", FromFile(target), f" ({ds.n_classes} classes).{boundary}")


def _registered(t: Table, features: list[str], target: str, task: str) -> tuple[Dataset, tuple[Message, ...]]:
    """The chosen columns registered by content (``core.data.register_table``), under their name. The
    session's memo keeps the object it registered (the registry only refers to it), which keeps the
    name loadable for the runs while the session holds the file; a rerun hashes nothing."""
    def compute():
        dataset, notes = select_columns(t, features, target, task)
        return dataset, registered_table(register_table(dataset)), (*notes, _task_note(dataset, target))

    _, named, notes = memo(NETWORK, (t.digest, tuple(features), target, task), compute)
    return named, notes


def data_section(view: str, *, two_features: bool = False, network: bool = False) -> Chosen | None:
    """The uploader, the sample file and (with a file) its columns; draws where it is called (the
    sidebar's data section). Returns the chosen data, or None: the view shows its built-in data.

    ``network``: features, a target and the task, for the network views (their choice shared), the
    data registered by content (its ``dataset.name`` is what TrainConfig's ``dataset`` takes)."""
    ss = st.session_state
    ss.setdefault(IN_USE, {}).pop(view, None)
    ss[ENTERING], ss[ON_VIEW] = ss.get(ON_VIEW) != view, view
    _uploader()
    t = table()
    if t is None:
        return None
    st.caption(f"In use: {literal(t.name)} — {t.n_rows:,} rows, {len(t.columns)} usable columns.")
    try:
        if network:
            features, target, task = _network_columns(NETWORK, t)
        else:
            features, target = (_two_and_target if two_features else _features_only)(view, t)
            task = "regression"
        if not features:
            raise UploadError("Choose at least one feature column.")
        if network:
            dataset, notes = _registered(t, features, target, task)
        else:
            dataset, notes = select_columns(t, features, target, task)
    except UploadError as err:
        st.error(message_markdown(err.parts) + " " + plain("The built-in data is shown."),
                 icon=":material/error:")
        dataset = None
    st.button("Back to the built-in data", on_click=_forget, key="upload_forget", icon=":material/undo:",
              type="tertiary")
    if dataset is None:
        return None
    chosen = Chosen(dataset, t.name, (*t.notes, *notes), target)
    st.session_state[IN_USE][view] = chosen
    return chosen


def show_notice(chosen: Chosen | None, container=st, *, samples: int | None = None) -> None:
    """One short notice in the main area: whose data this is and what was done to it (``samples``: how
    many rows a view draws at random from it, when fewer than all)."""
    if chosen is None:
        return
    ds = chosen.dataset
    rows = f"{len(ds.X):,} samples" if samples is None or samples >= len(ds.X) else \
        f"{samples:,} of the {len(ds.X):,} samples (at random; Samples in the sidebar)"
    used = f"{rows} and {ds.n_features} feature(s) used."
    parts = " · ".join([*(message_markdown(n, 32) for n in chosen.notes), plain(used)])
    container.info(f"**Your file {literal(chosen.file_name)}.** {parts}", icon=":material/upload_file:")


def in_use(view: str) -> Chosen | None:
    """The uploaded data the view drew on this run, if any."""
    return st.session_state.get(IN_USE, {}).get(view)


def link_note(view: str) -> None:
    """In the "Link to this view" panel: a link cannot carry the file; the data to send beside it."""
    chosen = in_use(view)
    if chosen is None:
        return
    ds = chosen.dataset
    st.caption("This view shows your uploaded file. A link cannot carry a file: whoever opens it sees the "
               "built-in data. Send the data beside the link:")
    # written when clicked (a callable): 100,000 rows take seconds, which no rerun should wait for
    st.download_button("The data shown (CSV)", functools.partial(to_csv, ds.X, ds.y, ds.feature_names,
                                                                 chosen.target or "y"),
                       file_name="uploaded-data.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key="upload_link_data")


def memo(name: str, key, compute):
    """``compute()`` kept per ``key`` in this session only (a few entries): results from uploaded data
    never enter a cache another session could read."""
    ss = st.session_state
    store = ss.setdefault(MEMO + name, {})
    if key not in store:
        if len(store) >= MEMO_SIZE:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


