"""Pinned runs: keep the runs on screen, change a setting, and see the kept runs beside the new ones.

A pin is a training config (its normalization included), nothing else: up to ``MAX_PINS`` of them,
shared by the network views of a session, drawn by Training and Activations in their own colours
and marker shapes (``palette.PINNED``, keyed by ``palette.pinned_key``). They travel in the link as configs, never as data, and are
retrained (or found in the run store) when the link is opened:

    pin=norm:batch,batch_size:32|norm:none,batch_size:32

each pin its fields that differ from the defaults (``name:value``, comma-separated), pins separated
by ``|``. A malformed pin is dropped with a notice; values out of range are clamped like any setting.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.params import from_query, specs, to_query
from core.training import TrainConfig
from dashboard import palette

MAX_PINS = 4
KEY = "_pins"  # session state: the pinned configs, oldest first
PARAM = "pin"
_DEFAULT = TrainConfig()
#: how a field reads in a pinned run's label ("batch 4", "lr 0.3", "relu")
SHORT = {"batch_size": "batch", "n_samples": "samples", "val_fraction": "validation share",
         "standardize_inputs": "standardized inputs", "norm_position": "norm", "bn_momentum": "BN momentum",
         "init_scale": "init scale", "weight_decay": "weight decay"}
_BY_VALUE = ("dataset", "activation", "init", "optimizer")  # read as their value alone


def pinned() -> list[TrainConfig]:
    return list(st.session_state.get(KEY, []))


def encode(configs: list[TrainConfig]) -> str:
    """The ``pin=`` value: each config's fields that differ from the defaults."""
    default = to_query(_DEFAULT)
    parts = []
    for c in configs:
        q = to_query(c)
        parts.append(",".join(f"{k}:{v}" for k, v in q.items() if v != default[k] or k == "norm"))
    return "|".join(parts)


def decode(text: str) -> tuple[list[TrainConfig], list[tuple[str, str]]]:
    """The pinned configs a ``pin=`` value names, and (subject, problem) for what was not usable."""
    configs, problems = [], []
    pieces = [p for p in str(text).split("|") if p.strip()]
    if len(pieces) > MAX_PINS:
        problems.append((f"{PARAM}=", f"holds {len(pieces)} pinned runs; the first {MAX_PINS} are kept"))
        pieces = pieces[:MAX_PINS]
    table = specs(TrainConfig)
    for i, piece in enumerate(pieces, 1):
        query, bad = {}, []
        for item in piece.split(","):
            name, sep, value = item.partition(":")
            name = name.strip()
            if not sep or name not in table:
                bad.append(item)
            else:
                query[name] = value.strip()
        if bad or not query:
            problems.append((f"pinned run {i}", "is not a list of settings (name:value); dropped"))
            continue
        config, notices = from_query(TrainConfig, query)
        try:
            config.validate()
            if any(not n.subject for n in notices):  # a cross-field rule: the defaults, not the pinned run
                raise ValueError
        except ValueError:
            problems.append((f"pinned run {i}", "combines settings that cannot train together; dropped"))
            continue
        problems += [(f"pinned run {i}: {n.subject}", n.problem) for n in notices]
        configs.append(config)
    return configs, problems


def read_link(state) -> None:
    """A link this view was opened with sets the pins (none when it holds no ``pin=``)."""
    state.own(PARAM)
    if not state.opened_with_link():
        return
    text = state.link_value(PARAM)
    configs, problems = decode(text) if text else ([], [])
    for subject, problem in problems:
        state.notice(subject, problem)
    st.session_state[KEY] = configs


def query() -> dict[str, str]:
    """The view's address part for the pins (nothing when none)."""
    configs = pinned()
    return {PARAM: encode(configs)} if configs else {}


