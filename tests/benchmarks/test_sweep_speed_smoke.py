"""benchmarks/sweep_speed.py at a tiny size: it runs end to end and prints every figure, finite.

Timing is measured by the script, never asserted here (the --jobs part starts processes: left to the
script itself)."""

import math
import re

from benchmarks import sweep_speed


def test_sweep_speed_quick_prints_the_default_sweep_its_peer_and_a_fitted_budget(capsys):
    sweep_speed.main(["--quick", "--skip-jobs", "--calibrate"])
    out = capsys.readouterr().out
    for what in ("run_sweep (stacked, metrics only)", "earlier sweep", "one train()", "live budget's estimate",
                 "fitted: STEP_LAYER_SECONDS"):
        assert what in out, what
    ratio = re.search(r"earlier / now: ([\d.]+)x wall", out)
    assert ratio and math.isfinite(float(ratio.group(1))) and float(ratio.group(1)) > 0
    assert "nan" not in out.lower() and "inf " not in out.lower()
