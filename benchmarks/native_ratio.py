"""Time arrayloss against each framework's native loss, side by side, on the same inputs.

    python benchmarks/native_ratio.py [--size N] [--repeat R]

Prints, per pair, the median time of the forward and backward pass (torch: ``backward()``;
JAX: ``jax.jit(jax.value_and_grad)``) of arrayloss and of the native function, and their
ratio (arrayloss / native). Both are run interleaved in the same process, so machine load
affects them alike. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import arrayloss


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (and compilation under jax.jit)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_pairs(n: int, c: int):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(n, c)), dtype=torch.float32, requires_grad=True)
    labels = torch.tensor(rng.integers(0, c, n))
    target = torch.tensor(rng.normal(size=(n, c)), dtype=torch.float32)
    binary = torch.tensor(rng.integers(0, 2, (n, c)), dtype=torch.float32)

    def step(loss: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            logits.grad = None
            loss().backward()

        return run

    return [
        ("torch mse_loss", step(lambda: arrayloss.mse(target, logits)),
         step(lambda: F.mse_loss(logits, target))),
        ("torch huber_loss", step(lambda: arrayloss.huber(target, logits)),
         step(lambda: F.huber_loss(logits, target))),
        ("torch cross_entropy", step(lambda: arrayloss.scce(labels, logits, from_logits=True)),
         step(lambda: F.cross_entropy(logits, labels))),
        ("torch bce_with_logits", step(lambda: arrayloss.bce(binary, logits, from_logits=True)),
         step(lambda: F.binary_cross_entropy_with_logits(logits, binary))),
    ]


def jax_pairs(n: int, c: int):
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(0)
    logits = jnp.asarray(rng.normal(size=(n, c)), dtype=jnp.float32)
    labels = jnp.asarray(rng.integers(0, c, n))
    target = jnp.asarray(rng.normal(size=(n, c)), dtype=jnp.float32)

    def step(loss: Callable[[jax.Array], jax.Array]) -> Callable[[], None]:
        compiled = jax.jit(jax.value_and_grad(loss))
        return lambda: jax.block_until_ready(compiled(logits))

    return [
        ("jax softmax_cross_entropy_with_integer_labels",
         step(lambda z: arrayloss.scce(labels, z, from_logits=True)),
         step(lambda z: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean())),
        ("jax huber_loss", step(lambda z: arrayloss.huber(target, z)),
         step(lambda z: optax.huber_loss(z, target).mean())),
        ("jax log_cosh", step(lambda z: arrayloss.log_cosh(target, z)),
         step(lambda z: optax.log_cosh(z, target).mean())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="batch size N")
    parser.add_argument("--classes", type=int, default=100, help="classes / columns C")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    pairs = torch_pairs(args.size, args.classes) + jax_pairs(args.size, args.classes)
    print(f"N={args.size}, C={args.classes}, median of {args.repeat} runs, forward+backward")
    print(f"{'pair':48} {'arrayloss':>11} {'native':>11} {'ratio':>7}")
    for name, ours, native in pairs:
        t_ours = _median_seconds(ours, args.repeat)
        t_native = _median_seconds(native, args.repeat)
        print(f"{name:48} {t_ours * 1e3:9.3f}ms {t_native * 1e3:9.3f}ms {t_ours / t_native:7.2f}")


if __name__ == "__main__":
    main()
