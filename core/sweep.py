"""Sweeps: one setting (learning rate, batch size or depth) over a grid, normalizations and seeds.

A :class:`SweepGrid` is a base :class:`~core.training.TrainConfig`, the axis it
varies, the values, the normalizations and the seeds. :func:`run_sweep` trains
every cell through ``core.training.train_many``, in as few stacks as it allows
(:func:`parts`: a learning-rate sweep is one stack per normalization), recording
only the metrics (in parallel with joblib, a part a task), and returns a tidy
results table, one row per run:

    axis, value, norm, seed, lr, batch_size, depth, steps, diverged_at,
    final_loss, final_accuracy, status, steps_to_target

``status`` is measured on the final validation metrics:

- "diverged": the loss or a weight became non-finite (``History.diverged``);
- "learned": validation accuracy at least chance + :data:`LEARNED_MARGIN` of the
  way from chance to perfect (moons: 0.8; three classes: 0.73; regression, where
  the accuracy column is R²: 0.6);
- "did not learn": anything else.

A diverged run is a result, never a gap: its loss and accuracy are empty (NaN
in the frame, blank in a CSV) and its status says so. :func:`summary` gives the
median, min and max over seeds per (value, norm) and the share of each status;
:func:`headline` the largest value at which each normalization learned on every
seed. Files (a grid in TOML, a results bundle in JSON/CSV) are
``core.sweep_files``; the command line::

    python -m core.sweep GRID.toml --out DIR [--jobs N] [--dask tcp://HOST:8786]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data import DATASETS
from core.nn import ACTIVATIONS, INITS, NORMS, OPTIMIZERS
from core.params import param, specs
from core.params import validate as validate_fields
from core.training import TrainConfig, stacks, train_many

__all__ = ["SweepConfig", "LR_VALUES", "BATCH_VALUES", "DEPTH_VALUES", "estimate_seconds", "work_terms",
           "describe_cell", "describe_part", "parts",
           "AXES", "STATUSES", "LEARNED_MARGIN", "SweepGrid", "run_sweep", "results_table", "run_row",
           "learned_threshold", "summary", "headline", "headline_sentence", "grid_cost", "main"]

#: the settings a sweep can vary, and how the dashboard names them
AXES = {"lr": "learning rate", "batch_size": "batch size", "depth": "hidden layers"}
STATUSES = ("diverged", "did not learn", "learned")
#: "learned": the final validation accuracy covers this share of the way from chance to perfect
LEARNED_MARGIN = 0.6
COLUMNS = ("axis", "value", "norm", "seed", "lr", "batch_size", "depth", "steps", "diverged_at",
           "final_loss", "final_accuracy", "status", "steps_to_target")


@dataclass(frozen=True)
class SweepGrid:
    """base: every setting but the axis, the normalization and the seed. axis: "lr" | "batch_size" |
    "depth". values: the axis's values. norms, seeds: each value is trained once per (norm, seed).
    target: the validation accuracy whose first recorded step is ``steps_to_target``. scale_lr (batch
    size sweeps): the rate scaled with the batch, lr = base.lr * batch / base.batch_size."""

    base: TrainConfig = TrainConfig()
    axis: str = "lr"
    values: tuple = (0.01, 0.1, 1.0)
    norms: tuple[str, ...] = ("none", "batch")
    seeds: tuple[int, ...] = (0, 1, 2)
    target: float = 0.9
    scale_lr: bool = False

    def validate(self) -> None:
        """Raise ValueError naming what is not allowed."""
        if self.axis not in AXES:
            raise ValueError(f"The 'axis' must be one of {', '.join(map(repr, AXES))}. Got {self.axis!r} instead.")
        if not self.values or not self.norms or not self.seeds:
            raise ValueError("A sweep needs at least one value, one normalization and one seed.")
        spec = specs(TrainConfig)[self.axis]
        for v in self.values:
            if not spec.admits(v):
                raise ValueError(f"Every value of '{self.axis}' must be {spec.describe()}. Got {v!r} instead.")
        for n in self.norms:
            if n not in NORMS:
                raise ValueError(f"Every norm must be one of {', '.join(map(repr, NORMS))}. Got {n!r} instead.")
        seed_spec = specs(TrainConfig)["seed"]
        for s in self.seeds:
            if not seed_spec.admits(s):
                raise ValueError(f"Every seed must be {seed_spec.describe()}. Got {s!r} instead.")
        if not (isinstance(self.target, (int, float)) and 0 < self.target <= 1):
            raise ValueError(f"The 'target' accuracy must be in (0, 1]. Got {self.target!r} instead.")
        for c in self.configs():
            c.validate()

    def cell(self, value, norm: str, seed: int) -> TrainConfig:
        """The TrainConfig of one run of the grid."""
        changes = {self.axis: value, "norm": norm, "seed": int(seed)}
        if self.axis == "batch_size" and self.scale_lr:
            lr = self.base.lr * value / self.base.batch_size
            changes["lr"] = float(min(max(lr, 1e-6), 10.0))
        return dataclasses.replace(self.base, **changes)

    def cells(self) -> list[tuple]:
        """(value, norm, seed) of every run, value-major: the results table's order."""
        return [(v, n, s) for v in self.values for n in self.norms for s in self.seeds]

    def configs(self) -> list[TrainConfig]:
        return [self.cell(*c) for c in self.cells()]

    @property
    def size(self) -> int:
        return len(self.values) * len(self.norms) * len(self.seeds)


