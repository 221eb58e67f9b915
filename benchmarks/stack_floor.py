"""The floor under issue 12's stacked-training ratios: the fewest numpy passes the classroom network's
training step needs, written flat and in place, timed beside ``train_many`` and PyTorch's stack.

    .venv/bin/python benchmarks/stack_floor.py                 # 1 and 30 runs, best of 3
    .venv/bin/python benchmarks/stack_floor.py --runs 1,10,30 --repeats 5 --threads 1
    .venv/bin/python benchmarks/stack_floor.py --quick         # 2 epochs, 1 repeat: a smoke run

The floor trains the same stack as ``benchmarks/bench_stack.py`` (classroom size: 8 hidden layers
of 64, batch norm before a sigmoid, batch 64, 500 steps of SGD with momentum; the runs differ in
seed) from the same initial weights and batches, with none of core's structure: no layer objects,
no telemetry, no evaluation passes, every array allocated once and every operation writing into
it (``out=``), sums over the batch as products with a vector of ones (BLAS, the fastest way numpy
has). Per hidden layer and step it makes the passes the equations need and no more: Dense
(product, bias), batch norm (two sums and five passes forward: centre, square, divide, scale,
shift; two sums and five passes back), the sigmoid (four passes forward, three back) and the
weight, bias and input gradients; then four passes of the momentum update over one flat buffer.
Nothing here is a design for core (it reads nothing like the equations); it answers one question:
how fast can numpy, on this machine, do this arithmetic at all?

Before timing it checks that the floor computes what core computes: every run's losses over the
first steps against core.nn's own layers (float32 over 3 steps, float64 up to step 18), with
``bench_stack.py``'s tolerances.

It prints, per number of runs, the floor (and its matrix products alone), ``train_many`` (which
also records telemetry and evaluates on both splits at each of its 30 snapshots), sequential
``train`` and PyTorch's stack (training loop only), and then what the floor says of the three
targets: ours / torch stack <= 1/3 and sequential / stacked >= 3 at 30 runs, one run <= 0.5 of
the torch twin. A target the floor misses is out of reach of any numpy code that makes these
passes on this machine, core's included. Timing is never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_core import PAUSE, blas_threads, run_inputs, run_torch, torch_twin  # noqa: E402
from benchmarks.bench_stack import (  # noqa: E402
    FLOAT32_STEPS,
    TARGET_SINGLE,
    TARGET_SPEEDUP,
    TARGET_VS_TORCH_STACK,
    TOLERANCE,
    classroom,
    core_losses,
    run_torch_stack,
    torch_stack,
)
from core.training import train, train_many  # noqa: E402


class Floor:
    """The classroom stack as bare arrays: ``step(idx)`` trains every run on its batch, in place.

    Only for ``norm="batch"`` before a sigmoid, softmax cross-entropy and SGD with momentum (the
    classroom network); ``configs`` must share their architecture, rate and momentum.
    """

    def __init__(self, configs, dtype=np.float32):
        c = configs[0]
        if (c.norm, c.norm_position, c.activation, c.optimizer) != ("batch", "before", "sigmoid", "momentum"):
            raise ValueError("The floor is written for batch norm before a sigmoid, trained with momentum.")
        inputs = [run_inputs(cfg, dtype) for cfg in configs]
        nets = [net for net, _, _, _ in inputs]
        self.X = np.stack([x for _, x, _, _ in inputs])  # (R, N, 2)
        self.y = np.stack([y for _, _, y, _ in inputs])  # (R, N)
        per_run = [[idx for batches in epochs for idx in batches] for _, _, _, epochs in inputs]
        self.batches = [np.stack(b) for b in zip(*per_run, strict=True)]  # per step: (R, n)
        R, n, d = len(configs), len(self.batches[0][0]), c.width
        self.R, self.n, self.L, self.dtype = R, n, c.depth, np.dtype(dtype)
        self.lr, self.mu, self.eps, self.bn_m = c.lr, c.momentum, nets[0].blocks[0].norm.eps, c.bn_momentum
        self.rows = np.arange(R)[:, None]

        # every parameter a view of one flat (R, P) buffer, its gradient of another
        layers = [(b.dense.W, b.dense.b, b.norm.gamma, b.norm.beta) for b in nets[0].blocks]
        shapes = [s for W, b, g, be in layers for s in (W.shape, (1, b.size), (1, g.size), (1, be.size))]
        shapes += [nets[0].output.W.shape, (1, nets[0].output.b.size)]
        sizes = [int(np.prod(s)) for s in shapes]
        self.P = np.empty((R, sum(sizes)), dtype)
        self.G = np.zeros_like(self.P)
        self.buf = np.zeros_like(self.P)
        self.tmp = np.empty_like(self.P)
        views, grads, start = [], [], 0
        for s, k in zip(shapes, sizes, strict=True):
            views.append(self.P[:, start:start + k].reshape(R, *s))
            grads.append(self.G[:, start:start + k].reshape(R, *s))
            start += k
        for r, net in enumerate(nets):
            values = [v for blk in net.blocks for v in (blk.dense.W, blk.dense.b, blk.norm.gamma, blk.norm.beta)]
            values += [net.output.W, net.output.b]
            for view, value in zip(views, values, strict=True):
                view[r] = value.reshape(view.shape[1:])
        self.W, self.b, self.gamma, self.beta = (views[i:4 * self.L:4] for i in range(4))
        self.gW, self.gb, self.ggamma, self.gbeta = (grads[i:4 * self.L:4] for i in range(4))
        self.Wo, self.bo, self.gWo, self.gbo = views[-2], views[-1], grads[-2], grads[-1]
        self.running_mean = np.zeros((self.L, R, 1, d), dtype)
        self.running_var = np.ones((self.L, R, 1, d), dtype)

        # activations kept for backward, and scratch
        big = (R, n, d)
        self.H = [np.empty((R, n, self.X.shape[-1]), dtype)] + [np.empty(big, dtype) for _ in range(self.L)]
        self.XH = [np.empty(big, dtype) for _ in range(self.L)]
        self.STD = [np.empty((R, 1, d), dtype) for _ in range(self.L)]
        self.Z, self.T, self.GH = np.empty(big, dtype), np.empty(big, dtype), np.empty(big, dtype)
        self.M, self.V = np.empty((R, 1, d), dtype), np.empty((R, 1, d), dtype)
        self.ones = np.ones((1, n), dtype)
        self.onehot = np.empty((R, n, self.Wo.shape[-1]), dtype)
        self.classes = np.arange(self.Wo.shape[-1])

    def step(self, idx: np.ndarray) -> np.ndarray:
        """One SGD-with-momentum step of every run on its batch ``idx`` (R, n); the (R,) losses."""
        n, H, XH, STD, Z, T, M, V, ones = self.n, self.H, self.XH, self.STD, self.Z, self.T, self.M, self.V, self.ones
        H[0][...] = self.X[self.rows, idx]
        for k in range(self.L):
            np.matmul(H[k], self.W[k], out=Z)
            Z += self.b[k]
            np.matmul(ones, Z, out=M)
            M /= n  # the batch mean
            np.subtract(Z, M, out=XH[k])
            np.multiply(XH[k], XH[k], out=T)
            np.matmul(ones, T, out=V)
            V /= n  # the biased variance
            self.running_mean[k] += self.bn_m * (M - self.running_mean[k])
            self.running_var[k] += self.bn_m * (V * (n / (n - 1)) - self.running_var[k])
            np.sqrt(V + self.eps, out=STD[k])
            XH[k] /= STD[k]  # xhat
            A = H[k + 1]
            np.multiply(XH[k], self.gamma[k], out=A)
            A += self.beta[k]
            np.negative(A, out=A)
            with np.errstate(over="ignore"):
                np.exp(A, out=A)
            A += 1
            np.reciprocal(A, out=A)  # the sigmoid
        logits = H[-1] @ self.Wo + self.bo  # (R, n, k): small
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(axis=-1, keepdims=True)
        np.equal(self.y[self.rows, idx][..., None], self.classes, out=self.onehot, casting="unsafe")
        loss = (np.log(sums[..., 0], dtype=np.float64) - (shifted * self.onehot).sum(-1, dtype=np.float64)).mean(-1)
        g = (exp / sums - self.onehot) / n
        np.matmul(H[-1].swapaxes(-1, -2), g, out=self.gWo)
        np.matmul(ones, g, out=self.gbo)
        GH = self.GH
        np.matmul(g, self.Wo.swapaxes(-1, -2), out=GH)
        for k in reversed(range(self.L)):
            A = H[k + 1]
            np.subtract(1, A, out=T)
            T *= A
            T *= GH  # the gradient at the sigmoid's input
            np.matmul(ones, T, out=self.gbeta[k])
            np.multiply(T, XH[k], out=Z)
            np.matmul(ones, Z, out=self.ggamma[k])
            np.multiply(XH[k], self.ggamma[k] / n, out=Z)
            Z += self.gbeta[k] / n
            np.subtract(T, Z, out=T)
            T *= self.gamma[k] / STD[k]  # the gradient at batch norm's input
            np.matmul(H[k].swapaxes(-1, -2), T, out=self.gW[k])
            np.matmul(ones, T, out=self.gb[k])
            if k:
                np.matmul(T, self.W[k].swapaxes(-1, -2), out=GH)
        self.buf *= self.mu  # buf = mu * buf + g (buf = g at the first step: buf starts at 0)
        self.buf += self.G
        np.multiply(self.buf, self.lr, out=self.tmp)
        self.P -= self.tmp
        return loss

    def train(self, steps: int | None = None) -> list[np.ndarray]:
        return [self.step(idx) for idx in self.batches[:steps]]

    def products(self) -> None:
        """Only the hidden layers' matrix products and batch sums of every step (no elementwise work,
        no output layer): the part of :meth:`train` that BLAS does. Call it after a :meth:`step`, on
        arrays that hold a step's values."""
        H, Z, T, GH, ones, M = self.H, self.Z, self.T, self.GH, self.ones, self.M
        for _ in self.batches:
            for k in range(self.L):
                np.matmul(H[k], self.W[k], out=Z)
                np.matmul(ones, Z, out=M)
                np.matmul(ones, T, out=M)
            for k in reversed(range(self.L)):
                np.matmul(ones, T, out=self.gbeta[k])
                np.matmul(ones, Z, out=self.ggamma[k])
                np.matmul(H[k].swapaxes(-1, -2), T, out=self.gW[k])
                np.matmul(ones, T, out=self.gb[k])
                if k:
                    np.matmul(T, self.W[k].swapaxes(-1, -2), out=GH)


