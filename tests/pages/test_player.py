"""The step player when the recorded run changes: a scrubber at the end follows the new end, one
placed mid-run keeps a step the new run recorded, and otherwise it moves and the view says so.

Driven through the app as a user would (AppTest): on Training (batch size, epochs) and on the Loss
landscape (steps, a diverging learning rate and back).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.playback import BUTTONS, follow
from dashboard.registry import ROOT
from tests.pages.test_views_behave import _app, _clean

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 300
MOVED = "The step was moved to"


def _open(page: str) -> AppTest:
    return _app(page=page)


def _steps(at: AppTest, key: str) -> list[int]:
    return [int(o.replace(",", "")) for o in at.select_slider(key=key).options]


def _notices(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if MOVED in c.value]


def _set(at: AppTest, key: str, value) -> AppTest:
    widget = next(w for w in (*at.select_slider, *at.slider, *at.selectbox) if w.key == key)
    widget.set_value(value)
    at.run()
    _clean(at)
    return at


# ------------------------------------------------------------------ the rule on its own

def test_follow_keeps_the_end_a_recorded_step_and_moves_the_rest_with_a_notice():
    old_end, new = 256, [0, 13, 27, 256, 390]
    assert follow(256, new, old_end) == (390, None)  # at the end: follows the new end
    assert follow(27, new, old_end) == (27, None)  # mid-run, recorded again: stays
    step, note = follow(300, [0, 10, 200], 390)
    assert step == 200 and note.startswith(f"{MOVED} 200: the new run ends there")
    step, note = follow(20, [0, 10, 200], 390)
    assert step == 10 and MOVED in note
    assert follow(10**7, [0, 5, 9], None) == (9, None)  # a link's "last step" on a first draw
    assert follow(4, [0, 5, 9], None) == (5, None)  # a link's step snapped silently (first draw)


# ------------------------------------------------------------------ Training

def test_training_scrubber_at_the_end_follows_a_longer_run_batch_size_and_epochs():
    at = _open("training")
    assert at.session_state["train_step"] == _steps(at, "train_step")[-1]
    _set(at, "batch_size", 2)
    steps = _steps(at, "train_step")
    assert steps[-1] > 1000, steps[-1]
    assert at.session_state["train_step"] == steps[-1], "the scrubber stayed at the old end"
    assert any(f"at step {steps[-1]:,}" in c.value for c in at.caption), "the boundary is not at the new end"
    assert not _notices(at)
    _set(at, "batch_size", 32)
    _set(at, "epochs", 30)
    steps = _steps(at, "train_step")
    assert at.session_state["train_step"] == steps[-1] and not _notices(at)


def test_training_scrubber_placed_mid_run_keeps_a_recorded_step_and_says_when_it_moved():
    at = _open("training")
    short = _steps(at, "train_step")
    _set(at, "epochs", 30)
    long = _steps(at, "train_step")
    common = [s for s in short[1:-1] if s in long]
    assert common, (short, long)
    # mid-run at a step both runs recorded: it stays there
    _set(at, "train_step", common[len(common) // 2])
    _set(at, "epochs", 20)
    assert at.session_state["train_step"] == common[len(common) // 2]
    assert not _notices(at)
    # beyond the end of the shorter run: moved to its end, and the page says so
    _set(at, "epochs", 30)
    beyond = next(s for s in long if s > short[-1] and s != long[-1])
    _set(at, "train_step", beyond)
    _set(at, "epochs", 20)
    assert at.session_state["train_step"] == short[-1]
    assert _notices(at) == [f"{MOVED} {short[-1]:,}: the new run ends there."]
    at.run()
    assert not _notices(at), "the notice stays only for the rerun that moved the step"


# ------------------------------------------------------------------ Loss landscape

def test_landscape_scrubber_at_the_end_follows_more_steps_and_a_diverged_run_and_back():
    at = _open("landscape")
    assert at.session_state["at_step"] == 1000
    _set(at, "steps", 1_000_000)
    assert at.session_state["at_step"] == _steps(at, "at_step")[-1] == 1_000_000
    _set(at, "steps", 1000)
    assert at.session_state["at_step"] == 1000
    _set(at, "lr_scale", 1.5)
    diverged = _steps(at, "at_step")[-1]
    assert diverged < 1000 and at.session_state["at_step"] == diverged
    _set(at, "lr_scale", 0.5)
    assert at.session_state["at_step"] == 1000, "the scrubber stayed at the diverged run's end"
    assert not _notices(at)


def test_landscape_scrubber_mid_run_stays_when_steps_grow():
    at = _open("landscape")
    mid = _steps(at, "at_step")[len(_steps(at, "at_step")) // 2]
    _set(at, "at_step", mid)
    _set(at, "steps", 3000)
    if mid in _steps(at, "at_step"):
        assert at.session_state["at_step"] == mid and not _notices(at)
    else:
        assert _notices(at), "the step moved without a notice"


# ------------------------------------------------------------------ labels and keys

def test_player_buttons_carry_readable_labels_and_keyboard_shortcuts():
    at = _open("training")
    for name, text, _icon, _key in BUTTONS:
        button = at.button(key=f"train_step_{name}")
        assert button.label == text
        assert ":material/" not in button.label
    shortcuts = {b.proto.shortcut.lower() for b in at.button if b.key and b.key.startswith("train_step_")}
    assert {"space", "left", "right"} <= shortcuts


@pytest.mark.parametrize("label", [b[1] for b in BUTTONS])
def test_button_labels_are_words(label):
    assert label[0].isupper() and all(w.isalpha() for w in label.split())


def test_training_scrubber_at_the_end_stays_at_the_end_through_a_diverging_rate_and_back():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lesson"] = "high_lr"  # the plain run diverges within a few steps at lr 1
    at.query_params["predict"] = "0"  # its charts at once, without the lesson's question first
    at.run()
    _clean(at)
    assert at.session_state["train_step"] == _steps(at, "train_step")[-1]
    _set(at, "lr", 0.1)
    assert at.session_state["train_step"] == _steps(at, "train_step")[-1]
    _set(at, "lr", 1.0)
    assert at.session_state["train_step"] == _steps(at, "train_step")[-1] and not _notices(at)