#: the values a live sweep can take (a grid file may hold any)
LR_VALUES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_VALUES = (2, 4, 8, 16, 32, 64, 128, 256, 512)
DEPTH_VALUES = (1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 30)
#: which normalizations are compared with none (as the network views' "compare")
COMPARE = {"batch": ("none", "batch"), "layer": ("none", "layer"), "both": ("none", "batch", "layer"),
           "group": ("none", "group"), "rms": ("none", "rms")}


@dataclass(frozen=True)
class SweepConfig:
    """The Sweeps view's settings: which sweep, over what range, on which network, with how many seeds."""

    sweep: str = param("lr", "choice", choices=tuple(AXES), help="The setting the sweep varies")
    compare: str = param("batch", "choice", choices=tuple(COMPARE),
                         help="Which normalization(s) to sweep beside no normalization")
    seeds: int = param(3, "int", low=1, high=10, help="Seeds per point (each one a separate run)")
    seed: int = param(0, "int", low=0, high=2**31 - 1, help="The first seed (seeds seed, seed+1, ...)")
    lr_min: float = param(0.003, "float", low=0, high=10, low_open=True, help="Smallest learning rate")
    lr_max: float = param(10.0, "float", low=0, high=10, low_open=True, help="Largest learning rate")
    batch_min: int = param(8, "int", low=2, high=512, help="Smallest batch size")
    batch_max: int = param(256, "int", low=2, high=512, help="Largest batch size")
    depth_min: int = param(2, "int", low=1, high=30, help="Fewest hidden layers")
    depth_max: int = param(20, "int", low=1, high=30, help="Most hidden layers")
    scale_lr: bool = param(False, "bool", help="Batch-size sweep: scale the rate with the batch (lr × batch / 32)")
    target: float = param(0.9, "float", low=0.5, high=1, help="Validation accuracy for 'steps to target'")
    dataset: str = param("moons", "choice", choices=DATASETS, help="Data set")
    n_samples: int = param(500, "int", low=40, high=50_000, help="Samples drawn (real data sets: at most all)")
    depth: int = param(8, "int", low=1, high=50, help="Hidden layers (when the sweep is not over depth)")
    width: int = param(32, "int", low=1, high=512, help="Units per hidden layer")
    activation: str = param("relu", "choice", choices=tuple(ACTIVATIONS), help="Activation")
    init: str = param("he", "choice", choices=INITS, help="Weight initialisation")
    optimizer: str = param("momentum", "choice", choices=OPTIMIZERS, help="Optimizer")
    lr: float = param(0.1, "float", low=0, high=10, low_open=True, help="Learning rate (when not swept)")
    batch_size: int = param(32, "int", low=2, high=50_000, help="Batch size (when not swept)")
    epochs: int = param(20, "int", low=1, high=500, help="Passes over the training set")

    def validate(self) -> None:
        validate_fields(self)

    def base(self) -> TrainConfig:
        names = ("dataset", "n_samples", "depth", "width", "activation", "init", "optimizer", "lr",
                 "batch_size", "epochs")
        return dataclasses.replace(TrainConfig(), **{n: getattr(self, n) for n in names})

    def values(self) -> tuple:
        lo, hi, options = {"lr": (self.lr_min, self.lr_max, LR_VALUES),
                           "batch_size": (self.batch_min, self.batch_max, BATCH_VALUES),
                           "depth": (self.depth_min, self.depth_max, DEPTH_VALUES)}[self.sweep]
        lo, hi = min(lo, hi), max(lo, hi)
        return tuple(v for v in options if lo <= v <= hi) or (lo,)

    def grid(self) -> SweepGrid:
        """The grid these settings describe (the first seed onwards)."""
        return SweepGrid(base=self.base(), axis=self.sweep, values=self.values(), norms=COMPARE[self.compare],
                         seeds=tuple(range(self.seed, self.seed + self.seeds)), target=self.target,
                         scale_lr=self.scale_lr and self.sweep == "batch_size")