def check(configs, say) -> bool:
    """The floor's losses against core.nn's, every run: float32 over 3 steps, float64 over 18."""
    ok = True
    for dtype, steps in ((np.float32, FLOAT32_STEPS), (np.float64, 18)):
        ours = np.stack([core_losses(c, steps, dtype) for c in configs], axis=1)
        floor = np.stack(Floor(configs, dtype).train(steps))
        diff = float(np.abs(floor - ours).max())
        good = diff <= TOLERANCE[np.dtype(dtype).name]
        ok &= good
        say(f"  floor vs core.nn, {np.dtype(dtype).name}, {steps} steps, {len(configs)} runs: max |loss difference| "
            f"{diff:.1e}  {'ok' if good else 'MISMATCH'}")
    return ok


def best(setup, f, repeats: int) -> float:
    """The fastest of ``repeats`` wall-clock timings of ``f(setup())`` (seconds; ``setup`` untimed),
    each after a pause."""
    out = np.inf
    for _ in range(repeats):
        arg = setup()
        time.sleep(PAUSE)
        t = time.perf_counter()
        f(arg)
        out = min(out, time.perf_counter() - t)
    return out


def stepped(floor: Floor) -> Floor:
    """``floor`` after one training step: its arrays hold a step's values (not whatever memory held)."""
    floor.step(floor.batches[0])
    return floor


