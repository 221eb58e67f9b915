"""Data sets: the article's regression, 2-D toy sets and scikit-learn's own.

Everything here is deterministic for a given seed and needs no network: the
real data sets are the small ones that ship inside scikit-learn.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from sklearn import datasets as skd

from core.params import Spec, check

__all__ = [
    "Dataset",
    "DATASETS",
    "DATASET_INFO",
    "seed_regression",
    "load_dataset",
    "train_val_split",
    "minibatches",
    "register_table",
    "registered_table",
    "is_registered",
    "UPLOAD_PREFIX",
]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set.

    X: (n, d) float64 features; y: (n,) float64 targets (regression) or int64
    class labels (classification); feature_names: d names.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    task: str  # "regression" | "classification"
    name: str

    @property
    def n_classes(self) -> int:
        return int(self.y.max()) + 1 if self.task == "classification" else 0

    @property
    def n_features(self) -> int:
        return self.X.shape[1]


def seed_regression(n_samples: int = 100, seed: int = 42, noise: float = 0.1) -> Dataset:
    """The article's data: A ~ U(1, 10), B ~ U(1, 200), y = 2A + 3B + noise * N(0, 1).

    Drawn from ``np.random.default_rng(seed)`` in the article's order: A, then
    B, then the noise, so the defaults reproduce it bit for bit.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(1, 10, n_samples)
    b = rng.uniform(1, 200, n_samples)
    y = 2 * a + 3 * b + rng.normal(size=n_samples) * noise
    return Dataset(np.column_stack([a, b]), y, ("A", "B"), "regression", "seed")


def _moons(n_samples, noise, seed):
    X, y = skd.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return Dataset(X, y.astype(np.int64), ("x1", "x2"), "classification", "moons")


def _circles(n_samples, noise, seed):
    X, y = skd.make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    return Dataset(X, y.astype(np.int64), ("x1", "x2"), "classification", "circles")


def _spiral(n_samples, noise, seed):
    """Two interleaved spirals (TensorFlow Playground's hardest set)."""
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    labels = np.r_[np.zeros(n0, np.int64), np.ones(n_samples - n0, np.int64)]
    t = np.r_[np.linspace(0, 1, n0), np.linspace(0, 1, n_samples - n0)]
    r = 0.25 + 4.75 * t
    theta = 1.75 * t * 2 * np.pi + np.pi * labels
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    X = X + rng.normal(scale=noise * 1.5, size=X.shape)
    order = rng.permutation(n_samples)
    return Dataset(X[order], labels[order], ("x1", "x2"), "classification", "spiral")


@lru_cache(maxsize=8)
def _bundled(name: str):
    loader = {
        "wine": skd.load_wine,
        "diabetes": lambda: skd.load_diabetes(scaled=False),
        "digits": skd.load_digits,
        "breast_cancer": skd.load_breast_cancer,
    }[name]
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    names = tuple(str(f) for f in getattr(bunch, "feature_names", [])) or tuple(
        f"x{i}" for i in range(X.shape[1])
    )
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y, names


def _real(name: str, task: str):
    def load(n_samples, noise, seed):
        X, y, names = _bundled(name)
        if n_samples < len(X):  # a reproducible subsample
            idx = np.sort(np.random.default_rng(seed).choice(len(X), n_samples, replace=False))
            X, y = X[idx], y[idx]
        y = y.astype(np.int64) if task == "classification" else y.astype(np.float64)
        return Dataset(np.array(X), np.array(y), names, task, name)

    return load


def _seed(n_samples, noise, seed):
    # `noise` is the standard deviation of the noise term (0.1 in the article)
    return seed_regression(n_samples, seed, noise)


# name -> (loader, task, one line for the UI, whether n_samples/noise apply)
DATASET_INFO = {
    "seed": (_seed, "regression", "The article's data: A in [1, 10], B in [1, 200], y = 2A + 3B", True),
    "moons": (_moons, "classification", "Two interleaving half circles (2-D)", True),
    "circles": (_circles, "classification", "A circle inside a ring (2-D)", True),
    "spiral": (_spiral, "classification", "Two interleaved spirals (2-D)", True),
    "wine": (_real("wine", "classification"), "classification",
             "scikit-learn's wine: 178 wines, 13 chemical measurements on very different scales", False),
    "diabetes": (_real("diabetes", "regression"), "regression",
                 "scikit-learn's diabetes (raw units): 442 patients, 10 measurements", False),
    "digits": (_real("digits", "classification"), "classification",
               "scikit-learn's digits: 1,797 8x8 images, 10 classes", False),
    "breast_cancer": (_real("breast_cancer", "classification"), "classification",
                      "scikit-learn's breast cancer: 569 tumours, 30 features from 0.001 to 4,000", False),
}