def describe_cell(grid: SweepGrid, cell: tuple) -> str:
    """'learning rate 0.1, batch norm, seed 2'."""
    value, norm, seed = cell
    return f"{AXES[grid.axis]} {value:g}, {_label(norm)}, seed {seed}"


#: the stacked engine's cost on the 2-core demo machine (one process, one BLAS thread), fitted to the CPU
#: time of six measured sweeps (metrics only: learning rate, 10 seeds, batch 2-256, depth 2-20, width 128)
#: by ``benchmarks/sweep_speed.py --calibrate``: seconds per stack step and layer (numpy calls that every
#: run of a stack shares), per multiply-add, per value computed (elementwise work: a unit of a sample of
#: a layer) and per run (its data, setup, snapshots and row). Re-measured after the last speed-up it is
#: within 5-19 % on five of the six grids and 39 % over on batches of 2 and 4; a loaded machine takes
#: longer (wall up to 2.2x CPU at load 6).
STEP_LAYER_SECONDS, MAC_SECONDS, VALUE_SECONDS, RUN_SECONDS = 9.0e-5, 1.9e-10, 3.7e-9, 0.014


def estimate_seconds(grid: SweepGrid, configs: Sequence[TrainConfig] | None = None) -> float:
    """Roughly how long the grid's runs (or ``configs`` of them) take to train here, in one process,
    stacked as ``train_many`` stacks them."""
    steps_layers, macs, values, runs = work_terms(grid, configs)
    return steps_layers * STEP_LAYER_SECONDS + macs * MAC_SECONDS + values * VALUE_SECONDS + runs * RUN_SECONDS


def work_terms(grid: SweepGrid, configs: Sequence[TrainConfig] | None = None) -> tuple[float, float, float, int]:
    """What :func:`estimate_seconds` weighs, summed over the stacks: (steps x layers of each stack,
    multiply-adds and values computed of every run, forward and backward, runs)."""
    steps_layers = macs = values = 0.0
    runs = 0
    for stack in stacks(grid.configs() if configs is None else configs):
        c = stack[0]
        n_train = c.n_samples * (1 - c.val_fraction)
        steps = math.ceil(n_train / min(c.batch_size, n_train)) * c.epochs
        steps_layers += steps * (c.depth + 2)
        macs += len(stack) * 3.0 * n_train * c.epochs * (c.depth * c.width * c.width + 2 * c.width)
        values += len(stack) * 3.0 * n_train * c.epochs * (c.depth + 1) * c.width
        runs += len(stack)
    return steps_layers, macs, values, runs


