"""Sweep files: a grid in TOML, a results bundle in JSON (with its CSV beside it), a validating loader.

A grid file (``python -m core.sweep GRID.toml --out DIR``)::

    axis = "lr"                         # "lr" | "batch_size" | "depth"
    values = [0.001, 0.01, 0.1, 1.0]
    norms = ["none", "batch"]
    seeds = [0, 1, 2]
    target = 0.9                        # optional: accuracy for "steps to target"
    scale_lr = false                    # optional (batch-size sweeps)

    [base]                              # any TrainConfig field; the rest keep their defaults
    depth = 8
    activation = "relu"

The bundle (``sweep.json``) is ``{"format": FORMAT, "version": VERSION, "grid": {...}, "results":
[{column: value}, ...]}``; ``results.csv`` holds the same table for a spreadsheet. Every problem in a
file a user hands over, malformed or foreign, raises one error type, :class:`SweepFileError`, with a
message that says what is wrong (its text quotes nothing of the file but short names).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from core.params import specs
from core.sweep import COLUMNS, STATUSES, SweepGrid, results_table
from core.training import TrainConfig

__all__ = ["FORMAT", "VERSION", "MAX_BYTES", "SweepFileError", "grid_to_dict", "grid_from_dict", "read_grid",
           "parse_grid", "bundle_json", "results_csv", "write_bundle", "load_bundle"]

FORMAT = "normalization-seen/sweep"
VERSION = 1
MAX_BYTES = 20 * 2**20  # a bundle of 100,000 runs is about 20 MB
GRID_KEYS = ("axis", "values", "norms", "seeds", "target", "scale_lr", "base")


class SweepFileError(ValueError):
    """A grid or bundle file that cannot be used, and why."""


def _ours(err: Exception) -> str:
    """A validation message without the value the file held ("Got ... instead."): a message never quotes
    the file, so a page may show it as text without anything of the file in it."""
    return re.sub(r"\s*Got .* instead\.", "", str(err), flags=re.S)


# ---------------------------------------------------------------- grid <-> dict


def grid_to_dict(grid: SweepGrid) -> dict:
    base = {f: getattr(grid.base, f) for f in specs(TrainConfig)}
    return {"axis": grid.axis, "values": list(grid.values), "norms": list(grid.norms), "seeds": list(grid.seeds),
            "target": grid.target, "scale_lr": grid.scale_lr, "base": base}


def _base(raw: Any) -> TrainConfig:
    if not isinstance(raw, dict):
        raise SweepFileError("The grid's 'base' must be a table of TrainConfig settings.")
    table = specs(TrainConfig)
    unknown = [k for k in raw if k not in table]
    if unknown:
        raise SweepFileError(f"The grid's base has {len(unknown)} unknown setting(s); its settings are "
                             "TrainConfig's fields (dataset, depth, width, lr, ...).")
    values = {k: (float(v) if table[k].kind == "float" and isinstance(v, int) and not isinstance(v, bool) else v)
              for k, v in raw.items()}
    try:
        base = dataclasses.replace(TrainConfig(), **values)
        base.validate()
    except (TypeError, ValueError) as err:
        raise SweepFileError(f"The grid's base: {_ours(err)}") from None
    return base


def _list(raw: dict, key: str) -> list:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise SweepFileError(f"The grid's '{key}' must be a non-empty list.")
    return value


def grid_from_dict(raw: Any) -> SweepGrid:
    """A validated SweepGrid from its dict form (a TOML file's, a bundle's 'grid')."""
    if not isinstance(raw, dict):
        raise SweepFileError("A grid must be a table (axis, values, norms, seeds, base).")
    unknown = [k for k in raw if k not in GRID_KEYS]
    if unknown:
        raise SweepFileError(f"The grid has {len(unknown)} unknown key(s); the keys are {', '.join(GRID_KEYS)}.")
    axis = raw.get("axis", "lr")
    values = _list(raw, "values")
    if axis == "lr":
        values = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
    elif axis in ("batch_size", "depth"):
        values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    grid = SweepGrid(base=_base(raw.get("base", {})), axis=axis, values=tuple(values),
                     norms=tuple(_list(raw, "norms")), seeds=tuple(_list(raw, "seeds")),
                     target=raw.get("target", 0.9), scale_lr=raw.get("scale_lr", False))
    if not isinstance(grid.scale_lr, bool):
        raise SweepFileError("The grid's 'scale_lr' must be true or false.")
    try:
        grid.validate()
    except (TypeError, ValueError) as err:
        raise SweepFileError(f"The grid: {_ours(err)}") from None
    return grid


def parse_grid(text: str) -> SweepGrid:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SweepFileError(f"The grid file is not valid TOML ({str(err).split('(')[-1].rstrip(')')}).") from None
    return grid_from_dict(raw)


def read_grid(path: str | Path) -> SweepGrid:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SweepFileError(f"Cannot read the grid file {str(path)!r}: {err.__class__.__name__}.") from None
    return parse_grid(text)


# ---------------------------------------------------------------- the bundle


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v.item() if hasattr(v, "item") else v


def bundle_json(grid: SweepGrid, results: pd.DataFrame) -> str:
    """The bundle as JSON text (diverged runs' loss and accuracy are null)."""
    rows = [{c: _cell(r[c]) for c in COLUMNS} for r in results.to_dict("records")]
    return json.dumps({"format": FORMAT, "version": VERSION, "grid": grid_to_dict(grid), "results": rows},
                      indent=1, allow_nan=False)


def results_csv(results: pd.DataFrame) -> str:
    return results.to_csv(index=False, columns=list(COLUMNS))


def write_bundle(out: str | Path, grid: SweepGrid, results: pd.DataFrame) -> tuple[Path, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(bundle_json(grid, results), encoding="utf-8")
    (out / "results.csv").write_text(results_csv(results), encoding="utf-8")
    return out / "sweep.json", out / "results.csv"


def _decode(data: bytes | str) -> dict:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise SweepFileError(f"The file is larger than {MAX_BYTES // 2**20} MB; a sweep bundle is smaller.")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SweepFileError("The file is not text (UTF-8): a sweep bundle is a JSON file.") from None
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, RecursionError):
        raise SweepFileError("The file is not JSON: a sweep bundle is the sweep.json that the Sweeps view "
                             "exports or that python -m core.sweep writes.") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise SweepFileError(f"This JSON file is not a sweep bundle (its 'format' is not {FORMAT!r}).")
    if raw.get("version") != VERSION:
        raise SweepFileError(f"This bundle is not of version {VERSION}, the one this dashboard reads.")
    return raw


def _check_rows(grid: SweepGrid, rows: Any) -> pd.DataFrame:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SweepFileError("The bundle's 'results' must be a list of rows.")
    if len(rows) != grid.size:
        raise SweepFileError(f"The bundle holds {len(rows)} result rows; its grid has {grid.size} runs.")
    missing = [c for c in COLUMNS if any(c not in r for r in rows)]
    if missing:
        raise SweepFileError(f"Result rows lack the column(s) {', '.join(missing[:5])}.")
    try:
        frame = results_table([{c: r[c] for c in COLUMNS} for r in rows])
    except (TypeError, ValueError, OverflowError):
        raise SweepFileError("The bundle's results hold values of the wrong type.") from None
    if not frame["status"].isin(STATUSES).all():
        raise SweepFileError(f"Every result's status must be one of {', '.join(STATUSES)}.")
    cells = {(float(v), n, int(s)) for v, n, s in grid.cells()}
    if {(float(v), n, int(s)) for v, n, s in zip(frame["value"], frame["norm"], frame["seed"], strict=True)} != cells:
        raise SweepFileError("The bundle's results do not match its grid's values, norms and seeds.")
    done = frame["status"] != "diverged"
    for col in ("final_loss", "final_accuracy"):
        vals = frame.loc[done & (frame["status"] == "learned"), col]
        if vals.isna().any() or not vals.map(math.isfinite).all():
            raise SweepFileError(f"A learned run's {col} must be a finite number.")
    return frame


def load_bundle(data: bytes | str) -> tuple[SweepGrid, pd.DataFrame]:
    """A bundle's grid and results, validated; SweepFileError (with a clear message) otherwise."""
    raw = _decode(data)
    grid = grid_from_dict(raw.get("grid"))
    frame = _check_rows(grid, raw.get("results"))
    return grid, frame.reset_index(drop=True)


def load_bundle_file(path: str | Path) -> tuple[SweepGrid, pd.DataFrame]:
    try:
        return load_bundle(Path(path).read_bytes())
    except OSError as err:
        raise SweepFileError(f"Cannot read the bundle: {err.__class__.__name__}.") from None


def csv_frame(text: str) -> pd.DataFrame:
    """A results.csv read back (for scripts)."""
    return results_table(pd.read_csv(io.StringIO(text)).to_dict("records"))
