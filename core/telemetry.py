"""Telemetry: what a training run records, aggregated in core and kept compact.

A :class:`Recorder` is fed *snapshots* of a network (at the cadence the
training loop chooses) and turns them into tidy pandas DataFrames whose size
depends on the number of snapshots, layers and (at most 32) tracked units --
never on the number of samples or steps:

- ``metrics`` (step, epoch, split, loss, accuracy): what the training loop
  measured (see ``core.training``);
- ``layer_stats`` (step, layer, stage, mean, std, p15, p50, p85): the
  distribution of each hidden layer's values at four *stages* (see
  :data:`STAGES`), over the snapshot's batch;
- ``histograms`` (step, layer, stage, bin, bin_left, bin_right, overflow,
  fraction): the same values on *fixed* bins (:func:`bin_edges`) that depend
  only on the stage, the activation and the norm position -- never on the data
  -- so every run of a comparison and every step share them. Two ``overflow``
  bins, one bin wide, just outside the edges, count everything beyond them.
  Only bins holding something are kept (a missing bin means a fraction of 0);
  the fractions of a (step, layer, stage) sum to 1;
- ``layer_health`` (step, layer, saturated, grad_norm, weight_norm,
  update_ratio): per layer, the fraction of the activation's outputs where its
  slope is below 10% of its maximum (:func:`saturated_fraction`; relu: output
  0), and the L2 norms of the Dense weight's gradient and of the weight, and
  the size of its update relative to the weight;
- ``norm_params`` (step, layer, unit, gamma, beta): γ and β of the tracked
  units of each normalization layer (RMSNorm has no β: its β is 0, the
  shift it amounts to);
- ``norm_param_bands`` (step, layer, param, mean, q05, q25, q50, q75, q95):
  γ and β summarised over *all* units of each layer, for a band chart;
- ``running_stats`` (step, layer, unit, batch_mean, batch_var, running_mean,
  running_var): batch norm's statistics of the snapshot's batch against its
  running estimates, for the tracked units (empty without batch norm).

Layers are numbered from 1 (the first hidden layer) to ``depth``. Every value
is finite: a snapshot is checked as a whole before anything of it is kept
(:class:`NonFinite` is raised instead), so a caller can drop it and stop.

Speed: each snapshot is a handful of vectorised operations over all layers at
once; quantiles and histograms use at most :data:`MAX_VALUES` values per
layer and stage (the first rows of the batch, which is shuffled).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.params import Spec, check

__all__ = [
    "STAGES",
    "QUANTILES",
    "MAX_TRACKED_UNITS",
    "MAX_VALUES",
    "NonFinite",
    "finite_runs",
    "layer_rows",
    "stage_groups",
    "Recorder",
    "bin_edges",
    "saturated_fraction",
    "quantiles",
    "summarize",
    "tracked_units",
    "typed_frame",
]

#: The four places in a hidden block whose values are recorded. Names follow
#: ``core.network.Block``: with ``norm_position="before"`` a block is
#: Dense -> norm -> activation, so ``post_norm`` *is* ``pre_activation``; with
#: ``"after"`` it is Dense -> activation -> norm, so ``pre_norm`` *is*
#: ``post_activation``. Without normalization, ``pre_norm`` and ``post_norm``
#: are the values at the place where the norm would be (and equal). Every
#: stage is recorded under its own name, so a chart asks for what it means
#: ("the inputs of the sigmoid" = ``pre_activation``) whatever the config.
STAGES = ("pre_norm", "post_norm", "pre_activation", "post_activation")

QUANTILES = (0.15, 0.50, 0.85)
MAX_TRACKED_UNITS = 32
MAX_VALUES = 2048

# The range of each activation's output, and the bins used on it.
_ACT_RANGE = {
    "sigmoid": (0.0, 1.0, 25),
    "tanh": (-1.0, 1.0, 25),
    "relu": (0.0, 7.0, 28),
    "identity": (-3.5, 3.5, 28),
}
_SYMMETRIC = (-3.5, 3.5, 28)  # unbounded values: 28 bins of 0.25

# Saturation: where the activation's slope is below 10% of its maximum.
# sigmoid: s(1-s) <= 0.025 <=> s <= 0.0263 or s >= 0.9737 (|x| >= 3.6);
# tanh: 1 - t^2 <= 0.1 <=> |t| >= 0.949 (|x| >= 1.82); relu: output exactly 0.
_SIGMOID_LOW = 0.5 - np.sqrt(0.25 - 0.025)
_TANH_HIGH = np.sqrt(0.9)
# An output is saturated when it is <= low or >= high (None: no bound on that side).
_SATURATED = {
    "sigmoid": (_SIGMOID_LOW, 1.0 - _SIGMOID_LOW),
    "tanh": (-_TANH_HIGH, _TANH_HIGH),
    "relu": (0.0, None),
}


class NonFinite(ValueError):
    """A snapshot held a NaN or an infinity; nothing of it was recorded."""


def bin_edges(stage: str, activation: str, norm_position: str) -> np.ndarray:
    """The in-range bin edges for ``stage``: (n_bins + 1,) float64.

    Values of an activation's output (``post_activation``, and ``pre_norm``
    when the norm comes after the activation) use the activation's range
    (sigmoid [0, 1], tanh [-1, 1], relu [0, 7]); everything else uses
    [-3.5, 3.5] in bins of 0.25. Recorded histograms add one overflow bin on
    each side for the values outside these edges.
    """
    check("stage", stage, Spec("choice", choices=STAGES))
    is_act_output = stage == "post_activation" or (stage == "pre_norm" and norm_position == "after")
    lo, hi, n = _ACT_RANGE[activation] if is_act_output else _SYMMETRIC
    return np.linspace(lo, hi, n + 1)


def tracked_units(width: int, limit: int = MAX_TRACKED_UNITS) -> np.ndarray:
    """The units whose γ, β and running statistics are kept: all, or ``limit`` evenly spaced."""
    if width <= limit:
        return np.arange(width)
    return np.unique(np.round(np.linspace(0, width - 1, limit)).astype(np.int64))


def saturated_fraction(values: np.ndarray, activation: str, axis=None):
    """Fraction of activation outputs where its slope is below 10% of its maximum.

    sigmoid: output <= 0.026 or >= 0.974; tanh: |output| >= 0.949; relu:
    output exactly 0 (inactive, no gradient); identity: never (0).
    """
    if activation not in _SATURATED:
        return np.zeros(values.shape[0]) if axis is not None else 0.0
    low, high = _SATURATED[activation]
    hit = values <= low
    if high is not None:
        hit |= values >= high
    return hit.mean(axis=axis)


def _saturated_sorted(sorted_rows: np.ndarray, activation: str) -> np.ndarray:
    """:func:`saturated_fraction` of each *sorted* row (layers, m) -> (layers,), by binary search."""
    low, high = _SATURATED.get(activation, (None, None))
    m = sorted_rows.shape[1]
    # v <= low  <=>  v < the next float64 after low; the rows are compared in float64
    probes = np.array([-np.inf if low is None else np.nextafter(low, np.inf), np.inf if high is None else high])
    counts = np.array([np.searchsorted(row, probes) for row in sorted_rows]).reshape(-1, 2)
    return (counts[:, 0] + (m - counts[:, 1])) / m


def quantiles(sorted_rows: np.ndarray, qs) -> np.ndarray:
    """Quantiles ``qs`` of each row of an already sorted (rows, m) array: (len(qs), rows).

    Linear interpolation, as ``np.quantile``'s default, without its overhead.
    """
    m = sorted_rows.shape[1]
    pos = np.asarray(qs, dtype=np.float64) * (m - 1)
    lo = np.floor(pos).astype(np.int64)
    k = len(lo)
    v = np.take(sorted_rows, np.concatenate([lo, np.minimum(lo + 1, m - 1)]), axis=1).astype(np.float64)
    v_lo, v_hi = v[:, :k], v[:, k:]
    return (v_lo + (v_hi - v_lo) * (pos - lo)).T


def summarize(values: np.ndarray) -> dict[str, np.ndarray]:
    """mean, std, p15, p50, p85 of each row of ``values`` (layers, m), in float64."""
    return dict(zip(_STAT_NAMES, _summary(np.sort(values, axis=1)), strict=True))


def _summary(sorted_rows: np.ndarray) -> np.ndarray:
    """(5, rows): mean, std (computed in float64), p15, p50, p85 of sorted rows."""
    q = quantiles(sorted_rows, QUANTILES)
    v = sorted_rows.astype(np.float64)
    w = np.full(v.shape[1], 1.0 / v.shape[1])
    mean = v @ w  # means and variances as matrix-vector products: faster than .mean() and .std()
    v -= mean[:, None]
    np.square(v, out=v)
    return np.vstack([mean, np.sqrt(v @ w), q])


_STAT_NAMES = ("mean", "std", "p15", "p50", "p85")
_BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _histogram(sorted_rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fractions of each *sorted* row (layers, m) in [underflow, bins..., overflow].

    Bins are [left, right) except the last in-range bin, which includes its
    right edge. Returns (layers, n_bins + 2). Exact: counts come from binary
    searches of the edges in each sorted row.
    """
    layers, m = sorted_rows.shape
    n = len(edges) - 1
    probes = edges.astype(sorted_rows.dtype)
    # v <= the last edge  <=>  v < the next float after it: one search per row finds every position
    probes[-1] = np.nextafter(probes[-1], probes.dtype.type(np.inf))
    pos = np.empty((layers, n + 3), np.int64)  # positions of: start, edges..., end
    pos[:, 0], pos[:, -1] = 0, m
    for i, row in enumerate(sorted_rows):
        pos[i, 1:-1] = np.searchsorted(row, probes)
    return np.diff(pos, axis=1) / m


