"""The Dask backend (an optional extra, ``pip install 'dask[distributed]'``): a small grid trained on a
``LocalCluster`` the test starts gives the same results as one process. Skipped where Dask is absent."""

from __future__ import annotations

import pandas as pd
import pytest

from core.sweep import SweepGrid, run_sweep
from core.training import TrainConfig

distributed = pytest.importorskip("distributed")


def test_a_grid_on_a_dask_local_cluster_gives_the_results_of_one_process():
    grid = SweepGrid(base=TrainConfig(n_samples=100, epochs=2, depth=2, width=8, records=5), axis="lr",
                     values=(0.01, 0.1), norms=("none", "batch"), seeds=(0, 1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = run_sweep(grid, dask=cluster.scheduler_address)
    pd.testing.assert_frame_equal(on_dask, run_sweep(grid))
