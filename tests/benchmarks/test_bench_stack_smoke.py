"""benchmarks/bench_stack.py at a tiny size: it runs end to end and its figures are finite.

Timing is measured by the script, never asserted here; what is asserted is that the
script produces every ratio and that PyTorch's stack computes the losses core does.
"""

import math

import pytest

pytest.importorskip("torch")

from benchmarks import bench_stack  # noqa: E402

TINY = dict(n_samples=200, epochs=1, depth=2, width=8, batch_size=32, records=4)


def _finite(pair) -> bool:
    return all(math.isfinite(v) and v > 0 for v in pair)


def test_bench_stack_at_a_tiny_size_prints_finite_ratios_and_torch_matches_core():
    lines: list[str] = []
    out = bench_stack.bench([1, 2], TINY, repeats=1, pause=0.0, memory_runs=2, say=lines.append)
    text = "\n".join(lines)

    assert set(out["speed"]) == {1, 2}
    for res in out["speed"].values():
        assert _finite(res["speedup"]) and _finite(res["vs_torch_stack"])
    assert _finite(out["speed"][1]["single_vs_twin"])
    for name, diff in out["check"].items():
        dtype = name.split(", ")[1]
        assert diff <= bench_stack.TOLERANCE[dtype], (name, diff)
    assert "MISMATCH" not in text and "nan" not in text.lower()
    assert "seq / stacked" in text and "ours / torch" in text and "train / torch twin" in text
    memory = out["memory"]
    assert memory["kept"] > 0 and memory["peak"] >= memory["kept"] / 2
    assert all(v > 0 for v in memory["per_run"].values())


def test_bench_stack_reads_its_runs_option():
    assert bench_stack._counts("30,1,10,3") == [1, 3, 10, 30]
    with pytest.raises(Exception, match="positive"):
        bench_stack._counts("0,3")
