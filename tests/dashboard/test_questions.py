"""Each lesson's question is answered by the measurement: over several seeds, the answer its pick
measures is one of its 2-4 answers, and whenever the lesson's verdict holds it is the answer the
lesson's claim makes (so the verdict and the revealed answer never contradict each other)."""

from __future__ import annotations

import pytest

from dashboard.lessons import LESSONS, lesson, measure
from dashboard.questions import QUESTIONS

#: the answer each lesson's claim makes (the index into its question's answers)
CLAIMED = {"valley": 2, "deep_sigmoid": 0, "high_lr": 0, "tiny_batches": 0, "bad_init": 2, "train_eval": 1,
           "lr_sweep": 0, "depth_sweep": 1, "batch_sweep": 0, "covariate_shift": 0, "smoother_landscape": 0,
           "noisy_batch": 0, "scale_invariance": 0, "signal_propagation": 2}
SEEDS = (0, 1, 2)
#: a sweep lesson measures a whole grid over seeds already (tests/dashboard/test_sweep_lessons.py runs
#: its verdict on two seed sets): its question is checked on its own seeds
GRID_LESSONS = ("lr_sweep", "depth_sweep", "batch_sweep")


def test_every_lesson_has_one_question_with_two_to_four_answers():
    assert set(QUESTIONS) == {x.key for x in LESSONS} == set(CLAIMED)
    for key, q in QUESTIONS.items():
        assert 2 <= len(q.answers) <= 4 and len(set(q.answers)) == len(q.answers), key
        assert q.prompt.endswith("?"), key


@pytest.mark.parametrize("key", [x.key for x in LESSONS])
def test_the_measured_answer_agrees_with_the_lessons_verdict_over_seeds(key):
    item, q = lesson(key), QUESTIONS[key]
    for seed in (() if key in GRID_LESSONS else SEEDS) + (item.seed,):
        measured = measure(item, seed)
        right = q.pick(measured)
        verdict = item.check(measured)
        assert right is None or 0 <= right < len(q.answers), (key, seed, right)
        if verdict.holds:
            assert right == CLAIMED[key], f"{key} seed {seed}: verdict holds but the measured answer is {right}"
    # the last one measured is the lesson's own settings: there it shows its claim
    assert q.pick(measured) == CLAIMED[key], f"{key}: on its own settings the lesson shows its claim"
