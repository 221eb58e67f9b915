"""benchmarks/stack_floor.py: the floor computes what core computes, and its table runs end to end.

The floor is only worth its figures if it does the same arithmetic as core's layers; that is what
is asserted (losses against core.nn's, every run, float64 over a whole short run). Timing is never
asserted.
"""

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import stack_floor  # noqa: E402
from benchmarks.bench_stack import classroom, core_losses  # noqa: E402

TINY = dict(n_samples=200, epochs=2, depth=3, width=8, batch_size=32, records=4)


def test_the_floor_trains_what_core_trains():
    configs = classroom(3, **TINY)
    steps = len(stack_floor.Floor(configs).batches)
    ours = np.stack([core_losses(c, steps, np.float64) for c in configs], axis=1)
    floor = np.stack(stack_floor.Floor(configs, np.float64).train())
    assert floor.shape == ours.shape == (steps, 3)
    np.testing.assert_allclose(floor, ours, rtol=0, atol=1e-9)
    lines: list[str] = []
    assert stack_floor.check(configs, lines.append)
    assert len(lines) == 2 and all(line.endswith("ok") for line in lines)


def test_the_floor_refuses_another_network():
    with pytest.raises(ValueError, match="batch norm before a sigmoid"):
        stack_floor.Floor(classroom(2, **TINY, norm="layer"))


def test_the_floor_table_prints_every_target():
    lines: list[str] = []
    rows = stack_floor.table([1, 2], TINY, 1, lines.append)
    assert set(rows) == {1, 2}
    assert all(math.isfinite(v) and v > 0 for t in rows.values() for v in t.values())
    text = "\n".join(lines)
    for target in ("ours / torch stack target", "sequential / stacked target", "one run: target"):
        assert target in text
    assert "nan" not in text.lower()
