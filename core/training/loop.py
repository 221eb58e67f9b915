"""The training loop, on a stack of runs: ``train_many`` and ``train``.

Runs that share the data set and its size, the architecture and the schedule
(``core.training.config.stack_key``) train as one *stack*: one ``MLP`` with
``runs=R`` holds R independent networks, each with its own seed (data, split,
initial weights, batches), learning rate, momentum, weight decay and
initialisation, and every numpy call of a step serves all R of them. Each
run's History is what training it alone gives: the arithmetic of run r never
reads another run's numbers (``tests/core/test_train_many.py``).

One step, top to bottom (``_loop``): forward the batches (R, b, d), the
losses (R,), backward, the optimizer's step; at a recorded step the
snapshot (``_Stack.snapshot``) reads each run's layers before its backward,
then evaluates the validation probe (and the boundary grid) and records.
A run whose loss or snapshot is not finite *diverges*: it stops recording
(its numbers may keep flowing through the stack: no other run reads them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from core.data import minibatches
from core.nn import MLP, BatchNorm1d, make_optimizer
from core.telemetry import STAGES, NonFinite, Recorder, finite_runs, tracked_units
from core.training.config import TrainConfig, stack_key
from core.training.history import MODE_SCHEMA, POINTS_SCHEMA, History, empty, points
from core.training.modes import bn_buffers, compare_modes, restore_bn
from core.training.prepare import BOUNDARY_RESOLUTION, Data, Schedule, Stacked, prepare, schedule, stack

__all__ = ["MAX_STACK", "network", "run_generators", "stacks", "train", "train_many"]

#: At most this many runs share one stack (more go to further stacks): the stacked
#: arrays grow with it, the per-call overhead it shares is already small at 30.
MAX_STACK = 32
#: Eval-mode passes over many rows go in chunks of at most this many rows: a few MB
#: of fresh temporaries per pass cost more in page faults than in arithmetic.
_PREDICT_ROWS = 256
#: Matrix products of at most this many multiply-adds run on one thread in
#: OpenBLAS (numpy's BLAS); bigger ones wake its other threads, which then spin.
_ONE_THREAD_MACS = 1 << 18


def train(config: TrainConfig, progress: Callable[[float], None] | None = None) -> History:
    """Train the network ``config`` describes and return its :class:`History`.

    Validates ``config`` first (ValueError naming the field). ``progress``, when
    given, is called with the fraction done (0 .. 1), at most about 100 times.
    Never raises on divergence: see ``core.training``. A stack of one run.
    """
    return train_many([config], progress)[0]


def train_many(configs, progress: Callable[[float], None] | None = None, *, probe=None,
               metrics_only: bool = False, boundaries=None) -> list[History]:
    """Train every config; the Histories in the order of ``configs``, each what ``train`` gives.

    Configs with equal ``stack_key`` train as one stack (at most ``MAX_STACK``
    runs), the others in further stacks; equal configs train once and share
    their History (read-only). Each History's ``wall_time`` is its stack's time
    shared equally among its runs. ``progress`` gets the fraction of all the work done.

    ``probe``, when given, is called at every snapshot of every stack as
    ``probe(configs, k, net, batch)`` after the backward pass of step k (the
    gradients are in the network) and before anything is evaluated or updated:
    ``configs`` are the stack's runs, ``batch`` the step's (xb, yb). A probe
    must leave the network as it found it (``core.explain`` measures with it).

    ``metrics_only``: the same runs, recorded less (what a sweep reads): the ``metrics`` frame, the
    steps and the divergence, the same values checked at every snapshot; the layer statistics, the
    normalization parameters, the decision boundary (its grid is not evaluated) and the train-vs-eval
    modes stay empty.

    ``boundaries``: the configs whose decision boundary is recorded (default: every one). The
    others' grids are not evaluated: their Histories are ``train``'s but for the boundary (None,
    and on a 2-D data set ``with_boundary`` False). A page that draws one seed's boundary asks for that seed's only.
    """
    configs = list(configs)
    for c in configs:
        c.validate()
    asked = set(configs if boundaries is None else boundaries)
    parts = stacks(configs)
    work = np.cumsum([0] + [len(s) * _cost(s[0]) for s in parts]) / sum(len(s) * _cost(s[0]) for s in parts)
    results: dict[TrainConfig, History] = {}
    # A diverging run overflows on purpose; it is detected and reported, not warned about.
    # (BLAS threads are left as the process set them: changing them here would change
    # them for every thread of the process, e.g. every other session of a dashboard.)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i, runs in enumerate(parts):
            part = None if progress is None else (
                lambda f, a=work[i], b=work[i + 1]: progress(float(a + (b - a) * f)))
            t0 = time.perf_counter()
            histories = _train_stack(runs, part, probe, metrics_only, asked)
            for c, h in zip(runs, histories, strict=True):
                h.wall_time = (time.perf_counter() - t0) / len(runs)
                results[c] = h
    return [results[c] for c in configs]


def stacks(configs) -> list[list[TrainConfig]]:
    """The stacks ``train_many`` trains ``configs`` in, in order: the unique configs grouped by
    ``stack_key`` (first seen first), at most ``MAX_STACK`` runs a stack."""
    groups: dict[TrainConfig, list[TrainConfig]] = {}
    for c in dict.fromkeys(configs):  # unique, in order
        groups.setdefault(stack_key(c), []).append(c)
    return [g[i:i + MAX_STACK] for g in groups.values() for i in range(0, len(g), MAX_STACK)]


def _cost(c: TrainConfig) -> float:
    """A run's work, roughly (steps x samples x weights), to weigh the progress of stacks."""
    return c.epochs * c.n_samples * (c.depth * c.width**2 + c.width)


