"""Predict, then reveal (AppTest): a lesson opens with its question and no charts; answering draws the
charts with the verdict and says whether the prediction was right, by the measurement; predict=0
switches the questions off, on every view, and survives moving between views."""

from __future__ import annotations

import pytest

from dashboard.lessons import LESSONS, lesson, measure
from dashboard.questions import QUESTIONS
from dashboard.registry import ALL_VIEWS
from dashboard.style import LESSONS_PANEL
from tests.pages.test_pages_apptest import assert_clean, charts_of, open_panel, open_view
from tests.pages.test_view_independence import fresh, go, shown

BY_PATH = {v.url_path: v for v in ALL_VIEWS}


def _prompt(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Predict first:**")]


@pytest.mark.parametrize("key", ["valley", "high_lr", "noisy_batch"])
def test_a_lesson_asks_first_and_reveals_its_charts_with_a_measured_verdict_on_the_answer(key):
    item = lesson(key)
    right = QUESTIONS[key].pick(measure(item))
    for given in sorted({right, (right + 1) % len(QUESTIONS[key].answers)}):
        at = open_view(BY_PATH[item.view], query={"lesson": key})
        assert_clean(at, f"{key} asked")
        assert _prompt(at) and not charts_of(at), "the charts show before the answer"
        assert at.query_params.get("lesson") == key
        at.radio(key=f"predict-{key}").set_value(given).run()
        assert_clean(at, f"{key} answered {given}")
        assert charts_of(at) and not _prompt(at)
        said = [s.value for s in at.success] + [w.value for w in at.warning]
        mine = [t for t in said if t.startswith("You predicted:")]
        assert mine, said
        if given == right:
            assert "Right" in mine[0]
        else:
            assert QUESTIONS[key].answers[right] in mine[0] and "Right" not in mine[0]


def test_predict_0_opens_the_lesson_with_its_charts_and_stays_in_every_address():
    at = open_view(BY_PATH["training"], query={"lesson": "deep_sigmoid", "predict": "0"})
    assert_clean(at, "predict=0")
    assert charts_of(at) and not _prompt(at)
    for view in ALL_VIEWS:
        go(at, view)
        assert at.query_params.get("predict") == "0", view.url_path
        assert shown(at) == fresh(view, dict(at.query_params.items()))
    open_panel(at, LESSONS_PANEL)
    at.button(key="side-lesson-bad_init").click().run()
    assert_clean(at, "another lesson with predict=0")
    assert charts_of(at) and not _prompt(at)


def test_an_answered_question_is_not_asked_again_until_the_lesson_is_opened_afresh():
    at = open_view(BY_PATH["landscape"], query={"lesson": "valley"})
    at.radio(key="predict-valley").set_value(0).run()
    assert charts_of(at)
    at.button(key="reset_lesson").click().run()  # back to the lesson's settings: still answered
    assert_clean(at, "reset to the lesson")
    assert charts_of(at) and not _prompt(at)
    at.button(key="lesson_close").click().run()
    open_panel(at, LESSONS_PANEL)
    at.button(key="side-lesson-valley").click().run()  # opened afresh: asked again
    assert_clean(at, "reopened")
    assert _prompt(at) and not charts_of(at)


@pytest.mark.parametrize("key", [x.key for x in LESSONS])
def test_every_lesson_opens_with_its_question_and_its_controls(key):
    item = lesson(key)
    at = open_view(BY_PATH[item.view], query={"lesson": key})
    assert_clean(at, key)
    assert _prompt(at) and QUESTIONS[key].prompt in _prompt(at)[0]
    assert [r.options for r in at.radio if r.key == f"predict-{key}"] == [list(QUESTIONS[key].answers)]
    assert not charts_of(at)