def table(counts: list[int], size: dict, repeats: int, say) -> dict[int, dict[str, float]]:
    """Time the floor, ``train_many``, sequential ``train`` and PyTorch's stack (and, at one run, its
    twin) for each number of runs; print a row each and what the floor says of the targets."""
    say(f"seconds, best of {repeats} (wall)")
    say(f"{'runs':>4} | {'products':>8} | {'floor':>7} | {'train_many':>10} | {'sequential':>10} | {'torch stack':>11} | "
        f"{'torch twin':>10}")
    rows = {}
    for k in counts:
        configs = classroom(k, **size)
        t = {"products": best(lambda c=configs: stepped(Floor(c)), Floor.products, repeats),
             "floor": best(lambda c=configs: Floor(c), Floor.train, repeats),
             "train_many": best(lambda c=configs: c, train_many, repeats),
             "sequential": best(lambda c=configs: c, lambda c: [train(x) for x in c], repeats),
             "torch stack": min(run_torch_stack(torch_stack(configs))[0] for _ in range(repeats))}
        if k == 1:
            t["torch twin"] = min(run_torch(torch_twin(configs[0]))[0] for _ in range(repeats))
        rows[k] = t
        say(f"{k:>4} | {t['products']:8.2f} | {t['floor']:7.2f} | {t['train_many']:10.2f} | {t['sequential']:10.2f} | "
            f"{t['torch stack']:11.2f} | " + (f"{t['torch twin']:10.2f}" if "torch twin" in t else f"{'-':>10}"))
    top = rows[max(counts)]
    limit = top["torch stack"] * TARGET_VS_TORCH_STACK
    say(f"at {max(counts)} runs: ours / torch stack target <= {TARGET_VS_TORCH_STACK:.2f}, i.e. <= {limit:.2f} s; "
        f"the floor takes {top['floor']:.2f} s = {top['floor'] / top['torch stack']:.2f} of torch's stack "
        + ("(the floor misses it)" if top["floor"] > limit else "(the floor meets it)")
        + f"; its matrix products and batch sums alone {top['products']:.2f} s")
    limit = top["sequential"] / TARGET_SPEEDUP
    say(f"at {max(counts)} runs: sequential / stacked target >= {TARGET_SPEEDUP:.0f}, i.e. stacked <= {limit:.2f} s; "
        f"the floor takes {top['floor']:.2f} s " + ("(the floor misses it)" if top["floor"] > limit else "(the floor meets it)")
        + f"; train_many {top['train_many']:.2f} s = {top['train_many'] / top['floor']:.2f}x the floor")
    if 1 in rows:
        one = rows[1]
        limit = one["torch twin"] * TARGET_SINGLE
        say(f"one run: target <= {TARGET_SINGLE} of the torch twin, i.e. <= {limit:.2f} s; the floor takes "
            f"{one['floor']:.2f} s = {one['floor'] / one['torch twin']:.2f} of the twin "
            + ("(the floor misses it)" if one["floor"] > limit else "(the floor meets it)")
            + f"; train {one['sequential']:.2f} s = {one['sequential'] / one['torch twin']:.2f}")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", default="1,30", help="comma-separated numbers of runs (default 1,30)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="BLAS and torch threads (default: as set)")
    ap.add_argument("--quick", action="store_true", help="2 epochs, 1 repeat")
    args = ap.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    size = dict(epochs=2) if args.quick else {}
    if args.threads:
        threadpool_limits(limits=args.threads, user_api="blas")
    torch.set_num_threads(args.threads or blas_threads())
    print(f"BLAS threads {blas_threads()}, torch threads {torch.get_num_threads()}")
    if not check(classroom(4, **size), print):
        return 1
    print()
    table(sorted(int(k) for k in args.runs.split(",")), size, 1 if args.quick else args.repeats, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
