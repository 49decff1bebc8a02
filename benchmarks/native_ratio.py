"""Time arrayloss against each framework's native loss, side by side, on the same inputs.

    python benchmarks/native_ratio.py [--size N] [--classes C] [--repeat R] [--markdown]

Prints, per pair, the median time of arrayloss and of the native function (or of a
hand-written expression where the framework has no such loss) and their ratio
(arrayloss / native):

- torch: forward and ``backward()``, eager, one thread; also one call at 128 elements;
  and both compiled by ``torch.compile`` (inductor), each pair compiled once before timing;
- JAX: ``jax.jit(jax.value_and_grad)`` against optax;
- NumPy: the forward value against a NumPy expression, and ``arrayloss.gradient`` against
  a hand-written NumPy gradient of the mean.

Each repeat times arrayloss and the native function one after the other (interleaved), so
machine load affects them alike. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from table import Table  # benchmarks/table.py, beside this script

import arrayloss

Pair = tuple[str, Callable[[], object], Callable[[], object]]


def _interleaved_medians(ours: Callable[[], object], native: Callable[[], object],
                         repeat: int) -> tuple[float, float]:
    ours(), native()  # warm-up (and compilation under jax.jit)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((ours, times[0]), (native, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def torch_pairs(n: int, c: int, suffix: str = "") -> list[Pair]:
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)

    def leaf(x: np.ndarray) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.float32, requires_grad=True)

    z = leaf(rng.normal(size=(n, c)))
    probs = leaf(rng.uniform(0.01, 0.99, size=(n, c)))
    log_probs = leaf(np.log(rng.dirichlet(np.ones(c), n)))
    target = torch.tensor(rng.normal(size=(n, c)), dtype=torch.float32)
    binary = torch.tensor(rng.integers(0, 2, (n, c)), dtype=torch.float32)
    signed = 2 * binary - 1
    soft = torch.tensor(rng.dirichlet(np.ones(c), n), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, c, n))

    def step(x: torch.Tensor, loss: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            x.grad = None
            loss().backward()

        return run

    def focal() -> torch.Tensor:
        p = torch.sigmoid(z)
        ce = F.binary_cross_entropy_with_logits(z, binary, reduction="none")
        p_t = p * binary + (1 - p) * (1 - binary)
        return ((1 - p_t) ** 2 * ce).mean()

    pairs = [
        ("mse_loss", z, lambda: arrayloss.mse(target, z), lambda: F.mse_loss(z, target)),
        ("l1_loss", z, lambda: arrayloss.mae(target, z), lambda: F.l1_loss(z, target)),
        ("huber_loss", z, lambda: arrayloss.huber(target, z), lambda: F.huber_loss(z, target)),
        ("binary_cross_entropy_with_logits", z,
         lambda: arrayloss.bce(binary, z, from_logits=True),
         lambda: F.binary_cross_entropy_with_logits(z, binary)),
        ("binary_cross_entropy", probs, lambda: arrayloss.bce(binary, probs),
         lambda: F.binary_cross_entropy(probs, binary)),
        ("cross_entropy (soft targets)", z,
         lambda: arrayloss.cce(soft, z, from_logits=True), lambda: F.cross_entropy(z, soft)),
        ("cross_entropy (labels)", z, lambda: arrayloss.scce(labels, z, from_logits=True),
         lambda: F.cross_entropy(z, labels)),
        ("nll_loss", log_probs, lambda: arrayloss.nll(labels, log_probs),
         lambda: F.nll_loss(log_probs, labels)),
        ("kl_div (batchmean)", z, lambda: arrayloss.kld(soft, z, from_logits=True),
         lambda: F.kl_div(F.log_softmax(z, dim=-1), soft, reduction="batchmean")),
        ("log_cosh (expression)", z, lambda: arrayloss.log_cosh(target, z),
         lambda: torch.log(torch.cosh(z - target)).mean()),
        ("hinge (expression)", z, lambda: arrayloss.hinge(signed, z),
         lambda: torch.clamp(1 - signed * z, min=0).mean()),
        ("binary focal (expression)", z,
         lambda: arrayloss.focal(binary, z, from_logits=True), focal),
    ]
    return [(f"torch {name}{suffix}", step(x, ours), step(x, native))
            for name, x, ours, native in pairs]


def torch_compiled_pairs(n: int, c: int) -> list[Pair]:
    """A sample of the eager pairs, arrayloss's loss and the native one each compiled."""
    import torch

    wanted = ("mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy_with_logits",
              "cross_entropy (labels)", "binary focal (expression)")
    rng = np.random.default_rng(2)
    z = torch.tensor(rng.normal(size=(n, c)), dtype=torch.float32, requires_grad=True)
    target = torch.tensor(rng.normal(size=(n, c)), dtype=torch.float32)
    binary = torch.tensor(rng.integers(0, 2, (n, c)), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, c, n))
    F = torch.nn.functional

    def focal(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        return ((1 - p_t) ** 2 * ce).mean()

    losses = {
        "mse_loss": (lambda x, y: arrayloss.mse(y, x), F.mse_loss, target),
        "l1_loss": (lambda x, y: arrayloss.mae(y, x), F.l1_loss, target),
        "huber_loss": (lambda x, y: arrayloss.huber(y, x), F.huber_loss, target),
        "binary_cross_entropy_with_logits": (
            lambda x, y: arrayloss.bce(y, x, from_logits=True),
            F.binary_cross_entropy_with_logits, binary),
        "cross_entropy (labels)": (lambda x, y: arrayloss.scce(y, x, from_logits=True),
                                   F.cross_entropy, labels),
        "binary focal (expression)": (lambda x, y: arrayloss.focal(y, x, from_logits=True),
                                      focal, binary),
    }

    def step(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
             y: torch.Tensor) -> Callable[[], None]:
        compiled = torch.compile(loss)

        def run() -> None:
            z.grad = None
            compiled(z, y).backward()

        return run

    return [(f"torch.compile {name}", step(ours, y), step(native, y))
            for name, (ours, native, y) in losses.items() if name in wanted]


def torch_small_pairs() -> list[Pair]:
    wanted = ("mse_loss", "huber_loss", "binary_cross_entropy_with_logits",
              "cross_entropy (labels)")
    return [p for p in torch_pairs(32, 4, " at 128 elements")
            if any(p[0] == f"torch {w} at 128 elements" for w in wanted)]


def jax_pairs(n: int, c: int) -> list[Pair]:
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(0)
    logits = jnp.asarray(rng.normal(size=(n, c)), dtype=jnp.float32)
    labels = jnp.asarray(rng.integers(0, c, n))
    target = jnp.asarray(rng.normal(size=(n, c)), dtype=jnp.float32)
    binary = jnp.asarray(rng.integers(0, 2, (n, c)), dtype=jnp.float32)
    soft = jnp.asarray(rng.dirichlet(np.ones(c), n), dtype=jnp.float32)

    def step(loss: Callable[[jax.Array], jax.Array]) -> Callable[[], None]:
        compiled = jax.jit(jax.value_and_grad(loss))
        return lambda: jax.block_until_ready(compiled(logits))

    pairs = [
        ("softmax_cross_entropy_with_integer_labels",
         lambda z: arrayloss.scce(labels, z, from_logits=True),
         lambda z: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean()),
        ("softmax_cross_entropy", lambda z: arrayloss.cce(soft, z, from_logits=True),
         lambda z: optax.softmax_cross_entropy(z, soft).mean()),
        ("sigmoid_binary_cross_entropy", lambda z: arrayloss.bce(binary, z, from_logits=True),
         lambda z: optax.sigmoid_binary_cross_entropy(z, binary).mean()),
        ("squared_error", lambda z: arrayloss.mse(target, z),
         lambda z: optax.squared_error(z, target).mean()),
        ("huber_loss", lambda z: arrayloss.huber(target, z),
         lambda z: optax.huber_loss(z, target).mean()),
        ("log_cosh", lambda z: arrayloss.log_cosh(target, z),
         lambda z: optax.log_cosh(z, target).mean()),
        ("kl_divergence", lambda z: arrayloss.kld(soft, z, from_logits=True),
         lambda z: optax.kl_divergence(jax.nn.log_softmax(z), soft).mean()),
    ]
    return [(f"jax {name}", step(ours), step(native)) for name, ours, native in pairs]


def numpy_pairs(n: int, c: int) -> list[Pair]:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, c))
    target = rng.normal(size=(n, c))
    binary = rng.integers(0, 2, (n, c)).astype(float)
    soft = rng.dirichlet(np.ones(c), n)
    probs = rng.dirichlet(np.ones(c), n)
    return [
        ("numpy mse", lambda: arrayloss.mse(target, z), lambda: np.mean((z - target) ** 2)),
        ("numpy mae", lambda: arrayloss.mae(target, z), lambda: np.mean(np.abs(z - target))),
        ("numpy bce from logits", lambda: arrayloss.bce(binary, z, from_logits=True),
         lambda: np.mean(np.logaddexp(0, z) - binary * z)),
        ("numpy kl_divergence", lambda: arrayloss.kld(soft, probs),
         lambda: np.mean(np.sum(soft * np.log(soft / probs), axis=-1))),
        ("numpy hinge", lambda: arrayloss.hinge(2 * binary - 1, z),
         lambda: np.mean(np.maximum(1 - (2 * binary - 1) * z, 0))),
    ]


