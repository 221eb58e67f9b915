"""The article's experiment as one call: raw against standardized features.

``run_landscape(config)`` builds both quadratics, runs gradient descent on
each at the same fraction of its own largest stable learning rate, and
returns tidy frames ready to draw: the loss surface over the two weights,
the descent path, the loss curve, and the numbers that explain them. With
``optimizer="momentum"`` (heavy ball) or ``"nesterov"`` a descent with
momentum β runs on each surface too, at the same learning rate, beside the
plain one: runs ``raw-momentum`` and ``standardized-momentum`` (or
``-nesterov``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data import Dataset, seed_regression
from core.params import param, validate
from core.regression import (
    METHODS,
    Quadratic,
    descent_at,
    loss_grid,
    momentum_at,
    momentum_matrix,
    quadratic,
    sample_steps,
    spectral_radius,
    stable_lr_limit,
    steps_to_settle,
    steps_to_within,
)

__all__ = ["LandscapeConfig", "LandscapeRun", "LandscapeResult", "run_landscape", "RUNS", "GRID", "PATH_POINTS",
           "METHODS", "RATE_SCALES", "RATE_TOP"]

RUNS = ("raw", "standardized")  # the two surfaces; their plain-descent runs keep these names
GRID = 60  # grid points per axis: 3,600 rows per surface
PATH_POINTS = 400  # path points kept per run, whatever the number of steps


@dataclass(frozen=True)
class LandscapeConfig:
    """Settings of the loss-landscape experiment (the article's data by default)."""

    n_samples: int = param(100, "int", low=10, high=5000, help="Samples drawn (the article: 100).")
    noise: float = param(0.1, "float", low=0, high=50,
                         help="Standard deviation of the noise added to y (the article: 0.1).")
    data_seed: int = param(42, "int", low=0, high=2**31 - 1,
                           help="Seed of default_rng for the data (the article: 42).")
    lr_scale: float = param(0.5, "float", low=0, high=2, low_open=True,
                            help="Learning rate as a fraction of each surface's largest stable "
                                 "rate 2/λ_max. Above 1, descent diverges.")
    steps: int = param(1000, "int", low=1, high=1_000_000, help="Gradient-descent steps.")
    w0_a: float = param(0.0, "float", low=-10, high=10,
                        help="Starting weight of feature A, in raw units (both runs start from the same model).")
    w0_b: float = param(0.0, "float", low=-10, high=10,
                        help="Starting weight of feature B, in raw units.")
    fit_intercept: bool = param(True, "bool", help="Fit a bias too (the surface then shows the best bias at each point).")
    optimizer: str = param("plain", "choice", choices=METHODS,
                           help="Plain gradient descent only, or beside it descent with heavy-ball momentum "
                                "or Nesterov's momentum (same learning rate, momentum β).")
    beta: float = param(0.9, "float", low=0, high=0.999,
                        help="Momentum β: the share of the last step kept in the next one (0: plain descent).")
    at_step: int = param(1_000_000, "int", low=0, high=1_000_000,
                         help="Draw the path up to this step.")

    def validate(self) -> None:
        validate(self)


@dataclass(frozen=True, eq=False)
class LandscapeRun:
    """One run (raw or standardized): its numbers and its frames.

    surface: (w_a, w_b, loss, log_loss, band), GRID*GRID rows.
    path: (step, w_a, w_b, loss), at most PATH_POINTS + 1 rows, all finite.
    """

    name: str
    quadratic: Quadratic
    lr: float
    condition_number: float
    max_stable_lr: float
    steps_to_1pct: int | None
    diverged_at: int | None
    optimum: tuple[float, float]
    start: tuple[float, float]
    extent: tuple[float, float, float, float]  # a_lo, a_hi, b_lo, b_hi
    surface: pd.DataFrame
    path: pd.DataFrame
    leaves_view_at: int | None = None  # the first recorded step drawn outside ``extent`` (a diverging path)
    method: str = "plain"  # one of METHODS
    beta: float = 0.0
    rate: float = float("nan")  # the measured per-step rate of the slowest direction (spectral radius)
    surface_name: str = ""  # "raw" or "standardized": the surface this run descends


#: learning rates of the rate chart, as multiples of plain descent's stable rate 2/λ_max
RATE_SCALES = np.round(np.linspace(0.02, 2.5, 125), 4)
#: the rate chart's top: past it a rate only says "grows"
RATE_TOP = 1.5


@dataclass(frozen=True, eq=False)
class LandscapeResult:
    config: LandscapeConfig
    runs: dict[str, LandscapeRun]

    def rates(self) -> pd.DataFrame:
        """(run, lr_scale, rate): each run's measured per-step rate (spectral radius) at learning rates
        RATE_SCALES × plain descent's stable rate, capped at RATE_TOP; 1 is the stable limit."""
        frames = []
        for name, run in self.runs.items():
            plain_limit = run.quadratic.max_stable_lr
            rate = [spectral_radius(momentum_matrix(run.quadratic, lr=s * plain_limit, beta=run.beta,
                                                    nesterov=run.method == "nesterov")) for s in RATE_SCALES]
            frames.append(pd.DataFrame({"run": name, "lr_scale": RATE_SCALES,
                                        "rate": np.minimum(rate, RATE_TOP)}))
        return pd.concat(frames, ignore_index=True)

    def losses(self) -> pd.DataFrame:
        """(run, step, loss) of both runs, for one chart."""
        frames = [r.path[["step", "loss"]].assign(run=name) for name, r in self.runs.items()]
        return pd.concat(frames, ignore_index=True)


def _extent(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """A square box (equal spans, so shapes are not distorted) around the points."""
    p = np.asarray(points, dtype=float)
    lo, hi = p.min(axis=0), p.max(axis=0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) * 0.65, 1e-3 * max(1.0, float(np.abs(p).max())))
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


#: a diverging path is framed while it stays within this many times the start's distance from the
#: optimum; past that it leaves the plot (``LandscapeRun.leaves_view_at`` says from which step)
DIVERGED_FRAME = 3.0


def _view_extent(optimum: tuple[float, float], start: tuple[float, float], path: np.ndarray,
                 diverged: bool) -> tuple[float, float, float, float]:
    """The plotted box: the optimum, the start and the whole path (so an overshooting path at any
    stable rate stays in view); a diverging path only while it is within DIVERGED_FRAME times the
    start's distance from the optimum."""
    path = path[np.isfinite(path).all(axis=1)]
    if diverged:
        reach = DIVERGED_FRAME * max(float(np.hypot(*np.subtract(start, optimum))), 1e-9)
        path = path[np.hypot(*(path - np.asarray(optimum)).T) <= reach]
    return _extent([optimum, start, *map(tuple, path)])


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """The smallest square box holding every (square) box: one frame for a surface's paths."""
    b = np.asarray(boxes, dtype=float)
    lo, hi = b[:, [0, 2]].min(axis=0), b[:, [1, 3]].max(axis=0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


def _leaves(path: np.ndarray, steps: np.ndarray, extent: tuple[float, float, float, float]) -> int | None:
    outside = ((path[:, 0] < extent[0]) | (path[:, 0] > extent[1])
               | (path[:, 1] < extent[2]) | (path[:, 1] > extent[3]))
    return int(steps[np.argmax(outside)]) if outside.any() else None


def _descend(q: Quadratic, config: LandscapeConfig, method: str, theta0: np.ndarray):
    """One descent on q: (its beta, trajectory, steps to settle within 1 %, stable limit, rate)."""
    lr = config.lr_scale * q.max_stable_lr  # every method at the same learning rate on a surface
    beta = 0.0 if method == "plain" else config.beta
    nesterov = method == "nesterov"
    steps = sample_steps(config.steps, PATH_POINTS)
    if method == "plain":  # the closed form, and an exact search: plain descent's loss never rises
        traj = descent_at(q, steps, lr=lr, theta0=theta0)
        within = steps_to_within(q, lr=lr, theta0=theta0) if lr < q.max_stable_lr else None
        limit = q.max_stable_lr
    else:
        traj = momentum_at(q, steps, lr=lr, beta=beta, theta0=theta0, nesterov=nesterov)
        within = steps_to_settle(q, lr=lr, beta=beta, theta0=theta0, nesterov=nesterov)
        limit = stable_lr_limit(q, beta=beta, nesterov=nesterov)
    rate = spectral_radius(momentum_matrix(q, lr=lr, beta=beta, nesterov=nesterov))
    return lr, beta, traj, within, limit, rate


def _surface(q: Quadratic, extent) -> pd.DataFrame:
    a = np.linspace(extent[0], extent[1], GRID)
    b = np.linspace(extent[2], extent[3], GRID)
    surface = loss_grid(q, a, b)
    surface["log_loss"] = np.log10(np.maximum(surface["loss"], 1e-300))
    surface["band"] = np.floor(surface["log_loss"] * 3) / 3  # a third of a decade per band
    return surface


def _runs_on(name: str, q: Quadratic, config: LandscapeConfig) -> list[LandscapeRun]:
    """The runs on one surface (plain descent, and the chosen momentum beside it), framed together."""
    w_start, b_start = q.from_raw([config.w0_a, config.w0_b], 0.0)
    theta0 = q.theta(w_start, b_start)
    methods = ("plain",) if config.optimizer == "plain" else ("plain", config.optimizer)
    descents = {m: _descend(q, config, m, theta0) for m in methods}
    w_star, _ = q.split(q.theta_star)
    optimum = (float(w_star[0]), float(w_star[1]))
    start = (float(w_start[0]), float(w_start[1]))
    frames = [_view_extent(optimum, start, d[2].weights[:, :2], d[2].diverged_at is not None)
              for d in descents.values()]
    extent = frames[0] if len(frames) == 1 else _union(frames)
    surface = _surface(q, extent)
    runs = []
    for method, (lr, beta, traj, within, limit, rate) in descents.items():
        path = pd.DataFrame({"step": traj.steps, "w_a": traj.weights[:, 0], "w_b": traj.weights[:, 1],
                             "loss": traj.loss})
        run_name = name if method == "plain" else f"{name}-{method}"
        runs.append(LandscapeRun(run_name, q, lr, q.condition_number, limit, within, traj.diverged_at,
                                 optimum, start, extent, surface, path,
                                 _leaves(traj.weights[:, :2], np.asarray(traj.steps), extent),
                                 method, beta, rate, name))
    return runs


def run_landscape(config: LandscapeConfig, data: Dataset | None = None) -> LandscapeResult:
    """Both runs of the experiment for ``config`` (validated first).

    data: the regression to use instead of the article's (two features, e.g. an uploaded file's
    chosen columns); then the config's n_samples, noise and data_seed do not apply.
    """
    config.validate()
    if data is None:
        data = seed_regression(config.n_samples, config.data_seed, config.noise)
    elif data.n_features != 2 or data.task != "regression":
        raise ValueError(f"The landscape needs a regression on exactly 2 features; got {data.n_features} "
                         f"feature(s) and task {data.task!r}.")
    runs = {}
    for name in RUNS:
        q = quadratic(data.X, data.y, standardize=(name == "standardized"), fit_intercept=config.fit_intercept)
        runs.update({run.name: run for run in _runs_on(name, q, config)})
    return LandscapeResult(config, runs)
