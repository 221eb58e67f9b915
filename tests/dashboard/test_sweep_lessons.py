"""The sweeps' lessons hold over seed sets: each verdict is measured on a fresh grid whose seeds start at
0 and at 3 (three seeds each), the numbers in its text."""

from __future__ import annotations

import pytest

from dashboard.lessons import verdict


@pytest.mark.parametrize("key", ["lr_sweep", "depth_sweep", "batch_sweep"])
@pytest.mark.parametrize("first_seed", [0, 3])
def test_each_sweep_lesson_holds_on_two_disjoint_seed_sets(key, first_seed):
    v = verdict(key, seed=first_seed)
    assert v.holds, v.text
    assert any(ch.isdigit() for ch in v.text)