def grid_cost(grid: SweepGrid) -> float:
    """Rough multiply-adds of the whole grid (forward + backward), as the live budget counts them."""
    total = 0.0
    for c in grid.configs():
        total += 3.0 * c.n_samples * c.epochs * (c.depth * c.width * c.width + 2 * c.width)
    return total


# ---------------------------------------------------------------- one run -> one row


def learned_threshold(task: str, n_classes: int) -> float:
    """The final validation accuracy (R² for regression) a run needs to count as "learned"."""
    chance = 1.0 / max(n_classes, 2) if task == "classification" else 0.0
    return chance + LEARNED_MARGIN * (1.0 - chance)


def _steps_to(val: pd.DataFrame, target: float) -> int | None:
    hit = val[val["accuracy"] >= target]
    return int(hit["step"].iloc[0]) if len(hit) else None


def run_row(grid: SweepGrid, value, norm: str, seed: int, hist) -> dict:
    """The results row of one trained run (a History)."""
    c = hist.config
    row = {"axis": grid.axis, "value": value, "norm": norm, "seed": int(seed), "lr": float(c.lr),
           "batch_size": int(c.batch_size), "depth": int(c.depth), "steps": int(hist.steps),
           "diverged_at": hist.diverged_at, "final_loss": math.nan, "final_accuracy": math.nan,
           "status": "diverged", "steps_to_target": None}
    if hist.diverged:
        return row
    final = hist.final("val")
    if not final or not (math.isfinite(final["loss"]) and math.isfinite(final["accuracy"])):
        row["status"] = "did not learn"
        return row
    val = hist.metrics[hist.metrics["split"] == "val"]
    row.update(final_loss=final["loss"], final_accuracy=final["accuracy"],
               steps_to_target=_steps_to(val, grid.target))
    good = final["accuracy"] >= learned_threshold(hist.task, hist.n_classes)
    row["status"] = "learned" if good else "did not learn"
    return row