DATASETS: tuple[str, ...] = tuple(DATASET_INFO)


UPLOAD_PREFIX = "upload:"
_LOCK = threading.Lock()
#: name -> weak references to the Datasets registered under it (content-addressed: the name is the
#: data's hash, so whoever can name a table already holds its data). The registry owns no data: a
#: name is loadable while one of its registrants keeps the object it registered (a session, its
#: upload), and goes with the last of them, so uploaded data never outlives its sessions.
_HOLDERS: dict[str, list[weakref.ref]] = {}


def register_table(data: Dataset) -> str:
    """Make a data set that is not built in (an uploaded file's chosen columns) loadable by name.

    Returns ``"upload:<first 16 hex digits of its sha256>"`` (of X, y, names and task), which
    :func:`load_dataset` then accepts like a built-in name while ``data`` (this very object, or
    another registrant's of the same content) is kept alive by its caller; the same data gives the
    same name, so runs on it are keyed by its content.
    """
    h = hashlib.sha256()
    for part in (np.ascontiguousarray(data.X, np.float64), np.ascontiguousarray(data.y)):
        h.update(str(part.shape).encode() + part.dtype.str.encode() + part.tobytes())
    h.update("\x00".join((*data.feature_names, data.task)).encode())
    name = UPLOAD_PREFIX + h.hexdigest()[:16]
    with _LOCK:
        for key in [k for k, refs in _HOLDERS.items() if all(r() is None for r in refs)]:
            del _HOLDERS[key]  # every registrant gone
        refs = [r for r in _HOLDERS.get(name, []) if r() is not None and r() is not data]
        _HOLDERS[name] = [*refs, weakref.ref(data)]
    return name


def registered_table(name: str) -> Dataset | None:
    """The table registered as ``name`` (named so), or None when no registrant keeps it."""
    with _LOCK:
        held = (r() for r in _HOLDERS.get(name, ()) if isinstance(name, str))
        data = next((d for d in held if d is not None), None)
    return None if data is None else replace(data, name=name)


def is_registered(name) -> bool:
    """Whether ``name`` is a registered table's name (TrainConfig's ``dataset`` admits it)."""
    return isinstance(name, str) and name.startswith(UPLOAD_PREFIX) and registered_table(name) is not None


def _registered(name: str, n_samples: int, seed: int) -> Dataset:
    data = registered_table(name)
    if data is None:
        raise ValueError(f"The 'dataset' parameter {name!r} names uploaded data that is not registered in "
                         "this process (it lives in the session that uploaded it); upload the file again.")
    if n_samples >= len(data.X):
        return data
    idx = np.sort(np.random.default_rng(seed).choice(len(data.X), n_samples, replace=False))
    return replace(data, X=data.X[idx], y=data.y[idx])


def load_dataset(name: str, *, n_samples: int = 500, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Load data set ``name`` (one of :data:`DATASETS`, or a name :func:`register_table` returned).

    n_samples and noise shape the synthetic sets; the real scikit-learn sets
    (and registered tables) ignore noise and are subsampled (without
    replacement) when n_samples is smaller than the set.
    """
    check("n_samples", n_samples, Spec("int", low=2))
    if isinstance(name, str) and name.startswith(UPLOAD_PREFIX):
        return _registered(name, int(n_samples), int(seed))
    check("dataset", name, Spec("choice", choices=DATASETS))
    check("noise", noise, Spec("float", low=0))
    loader = DATASET_INFO[name][0]
    return loader(int(n_samples), float(noise), int(seed))


def train_val_split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train_idx, val_idx); at least one sample on each side when val_fraction > 0."""
    order = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    if val_fraction > 0:
        n_val = min(max(n_val, 1), n - 1)
    return order[n_val:], order[:n_val]


def minibatches(n: int, batch_size: int, rng: np.random.Generator, *, drop_singleton: bool = True):
    """The article's step 1: split range(n) at random, without replacement, into batches.

    Returns a list of index arrays of ``batch_size`` (the last may be smaller).
    With ``drop_singleton`` a last batch of one sample is merged into the one
    before it (batch norm cannot standardize a single sample).
    """
    order = rng.permutation(n)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if drop_singleton and len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] = np.concatenate([batches[-1], last])
    return batches