def label(config: TrainConfig, current: TrainConfig) -> str:
    """A pinned run's name: its normalization and what differs from the current settings."""
    norm = palette.label(config.norm)
    diff = [f for f in specs(TrainConfig) if f != "norm" and getattr(config, f) != getattr(current, f)]
    words = []
    for f in diff:
        value, name = getattr(config, f), SHORT.get(f, f.replace("_", " "))
        if f in _BY_VALUE:
            words.append(str(value))
        elif isinstance(value, bool):
            words.append(("" if value else "no ") + name)
        else:
            words.append(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}")
    return f"{norm}, {', '.join(words[:3])}{' …' if len(words) > 3 else ''}" if words else f"{norm}, same settings"


def keys(current: TrainConfig) -> dict[str, TrainConfig]:
    """Each pinned config under its run key (``palette.pinned_key``: slot and label)."""
    return {palette.pinned_key(i, label(c, current)): c for i, c in enumerate(pinned())}


def runs(current: TrainConfig, seeds: tuple[int, ...]) -> dict[str, tuple]:
    """The pinned runs over the view's seeds (each pin from its own seed on), trained or fetched."""
    from dashboard.netconfig import WORK_BUDGET, cost
    from dashboard.runs import get_many

    offsets = [s - current.seed for s in seeds]
    seeded = {key: [dataclasses.replace(c, seed=c.seed + o) for o in offsets] for key, c in keys(current).items()}
    if sum(cost(c) for cs in seeded.values() for c in cs) > WORK_BUDGET:
        st.info(f"The {len(seeded)} pinned run(s) are too heavy to train beside these over {len(offsets)} "
                "seeds in a live demo: they are not drawn. Unpin some, or use fewer seeds.",
                icon=":material/hourglass_disabled:")
        return {}
    found = get_many([c for cs in seeded.values() for c in cs])  # one training for every pin
    return {key: tuple(found[c] for c in cs) for key, cs in seeded.items()}


def keep(configs: list[TrainConfig]) -> str | None:
    """Pin ``configs`` (the runs on screen); the oldest pins go past ``MAX_PINS``. Returns a note."""
    now = [c for c in pinned() if c not in configs] + [c for c in configs]
    dropped = len(now) - MAX_PINS
    st.session_state[KEY] = now[-MAX_PINS:]
    return f"{dropped} older pinned run(s) unpinned: at most {MAX_PINS} are kept." if dropped > 0 else None


def controls(container, current: TrainConfig, norms) -> None:
    """A "Pinned runs" button (in the player's row) to keep the runs on screen or unpin them all."""
    configs = pinned()
    on_screen = [dataclasses.replace(current, norm=n) for n in norms]
    with container.popover(f"Pinned: {len(configs)}" if configs else "Pin",
                           icon=":material/push_pin:",
                           help=f"Keep the runs on screen (up to {MAX_PINS}), change a setting, and compare"):
        if st.button("Keep the runs on screen", key="pin_keep", icon=":material/push_pin:",
                     disabled=all(c in configs for c in on_screen),
                     help="Their curves stay on this view and on Activations, in their own colours, "
                          "while you change the settings"):
            st.session_state["_pin_note"] = keep(on_screen)
            st.rerun()
        if configs:
            st.caption("Pinned, drawn beside the runs on screen:")
            for key in keys(current):
                st.text("• " + palette.label(key))
            if st.button("Unpin all", key="pin_clear", icon=":material/delete:"):
                st.session_state[KEY] = []
                st.rerun()
        else:
            st.caption(f"Nothing pinned yet. Keep the runs on screen, then change a setting: up to {MAX_PINS} "
                       "pinned runs are drawn beside the new ones.")
        note = st.session_state.pop("_pin_note", None)
        if note:
            st.caption(note)


def export_configs(kept: dict) -> dict[str, TrainConfig]:
    """The pinned runs' configs for the view's export (``<view>-config.json``), by label and seed."""
    return {f"{palette.label(key)}, seed {h.config.seed}": h.config for key, hists in kept.items() for h in hists}