def results_table(rows: Sequence[dict]) -> pd.DataFrame:
    """Rows in, the typed results frame out (the bundle's CSV)."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for col in ("final_loss", "final_accuracy", "lr", "value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("diverged_at", "steps_to_target"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in ("seed", "batch_size", "depth", "steps"):
        frame[col] = frame[col].astype("int64")
    return frame


def _train_part(grid: SweepGrid, cells: list[tuple], progress=None) -> list[dict]:
    """Train a part of the grid with one ``train_many`` call (metrics only: what a row reads); its rows
    (small: what crosses processes)."""
    hists = train_many([grid.cell(*c) for c in cells], progress, metrics_only=True)
    return [run_row(grid, *c, h) for c, h in zip(cells, hists, strict=True)]


def parts(grid: SweepGrid, jobs: int = 1) -> list[list[tuple]]:
    """The grid's cells as ``train_many`` stacks them, one part a stack (runs that differ only in rate,
    seed, ...: a learning-rate sweep is one stack per normalization); halved, the largest first, until
    there are at least ``jobs`` parts (every process gets work)."""
    configs = grid.configs()
    cells_of: dict[TrainConfig, list[tuple]] = {}
    for c, cell in zip(configs, grid.cells(), strict=True):
        cells_of.setdefault(c, []).append(cell)
    out = [[cell for c in stack for cell in cells_of[c]] for stack in stacks(configs)]
    while len(out) < jobs and max(map(len, out)) > 1:
        i = max(range(len(out)), key=lambda j: len(out[j]))
        half = (len(out[i]) + 1) // 2
        out[i:i + 1] = [out[i][:half], out[i][half:]]
    return out


def run_sweep(grid: SweepGrid, *, jobs: int = 1, dask: str | None = None,
              progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """Train every run of ``grid``; the results table (one row per run, in ``grid.cells()`` order).

    The runs train in as few stacks as ``train_many`` allows (:func:`parts`). jobs > 1: the parts in
    parallel in joblib processes; dask: a scheduler address, the same parts on a Dask cluster through
    joblib's Dask backend (needs ``dask.distributed``). ``progress(fraction, label)`` is called
    in-process only (jobs=1, no dask), the label naming the runs being trained.
    """
    grid.validate()
    todo = parts(grid, jobs if dask is None else 1)
    if jobs == 1 and dask is None:
        rows: list[dict] = []
        work = np.cumsum([0.0] + [_part_seconds(grid, p) for p in todo])
        for i, part in enumerate(todo):
            report = None if progress is None else _part_progress(
                grid, part, (len(rows), work[i] / work[-1], work[i + 1] / work[-1]), progress)
            rows += _train_part(grid, part, report)
    else:
        rows = _parallel(grid, todo, jobs, dask)
    by_cell = {(r["value"], r["norm"], r["seed"]): r for r in rows}
    return results_table([by_cell[c] for c in grid.cells()])


def _part_seconds(grid: SweepGrid, part: list[tuple]) -> float:
    return estimate_seconds(grid, [grid.cell(*c) for c in part])


def _part_progress(grid: SweepGrid, part: list[tuple], where: tuple[int, float, float], progress):
    """train_many's fraction of one part -> the grid's fraction, and the runs being trained, named."""
    before, lo, hi = where
    label = describe_part(grid, part, before)

    def report(fraction: float) -> None:
        progress(float(lo + (hi - lo) * min(max(fraction, 0.0), 1.0)), label)
    return report


def describe_part(grid: SweepGrid, part: list[tuple], before: int = 0) -> str:
    """'Training run 5 of 48: learning rate 0.1, batch norm, seed 2' for one run; for a stack
    'Training runs 25–48 of 48 together: batch norm, learning rates 0.003 to 10, seeds 0 to 2'."""
    if len(part) == 1:
        return f"Training run {before + 1} of {grid.size}: " + describe_cell(grid, part[0])
    values, norms, seeds = (list(dict.fromkeys(c[i] for c in part)) for i in range(3))
    what = [_span(AXES[grid.axis], values), ", ".join(map(_label, norms)), _span("seed", seeds)]
    if len(values) > 1:  # the axis varies within the stack: say the norm first
        what[0], what[1] = what[1], what[0]
    return (f"Training runs {before + 1}–{before + len(part)} of {grid.size} together: " + ", ".join(what))


def _span(name: str, values: list) -> str:
    """'seed 2', 'seeds 0 to 2', 'learning rates 0.003 to 10' (the smallest to the largest)."""
    if len(values) == 1:
        return f"{name} {values[0]:g}"
    return f"{name if name.endswith('s') else name + 's'} {min(values):g} to {max(values):g}"


def _parallel(grid: SweepGrid, todo: list[list[tuple]], jobs: int, dask: str | None) -> list[dict]:
    import joblib  # comes with scikit-learn

    if dask is None:  # one BLAS thread a process: N processes on N cores, not N x N threads
        with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
            out = joblib.Parallel(n_jobs=jobs)(joblib.delayed(_train_part)(grid, p) for p in todo)
        return [row for part in out for row in part]
    try:
        from distributed import Client
    except ImportError as err:  # an optional extra
        raise RuntimeError("--dask needs dask.distributed: pip install 'dask[distributed]'") from err
    with Client(dask), joblib.parallel_backend("dask"):
        out = joblib.Parallel(n_jobs=-1)(joblib.delayed(_train_part)(grid, p) for p in todo)
    return [row for part in out for row in part]


# ---------------------------------------------------------------- over seeds


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per (value, norm): seeds, the share of each status, and the median, min and max over the seeds
    that did not diverge of the final loss and accuracy (NaN when every seed diverged).

    Columns: value, norm, seeds, diverged, did_not_learn, learned (shares), loss_median, loss_min,
    loss_max, acc_median, acc_min, acc_max, steps_median (to the target; NaN when no seed reached it),
    reached (share of seeds that reached the target).
    """
    out = []
    for (value, norm), g in results.groupby(["value", "norm"], sort=False):
        finite = g[g["status"] != "diverged"]
        steps = pd.to_numeric(g["steps_to_target"], errors="coerce").dropna()
        row = {"value": value, "norm": norm, "seeds": len(g),
               **{s.replace(" ", "_"): float((g["status"] == s).mean()) for s in STATUSES}}
        for name, col in (("loss", "final_loss"), ("acc", "final_accuracy")):
            vals = finite[col].to_numpy(float)
            row.update({f"{name}_median": float(np.median(vals)) if len(vals) else math.nan,
                        f"{name}_min": float(vals.min()) if len(vals) else math.nan,
                        f"{name}_max": float(vals.max()) if len(vals) else math.nan})
        row["steps_median"] = float(steps.median()) if len(steps) else math.nan
        row["reached"] = len(steps) / len(g)
        out.append(row)
    return pd.DataFrame(out)