def run_generators(config: TrainConfig) -> list[np.random.Generator]:
    """A run's three generators, from its seed: the split, the initial weights, the batches."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)]


def noise_generator(config: TrainConfig) -> np.random.Generator:
    """A run's fourth generator, noisy batch norm's noise: a stream of its own, so the split, the
    initial weights and the batches are those of the same run with any other norm."""
    return np.random.default_rng(np.random.SeedSequence(config.seed).spawn(4)[3])


def network(configs: list[TrainConfig], in_features: int, out_features: int, rngs_init: list) -> MLP:
    """The stacked network of ``configs`` (one stack key), each run's weights drawn from its generator
    (and with noisy batch norm, its noise from its :func:`noise_generator`). Batch-norm runs in a stack
    with noisy ones are noisy batch norm without noise (s = 1, m = 0): exactly batch norm."""
    c = configs[0]
    noisy = any(x.norm == "noisy_batch" for x in configs)
    return MLP(
        in_features, out_features, depth=c.depth, width=c.width, activation=c.activation,
        norm="noisy_batch" if noisy else c.norm, norm_position=c.norm_position, init=[x.init for x in configs],
        init_scale=[x.init_scale for x in configs], rng=rngs_init, dtype=np.float32,
        momentum=c.bn_momentum, groups=c.groups, runs=len(configs),
        noise_rng=[noise_generator(x) if x.norm == "noisy_batch" else None for x in configs] if noisy else None,
    )


def _train_stack(configs: list[TrainConfig], progress, probe=None, metrics_only: bool = False,
                 asked=frozenset()) -> list[History]:
    """Train configs that share a stack key; their Histories in order. ``asked``: the configs whose
    decision boundary is recorded."""
    seeds = [run_generators(c) for c in configs]
    datas = [prepare(c, split) for c, (split, _, _) in zip(configs, seeds, strict=True)]
    data = stack(datas)
    sched = schedule(configs[0], datas[0])
    run = _Stack(configs, data, sched, [init for _, init, _ in seeds], probe, metrics_only, asked)
    if progress is not None:
        progress(0.0)
    k, last = _loop(run, [batches for _, _, batches in seeds], configs[0].epochs, progress)
    for log in run.alive_logs():
        log.steps_done = k
    _last_snapshot(run, k, last)
    alive = [r for r, log in enumerate(run.logs) if log.diverged_at is None]
    modes = {} if metrics_only or not alive else compare_modes(run.net, data.task, data.probe, data.probe_y,
                                                                 sched.batch_size, alive)
    if progress is not None:
        progress(1.0)
    blank = _blank_frames(run.logs[0].rec) if metrics_only else None
    return [_history(log, sched, modes.get(r), blank, r in run.asked) for r, log in enumerate(run.logs)]


class _Log:
    """What one run of a stack has recorded: its recorder, boundaries, divergence and steps."""

    def __init__(self, config: TrainConfig, data: Data):
        self.config, self.data = config, data
        self.rec = Recorder(depth=config.depth, width=config.width, activation=config.activation,
                            norm=config.norm, norm_position=config.norm_position)
        self.boundaries: list[np.ndarray] = []
        self.boundary_steps: list[int] = []
        self.diverged_at: int | None = None
        self.steps_done = 0


class _Stack:
    """A stacked network in training and what each of its runs records (the loop is :func:`_loop`)."""

    def __init__(self, configs: list[TrainConfig], data: Stacked, sched: Schedule, rngs_init: list, probe=None,
                 metrics_only: bool = False, asked=frozenset()):
        c, R = configs[0], len(configs)
        self.data, self.sched = data, sched
        self.net = network(configs, data.X_tr.shape[2], data.task.out_features, rngs_init)
        self.opt = make_optimizer(c.optimizer, [x.lr for x in configs], momentum=[x.momentum for x in configs],
                                  weight_decay=[x.weight_decay for x in configs], dtype=np.float32)
        self.params = self.net.flat()  # the whole stack as one (R, P) array: a few operations per update
        self.logs = [_Log(x, d) for x, d in zip(configs, data.runs, strict=True)]
        self.alive = np.ones(R, bool)
        self.rows = _predict_rows(self.net)
        # the runs asked to record their decision boundary, and those that draw one (a 2-D data set);
        # when not all of them do, their grids go through a smaller stack of a copy of just those runs
        self.asked = [] if metrics_only else [r for r, x in enumerate(configs) if x in asked]
        self.drawn = self.asked if data.grid.shape[1] else []
        self.grid_net = None if len(self.drawn) in (0, R) else network(
            [configs[r] for r in self.drawn], data.X_tr.shape[2], data.task.out_features,
            [rngs_init[0]] * len(self.drawn))  # (its weights are copied in before every grid pass)
        self.last_ratio = np.zeros((R, c.depth))
        self.seen = [np.zeros(R), np.zeros(R), 0]  # batches since the last snapshot: sums of losses, scores; count
        self.since: list[tuple[int, np.ndarray, np.ndarray]] = []  # and each one's (step, losses, scores)
        self.snapshots = 0  # taken so far
        self.probe = probe  # called at each snapshot (see train_many)
        self.metrics_only = metrics_only  # checked as in full, recorded: the metrics only

    def alive_logs(self) -> list[_Log]:
        return [log for log, ok in zip(self.logs, self.alive, strict=True) if ok]

    def count(self, k: int, loss: np.ndarray, score: np.ndarray, *, trace: bool = True) -> None:
        """The batches' losses and scores (R,), towards the next snapshot's training metrics (and,
        with ``trace``, kept step by step for a run that diverges before that snapshot)."""
        self.seen[0] = self.seen[0] + loss
        self.seen[1] = self.seen[1] + score
        self.seen[2] += 1
        if trace:
            self.since.append((k, loss, score))

    def diverge(self, r: int, k: int) -> None:
        """Run r diverged at step k: it stops recording; its training batches' losses since the last
        snapshot are recorded up to the divergence, so its curve shows how it blew up."""
        if not self.alive[r]:
            return
        self.alive[r] = False
        log = self.logs[r]
        log.diverged_at = log.steps_done = k
        for step, loss, score in self.since:
            train_score = score[r] if log.data.task.task == "classification" else log.data.task.score(None, None, loss[r])
            try:
                log.rec.commit(log.rec.metrics_part(step, step / self.sched.steps_per_epoch,
                                                    {"train": (loss[r], train_score)}))
            except NonFinite:
                break

    def _layer_parts(self, k: int) -> dict[int, tuple]:
        """Per run alive: (layer part, norm part, saturated (depth,)) of step k's forward pass; a run
        with a value that is not finite diverges (and has none). Metrics only: the same values checked
        for the whole stack at once, nothing summarised (parts None)."""
        if self.metrics_only:
            norms = [log.config.norm for log in self.logs]
            for r in np.flatnonzero(self.alive & ~finite_runs(self.net.blocks, norms)):
                self.diverge(r, k)
            return {r: (None, None, np.zeros(self.net.depth)) for r in np.flatnonzero(self.alive)}
        parts = {}
        for r in np.flatnonzero(self.alive):
            run_blocks, rec = _run_blocks(self.net.blocks, r), self.logs[r].rec
            try:
                layer_part, saturated = rec.layers_part(k, run_blocks)
                parts[r] = (layer_part, rec.norm_part(k, run_blocks), saturated)
            except NonFinite:
                self.diverge(r, k)
        return parts

    def grid_pass(self) -> dict[int, np.ndarray]:
        """Run r -> its eval-mode output on its boundary grid (G, out_features), for the drawn runs."""
        if not self.drawn:
            return {}
        if self.grid_net is None:  # every run draws its boundary
            out = _eval_pass(self.net, self.data.grid, self.rows)
        else:
            self.grid_net.load_runs(self.net, self.drawn)
            out = _eval_pass(self.grid_net, self.data.grid[self.drawn], self.rows)
        return dict(zip(self.drawn, out, strict=True))

    def step(self) -> None:
        self.opt.step(self.params)

    def step_with_ratio(self) -> np.ndarray:
        """One optimizer step; returns (R, depth) ||ΔW|| / ||W|| of each hidden Dense weight (0 where W = 0)."""
        blocks = self.net.blocks
        before = [b.dense.W.copy() for b in blocks]
        self.step()
        ratio = np.zeros((len(self.logs), len(blocks)))
        for i, (b, w0) in enumerate(zip(blocks, before, strict=True)):
            w_norm = _norms(w0)
            np.subtract(b.dense.W, w0, out=w0)
            ratio[:, i] = np.where(w_norm > 0, _norms(w0) / np.where(w_norm > 0, w_norm, 1.0), 0.0)
        return ratio

    def snapshot(self, k: int, grad: np.ndarray, batch: tuple, update: bool) -> None:
        """Record step k from the forward pass just made, then run its backward (and update).

        Order matters: the layer values are read before the eval pass (it
        overwrites what the layers keep for backward), gradient norms after
        backward, metrics on the weights before the update. A run whose
        snapshot holds a value that is not finite diverges (nothing of it is kept); a decision
        boundary that is not finite is only left out.
        """
        task, blocks = self.data.task, self.net.blocks
        parts = self._layer_parts(k)
        self.net.backward(grad)
        if self.probe is not None:
            self.probe([log.config for log in self.logs], k, self.net, batch)
        out = _eval_pass(self.net, self.data.probe, self.rows)
        grids = self.grid_pass() if k in self.sched.boundary_at else {}
        train_loss = self.seen[0] / self.seen[2]
        # classification: the batches' mean accuracy; regression: R² of the mean loss
        train_score = self.seen[1] / self.seen[2] if task.task == "classification" else task.score(None, None, train_loss)
        val_loss, val_score = task.evaluate(out, self.data.probe_y)
        grad_norm = np.stack([_norms(b.dense.grad_W) for b in blocks], axis=1)  # (R, depth)
        weight_norm = np.stack([_norms(b.dense.W) for b in blocks], axis=1)
        ratio = self.step_with_ratio() if update else self.last_ratio
        for r, (layer_part, norm_part, saturated) in parts.items():
            log = self.logs[r]
            try:
                metric_part = log.rec.metrics_part(k, k / self.sched.steps_per_epoch, {
                    "train": (train_loss[r], train_score[r]), "val": (val_loss[r], val_score[r])})
                health = log.rec.health_part(k, saturated, grad_norm[r], weight_norm[r], ratio[r])
            except NonFinite:
                self.diverge(r, k)
                continue
            log.rec.commit(*(() if self.metrics_only else (layer_part, norm_part, health)), metric_part)
            b = log.data.task.boundary(grids[r]) if r in grids else None
            # a boundary not finite is left out, the run goes on: its outputs on the data are finite, the
            # grid's reach past the data (so a run's records are the same with its boundary and without)
            if b is not None and np.isfinite(b).all():
                log.boundaries.append(b.astype(np.float32).reshape(BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION))
                log.boundary_steps.append(k)
        self.last_ratio = ratio
        self.snapshots += 1
        self.seen = [np.zeros(len(self.logs)), np.zeros(len(self.logs)), 0]
        self.since.clear()


def _loop(run: _Stack, rngs_batches: list, epochs: int, progress) -> tuple[int, tuple]:
    """Train: forward, loss, backward, step, and a snapshot at each recorded step.

    Every run draws its own batches (same sizes: the runs share n and the batch
    size). Returns (steps done, the last batch (xb, yb)); stops early when every run diverged.
    """
    net, task, sched, data = run.net, run.data.task, run.sched, run.data
    every_run = np.arange(len(run.logs))[:, None]
    k = next_i = 0
    last = (None, None)
    for _epoch in range(epochs):
        batches = [minibatches(data.X_tr.shape[1], sched.batch_size, rng) for rng in rngs_batches]
        order = np.stack([np.concatenate(b) for b in batches])  # (R, n_train)
        Xe, Ye = data.X_tr[every_run, order], data.Y_tr[every_run, order]
        start = 0
        for size in map(len, batches[0]):
            xb, yb = Xe[:, start:start + size], Ye[:, start:start + size]
            start += size
            last = (xb, yb)
            net.resample_noise()  # noisy batch norm: this step's noise (no other norm has any)
            out = net.forward(xb, training=True)
            loss, grad = task.loss(out, yb)
            for r in np.flatnonzero(run.alive & ~np.isfinite(loss)):
                run.diverge(r, k)
            if not run.alive.any():
                return k, last
            run.count(k, loss, task.score(out, yb, loss))
            if k == sched.record_steps[next_i]:
                run.snapshot(k, grad, last, update=True)
                if not run.alive.any():
                    return k, last
                next_i += 1
            else:
                net.backward(grad)
                if k == sched.total - 1:
                    run.last_ratio = run.step_with_ratio()
                else:
                    run.step()
            k += 1
            if progress is not None and k % sched.progress_every == 0:
                progress(0.95 * k / sched.total)
    return k, last


def _last_snapshot(run: _Stack, k: int, last: tuple) -> None:
    """The trained weights recorded, the last batch fed once more (nothing updated); a run whose
    weights or loss are not finite diverges at step k."""
    finite = np.isfinite(run.params[0][1]).all(axis=1)
    for r in np.flatnonzero(run.alive & ~finite):
        run.diverge(r, k)
    xb, yb = last
    if not run.alive.any() or xb is None or run.snapshots == len(run.sched.record_steps):
        return  # (the loop recorded step k already)
    saved = bn_buffers(run.net)
    out = run.net.forward(xb, training=True)
    restore_bn(saved)  # keep the trained running statistics (the batch's own stay visible)
    task = run.data.task
    loss, grad = task.loss(out, yb)
    for r in np.flatnonzero(run.alive & ~np.isfinite(loss)):
        run.diverge(r, k)
    if run.alive.any():
        run.count(k, loss, task.score(out, yb, loss), trace=False)
        run.snapshot(k, grad, last, update=False)


def _history(log: _Log, sched: Schedule, modes: tuple | None, blank: dict | None = None,
             asked: bool = True) -> History:
    """A run's History. blank (metrics only): its frames but the metrics, empty, built once a stack
    (each History gets its own copies). ``asked``: its decision boundary was asked for (on a data set
    that is not 2-D there is none to ask for: the History has all it could have either way)."""
    c, data = log.config, log.data
    task, two_d = data.task, data.two_d
    with_grid = two_d and asked
    if blank is not None:
        frames = {**{name: f.copy() for name, f in blank.items()}, "metrics": log.rec.metrics_frame()}
    else:
        modes = modes or (empty(MODE_SCHEMA["mode_metrics"]), empty(MODE_SCHEMA["mode_layers"]))
        frames = {**log.rec.frames(), "mode_metrics": modes[0], "mode_layers": modes[1],
                  "points": points(data.ds, data.X_raw, data.tr, data.va) if two_d else empty(POINTS_SCHEMA)}
    boundary = np.stack(log.boundaries) if log.boundaries else (
        np.zeros((0, BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION), np.float32) if with_grid else None)
    return History(
        config=c, task=task.task, n_classes=task.n_classes, accuracy_name=task.accuracy_name,
        n_train=len(data.tr), n_val=len(data.va), steps=sched.total, steps_per_epoch=sched.steps_per_epoch,
        steps_done=log.steps_done, record_steps=np.asarray(sched.record_steps, np.int32),
        diverged=log.diverged_at is not None, diverged_at=log.diverged_at, wall_time=0.0,
        **frames, tracked_units=tracked_units(c.width), boundary=boundary,
        boundary_steps=np.asarray(log.boundary_steps, np.int32),
        boundary_x1=np.asarray(data.gx1 if with_grid else [], np.float32),
        boundary_x2=np.asarray(data.gx2 if with_grid else [], np.float32),
        boundary_value=task.boundary_value if with_grid else "", with_boundary=asked or not two_d,
    )


def _blank_frames(rec: Recorder) -> dict:
    """A metrics-only run's frames but the metrics: empty (its recorder kept nothing else)."""
    frames = {name: f for name, f in rec.frames().items() if name != "metrics"}
    return {**frames, "mode_metrics": empty(MODE_SCHEMA["mode_metrics"]),
            "mode_layers": empty(MODE_SCHEMA["mode_layers"]), "points": empty(POINTS_SCHEMA)}