def numpy_gradient_pairs(n: int, c: int) -> list[Pair]:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(n, c))
    target = rng.normal(size=(n, c))
    binary = rng.integers(0, 2, (n, c)).astype(float)
    soft = rng.dirichlet(np.ones(c), n)
    probs = rng.uniform(0.01, 0.99, size=(n, c))
    size = z.size

    def hand_kl() -> object:  # -p/q per element, each row's sum divided by the N rows
        return -soft / probs / n

    return [
        ("numpy gradient mse", lambda: arrayloss.gradient("mse", target, z),
         lambda: 2.0 * (z - target) / size),
        ("numpy gradient mae", lambda: arrayloss.gradient("mae", target, z),
         lambda: np.sign(z - target) / size),
        ("numpy gradient huber", lambda: arrayloss.gradient("huber", target, z),
         lambda: np.clip(z - target, -1.0, 1.0) / size),
        ("numpy gradient log_cosh", lambda: arrayloss.gradient("log_cosh", target, z),
         lambda: np.tanh(z - target) / size),
        ("numpy gradient bce from probabilities",
         lambda: arrayloss.gradient("bce", binary, probs),
         lambda: (probs - binary) / (probs * (1.0 - probs)) / size),
        ("numpy gradient kl_divergence", lambda: arrayloss.gradient("kld", soft, probs),
         hand_kl),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="batch size N")
    parser.add_argument("--classes", type=int, default=100, help="classes / columns C")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--only", default="", help="run only the pairs whose name contains this")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    pairs = (torch_pairs(args.size, args.classes) + torch_small_pairs()
             + torch_compiled_pairs(args.size, args.classes)
             + jax_pairs(args.size, args.classes) + numpy_pairs(args.size, args.classes)
             + numpy_gradient_pairs(args.size, args.classes))
    pairs = [p for p in pairs if args.only in p[0]]
    print(f"N={args.size}, C={args.classes}, median of {args.repeat} interleaved runs")
    table = Table(("pair", "arrayloss", "native", "ratio"), markdown=args.markdown)
    for name, ours, native in pairs:
        t_ours, t_native = _interleaved_medians(ours, native, args.repeat)
        table.row((name, f"{t_ours * 1e3:.3f} ms", f"{t_native * 1e3:.3f} ms",
                   f"{t_ours / t_native:.2f}"))

if __name__ == "__main__":
    main()