def headline(results: pd.DataFrame) -> dict[str, float | None]:
    """Per normalization, the largest value at which it learned on every seed (None: at no value)."""
    out: dict[str, float | None] = {}
    for norm, g in results.groupby("norm", sort=False):
        every = g.groupby("value")["status"].agg(lambda s: bool((s == "learned").all()))
        good = every[every]
        out[norm] = float(good.index.max()) if len(good) else None
    return out


def _label(norm: str) -> str:
    return {"none": "no normalization", "batch": "batch norm", "layer": "layer norm", "group": "group norm",
            "rms": "RMS norm"}.get(norm, norm)


def headline_sentence(results: pd.DataFrame) -> str:
    """The measured headline, in plain words: each normalization's largest value learned on every
    seed and, on a learning-rate sweep, its ratio to no normalization's."""
    if results.empty:
        return "No runs."
    axis = AXES.get(str(results["axis"].iloc[0]), "value")
    seeds = results["seed"].nunique()
    best = headline(results)
    every = "every seed" if seeds > 1 else "its one seed"
    parts = [f"{_label(n)} learned on {every} up to {axis} {v:g}" if v is not None
             else f"{_label(n)} learned on {every} at none of the grid's values" for n, v in best.items()]
    text = "; ".join(parts) + "."
    base = best.get("none")
    if results["axis"].iloc[0] == "lr" and base:
        ratios = [f"{_label(n)} {v / base:.3g}×" for n, v in best.items() if n != "none" and v]
        if ratios:
            text += " Against no normalization: " + ", ".join(ratios) + " higher."
    return text


# ---------------------------------------------------------------- the command line


def main(argv: list[str] | None = None) -> int:
    from core.sweep_files import SweepFileError, read_grid, write_bundle

    parser = argparse.ArgumentParser(prog="python -m core.sweep", description="Run a sweep grid (TOML) "
                                     "and write its bundle (sweep.json + results.csv).")
    parser.add_argument("grid", help="the grid file (TOML; see core/sweep_files.py)")
    parser.add_argument("--out", required=True, help="directory to write the bundle to")
    parser.add_argument("--jobs", type=int, default=1, help="processes on this machine (joblib)")
    parser.add_argument("--dask", default=None, help="a Dask scheduler, tcp://HOST:8786 (optional extra)")
    args = parser.parse_args(argv)
    try:
        grid = read_grid(args.grid)
    except SweepFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()

    last = [""]

    def progress(fraction: float, label: str) -> None:  # one line a stack of runs
        if label != last[0]:
            last[0] = label
            print(f"{100 * fraction:5.1f} %  {label}", file=sys.stderr, flush=True)

    try:
        results = run_sweep(grid, jobs=args.jobs, dask=args.dask, progress=progress)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    paths = write_bundle(args.out, grid, results)
    print(f"{grid.size} runs in {elapsed:.1f} s ({elapsed / grid.size:.2f} s a run); wrote "
          + ", ".join(str(p) for p in paths), file=sys.stderr)
    print(headline_sentence(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