def layer_rows(n: int, width: int) -> int:
    """How many of a batch's n rows a snapshot reads: at most MAX_VALUES values a layer and stage."""
    return max(1, min(n, -(-MAX_VALUES // width)))


def stage_groups(block) -> dict[int, list[str]]:
    """A block's stages by the array that holds them: stages holding the same array are read once."""
    groups: dict[int, list[str]] = {}
    for stage in STAGES:
        groups.setdefault(id(getattr(block, stage)), []).append(stage)
    return groups


def finite_runs(blocks, norms) -> np.ndarray:
    """(R,) whether each run's snapshot values are finite, for a stack at once: what a snapshot checks
    (:meth:`Recorder.layers_part`: the first rows of every stage; :meth:`Recorder.norm_part`: every γ
    and β, batch norm's statistics of the tracked units), without summarising anything. blocks: the
    stacked hidden blocks, stages (R, n, width), the norm's arrays (R, 1, width); norms: each run's
    normalization (batch norm's statistics are checked for the "batch" runs)."""
    R, n, width = blocks[0].pre_norm.shape
    rows, units = layer_rows(n, width), tracked_units(width)
    ok = np.ones(R, bool)
    for names in stage_groups(blocks[0]).values():
        for b in blocks:
            ok &= np.isfinite(getattr(b, names[0])[:, :rows]).all(axis=(1, 2))
    batch = np.array([norm == "batch" for norm in norms])
    for b in blocks:
        if b.norm is None:
            continue
        for a in (getattr(b.norm, a) for a in ("gamma", "beta") if hasattr(b.norm, a)):
            ok &= np.isfinite(a).reshape(R, -1).all(axis=1)
        if batch.any() and getattr(b.norm, "batch_mean", None) is not None:
            for a in ("batch_mean", "batch_var", "running_mean", "running_var"):
                ok &= ~batch | np.isfinite(getattr(b.norm, a)[..., units]).reshape(R, -1).all(axis=1)
    return ok


class Recorder:
    """Collects snapshots of an MLP's hidden blocks; :meth:`frames` gives the tidy tables.

    ``activation``, ``norm`` and ``norm_position`` are the network's; ``width``
    its hidden width. A snapshot is made of *parts* (``*_part`` methods), each
    checked when made -- :class:`NonFinite` is raised when a value is not
    finite -- and kept together by :meth:`commit`, so a snapshot is recorded
    whole or not at all. Parts hold compact arrays; the tidy frames are built
    once, by :meth:`frames`.
    """

    def __init__(self, *, depth: int, width: int, activation: str, norm: str, norm_position: str):
        self.depth, self.width = depth, width
        self.activation, self.norm, self.norm_position = activation, norm, norm_position
        self.units = tracked_units(width)
        self.edges = {s: bin_edges(s, activation, norm_position) for s in STAGES}
        self._parts: dict[str, list] = {k: [] for k in ("metrics", "layers", "health", "norm")}

    # ------------------------------------------------------------------ parts

    def metrics_part(self, step: int, epoch: float, values: dict[str, tuple[float, float]]) -> tuple:
        """``values`` maps split ("train" | "val") -> (loss, accuracy)."""
        for split, (loss, acc) in values.items():
            if not (np.isfinite(loss) and np.isfinite(acc)):
                raise NonFinite(f"{split} loss {loss} / accuracy {acc} at step {step}")
        return "metrics", [(step, epoch, split, float(loss), float(acc)) for split, (loss, acc) in values.items()]

    def layers_part(self, step: int, blocks) -> tuple[tuple, np.ndarray]:
        """Statistics and histograms of the blocks' last forward pass.

        blocks: the network's hidden blocks, each with ``pre_norm``,
        ``post_norm``, ``pre_activation``, ``post_activation`` arrays (n, width).
        Returns (part, saturated) with saturated: (depth,) the fraction of each
        layer's activation outputs that are saturated (:func:`saturated_fraction`).
        """
        rows, groups = layer_rows(blocks[0].pre_norm.shape[0], self.width), stage_groups(blocks[0])
        stats = np.empty((len(STAGES), len(_STAT_NAMES), self.depth))
        hists = {}
        saturated = None
        for names in groups.values():
            v = np.stack([getattr(b, names[0])[:rows] for b in blocks]).reshape(len(blocks), -1)
            v.sort(axis=1)
            if not np.isfinite(v[:, [0, -1]]).all():  # sorted: -inf first, inf and NaN last
                raise NonFinite(f"{names[0]} values at step {step}")
            summary = _summary(v)
            by_edges: dict[tuple, np.ndarray] = {}  # aliases may use different bins
            for stage in names:
                edges = self.edges[stage]
                key = (edges[0], edges[-1], len(edges))
                if key not in by_edges:
                    by_edges[key] = _histogram(v, edges)
                stats[STAGES.index(stage)] = summary
                hists[stage] = by_edges[key]
            if "post_activation" in names:
                saturated = _saturated_sorted(v, self.activation)
        return ("layers", (step, stats, hists)), saturated

    def health_part(self, step: int, saturated, grad_norm, weight_norm, update_ratio) -> tuple:
        """Per-layer arrays of length depth."""
        values = np.array([saturated, grad_norm, weight_norm, update_ratio], dtype=np.float64)
        if not np.isfinite(values).all():
            raise NonFinite(f"layer health at step {step}")
        return "health", (step, values)

    def norm_part(self, step: int, blocks) -> tuple | None:
        """γ and β (tracked units, and bands over all units) and batch norm's statistics."""
        if self.norm == "none":
            return None
        units, depth = self.units, len(blocks)
        params, running = self._norm_values(step, blocks)
        q = quantiles(np.sort(params, axis=1), _BAND_QUANTILES)  # (5, 2 * depth)
        # (2, 6, depth): per param, the mean then the quantiles
        bands = np.vstack([params.mean(axis=1)[None], q]).reshape(6, 2, depth).transpose(1, 0, 2)
        gamma, beta = params[:depth, units], params[depth:, units]
        return "norm", (step, gamma, beta, bands, running)

    def _norm_values(self, step: int, blocks) -> tuple[np.ndarray, np.ndarray | None]:
        """γ and β of every layer (2 * depth, width) and batch norm's statistics of the tracked units
        (4, depth, k) or None, checked: NonFinite when one is not finite."""
        units, depth = self.units, len(blocks)
        # γ and β of every layer as rows of one (2 * depth, width) array: one sort for both bands
        # RMSNorm has no β (no shift): its β rows are the constant 0 it amounts to
        betas = [getattr(b.norm, "beta", np.zeros_like(b.norm.gamma)) for b in blocks]
        params = np.stack([b.norm.gamma for b in blocks] + betas).astype(np.float64)
        running = None
        if self.norm == "batch" and blocks[0].norm.batch_mean is not None:
            n = [b.norm for b in blocks]
            stats = np.stack(
                [v for b in n for v in (b.batch_mean, b.batch_var, b.running_mean, b.running_var)]
            )  # (depth * 4, width)
            running = stats.reshape(depth, 4, -1)[:, :, units].transpose(1, 0, 2)  # (4, depth, k)
        if not np.isfinite(params).all() or (running is not None and not np.isfinite(running).all()):
            raise NonFinite(f"normalization parameters at step {step}")
        return params, running

    def commit(self, *parts) -> None:
        """Keep one snapshot's parts (None parts are skipped)."""
        for part in parts:
            if part is not None:
                self._parts[part[0]].append(part[1])

    # ------------------------------------------------------------------ output

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tidy tables, with compact dtypes; empty tables keep their columns."""
        out = {"metrics": self.metrics_frame()}
        out["layer_stats"] = self._layer_stats()
        out["histograms"] = self._histograms()
        out["layer_health"] = self._health()
        out.update(self._norm_frames())
        return out

    def metrics_frame(self) -> pd.DataFrame:
        """metrics: step, epoch, split, loss, accuracy."""
        m = [r for rows in self._parts["metrics"] for r in rows]
        return typed_frame({c: [r[i] for r in m] for i, c in enumerate(SCHEMAS["metrics"])}, SCHEMAS["metrics"])

    def _layer_stats(self) -> pd.DataFrame:
        """layer_stats: rows ordered by step, stage, layer."""
        depth, layer, layers = self.depth, np.arange(1, self.depth + 1), self._parts["layers"]
        n = len(layers)
        steps = np.array([p[0] for p in layers], np.int32)
        stats = np.stack([p[1] for p in layers]) if n else np.zeros((0, len(STAGES), 5, depth))
        cols = {
            "step": np.repeat(steps, len(STAGES) * depth),
            "layer": np.tile(layer, n * len(STAGES)),
            "stage": np.tile(np.repeat(np.arange(len(STAGES)), depth), n),
        }
        for i, name in enumerate(_STAT_NAMES):
            cols[name] = stats[:, :, i, :].ravel()
        return typed_frame(cols, SCHEMAS["layer_stats"])

    def _histograms(self) -> pd.DataFrame:
        """histograms: the non-empty bins of every stage, layer and step (most bins are empty)."""
        depth, layer, layers = self.depth, np.arange(1, self.depth + 1), self._parts["layers"]
        n = len(layers)
        steps = np.array([p[0] for p in layers], np.int32)
        pieces = []
        for si, stage in enumerate(STAGES):
            edges = self.edges[stage]
            nb = len(edges) + 1
            w = edges[1] - edges[0]
            left = np.r_[edges[0] - w, edges[:-1], edges[-1]]
            right = np.r_[edges[0], edges[1:], edges[-1] + w]
            frac = np.stack([p[2][stage] for p in layers]) if n else np.zeros((0, depth, nb))
            pieces.append({
                "step": np.repeat(steps, depth * nb),
                "layer": np.tile(np.repeat(layer, nb), n),
                "stage": np.full(n * depth * nb, si),
                "bin": np.tile(np.arange(nb), n * depth),
                "bin_left": np.tile(left, n * depth),
                "bin_right": np.tile(right, n * depth),
                "overflow": np.tile(np.r_[True, np.zeros(nb - 2, bool), True], n * depth),
                "fraction": frac.ravel(),
            })
        hist = {c: np.concatenate([p[c] for p in pieces]) for c in SCHEMAS["histograms"]}
        keep = hist["fraction"] > 0
        hist = {c: v[keep] for c, v in hist.items()}
        order = np.lexsort((hist["bin"], hist["layer"], hist["stage"], hist["step"]))
        return typed_frame({c: v[order] for c, v in hist.items()}, SCHEMAS["histograms"])

    def _health(self) -> pd.DataFrame:
        depth, health = self.depth, self._parts["health"]
        hs = np.array([p[0] for p in health], np.int32)
        hv = np.stack([p[1] for p in health]) if health else np.zeros((0, 4, depth))
        return typed_frame({
            "step": np.repeat(hs, depth),
            "layer": np.tile(np.arange(1, depth + 1), len(health)),
            **{name: hv[:, i, :].ravel() for i, name in enumerate(_HEALTH_NAMES)},
        }, SCHEMAS["layer_health"])

    def _norm_frames(self) -> dict[str, pd.DataFrame]:
        """norm_params (tracked units), norm_param_bands (over all units), running_stats."""
        depth, layer, norm, k = self.depth, np.arange(1, self.depth + 1), self._parts["norm"], len(self.units)
        ns = np.array([p[0] for p in norm], np.int32)
        nn = len(norm)
        gam = np.stack([p[1] for p in norm]) if nn else np.zeros((0, depth, k))
        bet = np.stack([p[2] for p in norm]) if nn else np.zeros((0, depth, k))
        out = {"norm_params": typed_frame({
            "step": np.repeat(ns, depth * k),
            "layer": np.tile(np.repeat(layer, k), nn),
            "unit": np.tile(self.units, nn * depth),
            "gamma": gam.ravel(),
            "beta": bet.ravel(),
        }, SCHEMAS["norm_params"])}
        bands = np.stack([p[3] for p in norm]) if nn else np.zeros((0, 2, 6, depth))  # (snap, param, stat, depth)
        cols = {
            "step": np.repeat(ns, 2 * depth),
            "layer": np.tile(layer, 2 * nn),
            "param": np.tile(np.repeat([0, 1], depth), nn),
        }
        for i, name in enumerate(("mean", "q05", "q25", "q50", "q75", "q95")):
            cols[name] = bands[:, :, i, :].ravel()
        out["norm_param_bands"] = typed_frame(cols, SCHEMAS["norm_param_bands"])
        run = [p for p in norm if p[4] is not None]
        rv = np.stack([p[4] for p in run]) if run else np.zeros((0, 4, depth, k))
        out["running_stats"] = typed_frame({
            "step": np.repeat(np.array([p[0] for p in run], np.int32), depth * k),
            "layer": np.tile(np.repeat(layer, k), len(run)),
            "unit": np.tile(self.units, len(run) * depth),
            **{name: rv[:, i].ravel() for i, name in enumerate(_RUNNING_NAMES)},
        }, SCHEMAS["running_stats"])
        return out


_HEALTH_NAMES = ("saturated", "grad_norm", "weight_norm", "update_ratio")
_RUNNING_NAMES = ("batch_mean", "batch_var", "running_mean", "running_var")


# Column -> dtype of every table (the order is the column order).
SCHEMAS: dict[str, dict[str, str]] = {
    "metrics": {"step": "int32", "epoch": "float64", "split": "category", "loss": "float64", "accuracy": "float64"},
    "layer_stats": {
        "step": "int32", "layer": "int16", "stage": "category",
        "mean": "float32", "std": "float32", "p15": "float32", "p50": "float32", "p85": "float32",
    },
    "histograms": {
        "step": "int32", "layer": "int16", "stage": "category", "bin": "int8",
        "bin_left": "float32", "bin_right": "float32", "overflow": "bool", "fraction": "float32",
    },
    "layer_health": {
        "step": "int32", "layer": "int16",
        "saturated": "float32", "grad_norm": "float64", "weight_norm": "float64", "update_ratio": "float64",
    },
    "norm_params": {"step": "int32", "layer": "int16", "unit": "int16", "gamma": "float32", "beta": "float32"},
    "norm_param_bands": {
        "step": "int32", "layer": "int16", "param": "category",
        "mean": "float32", "q05": "float32", "q25": "float32", "q50": "float32", "q75": "float32", "q95": "float32",
    },
    "running_stats": {
        "step": "int32", "layer": "int16", "unit": "int16",
        "batch_mean": "float32", "batch_var": "float32", "running_mean": "float32", "running_var": "float32",
    },
}

_CATEGORIES = {
    "split": ["train", "val"],
    "stage": list(STAGES),
    "param": ["gamma", "beta"],
    "mode": ["train", "eval"],
}
# Made once: building a CategoricalDtype, and matching labels against it, is most of a small frame's cost.
_CATEGORY_DTYPES = {c: pd.CategoricalDtype(levels, ordered=False) for c, levels in _CATEGORIES.items()}
_CATEGORY_CODES = {c: {level: i for i, level in enumerate(levels)} for c, levels in _CATEGORIES.items()}


def typed_frame(data: dict, schema: dict[str, str]) -> pd.DataFrame:
    """A DataFrame with ``schema``'s columns and dtypes (categories with fixed, ordered levels)."""
    cols = {}
    for c, d in schema.items():
        v = data[c]
        if d == "category":
            v = np.asarray(v)
            if v.dtype.kind not in "iu":  # labels -> codes; a label that is not a level is missing (-1)
                codes = _CATEGORY_CODES[c]
                v = np.fromiter((codes.get(x, -1) for x in v.tolist()), np.int8, len(v))
            cols[c] = pd.Categorical.from_codes(v.astype(np.int8), dtype=_CATEGORY_DTYPES[c])
        elif d.startswith("float"):
            v = np.asarray(v, dtype=np.float64)
            if d == "float32":  # finite float64 beyond float32's range would turn into inf
                lim = float(np.finfo(np.float32).max)
                v = np.clip(v, -lim, lim)
            cols[c] = v.astype(d)
        else:
            cols[c] = np.asarray(v).astype(d)
    return pd.DataFrame(cols)