# ---------------------------------------------------------------------- helpers


def _run_blocks(blocks, r: int) -> list[SimpleNamespace]:
    """Run r's view of a stack's hidden blocks, as the telemetry reads them: the stages' values
    (n, width) (a stage that is another's array stays the same array) and the norm's parameters
    and statistics (width,)."""
    views = []
    for b in blocks:
        taken: dict[int, np.ndarray] = {}
        stages = {s: taken.setdefault(id(getattr(b, s)), getattr(b, s)[r]) for s in STAGES}
        views.append(SimpleNamespace(**stages, norm=_norm_view(b.norm, r)))
    return views


def _norm_view(norm, r: int) -> SimpleNamespace | None:
    if norm is None:
        return None
    names = ["gamma", "beta"]
    if isinstance(norm, BatchNorm1d):
        names += ["batch_mean", "batch_var", "running_mean", "running_var"]
    return SimpleNamespace(**{a: None if getattr(norm, a) is None else getattr(norm, a)[r, 0]
                              for a in names if hasattr(norm, a)})


def _norms(a: np.ndarray) -> np.ndarray:
    """(R, ...) -> (R,): the L2 norm of each run's slice; a float32 sum of squares, redone in
    float64 where it overflowed (inf and NaN stay so)."""
    v = a.reshape(len(a), -1)
    sq = np.einsum("ij,ij->i", v, v)
    bad = ~np.isfinite(sq)
    if bad.any():
        sq = sq.astype(np.float64)
        w = v[bad].astype(np.float64)
        sq[bad] = np.einsum("ij,ij->i", w, w)
    return np.sqrt(sq)


def _predict_rows(net: MLP) -> int:
    """Rows per eval-mode pass: _PREDICT_ROWS, or fewer (at least 64) when that keeps every
    product on one BLAS thread, as the training steps of a small network are (same speed on
    an idle machine, half the CPU time, and no waiting for busy threads on a loaded one)."""
    widest = max(net.in_features, net.width if net.depth else 0, net.out_features)
    rows = _ONE_THREAD_MACS // (widest * widest)
    return rows if 64 <= rows < _PREDICT_ROWS else _PREDICT_ROWS


def _eval_pass(net: MLP, X: np.ndarray, rows: int) -> np.ndarray:
    """X: (R, m, in_features) -> (R, m, out_features): the eval-mode output, ``rows`` rows at a
    time (rows are independent in eval mode). Overwrites the blocks' recorded values (read them before)."""
    m = X.shape[1]
    if m <= rows:
        return net.forward(X, training=False)
    return np.concatenate([net.forward(X[:, a:a + rows], training=False) for a in range(0, m, rows)], axis=1)
