"""The landscape's plotted box: both descent paths stay in view at every stable learning rate the
page offers, over several data seeds and starts; a diverging path is framed on its first steps and
the step it leaves the box is reported."""

from __future__ import annotations

import numpy as np
import pytest

from core.experiment import LandscapeConfig, run_landscape

SCALES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0)  # the page's choices up to the limit


def _outside(run) -> int:
    a, b = run.path["w_a"].to_numpy(), run.path["w_b"].to_numpy()
    lo_a, hi_a, lo_b, hi_b = run.extent
    return int(((a < lo_a) | (a > hi_a) | (b < lo_b) | (b > hi_b)).sum())


@pytest.mark.parametrize("data_seed, w0", [(42, (0.0, 0.0)), (1, (5.0, -3.0)), (7, (-10.0, 10.0))])
@pytest.mark.parametrize("lr_scale", SCALES)
def test_both_paths_stay_inside_the_plot_at_every_stable_rate(lr_scale, data_seed, w0):
    result = run_landscape(LandscapeConfig(lr_scale=lr_scale, data_seed=data_seed, w0_a=w0[0], w0_b=w0[1]))
    for name, run in result.runs.items():
        assert run.diverged_at is None, f"{name} diverged at {lr_scale}x"
        assert _outside(run) == 0, f"{name} at {lr_scale}x: {_outside(run)} path points outside the plot"
        assert run.leaves_view_at is None


@pytest.mark.parametrize("lr_scale", [1.01, 1.5, 2.0])
def test_a_diverging_path_is_framed_on_its_first_steps_and_says_where_it_leaves(lr_scale):
    for name, run in run_landscape(LandscapeConfig(lr_scale=lr_scale)).runs.items():
        assert run.diverged_at is not None
        assert run.leaves_view_at is not None and 0 < run.leaves_view_at <= run.diverged_at, name
        inside = run.path[run.path["step"] < run.leaves_view_at]
        assert len(inside) >= 2, f"{name}: the plot frames fewer than two of its points"
        assert np.isfinite(run.extent).all()
