"""linear_cross_entropy against the naive ``cross_entropy(hidden @ weight.T, labels)``:
forward+backward time and peak extra memory, on torch eager, jax.jit and NumPy.

    python benchmarks/linear_cross_entropy.py [--tokens 8192 --vocab 32768 --dim 512]

Each measurement runs in its own process. Peak extra memory: torch, the growth of the peak
resident set over the inputs (``ru_maxrss``); NumPy, tracemalloc's peak (NumPy reports its
allocations to it); jax.jit, the compiled program's temporaries and outputs
(``memory_analysis``). Times are the best of ``--repeat`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _inputs(np, n, v, d):
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((n, d), dtype=np.float32)
    weight = (rng.standard_normal((v, d), dtype=np.float32) * 0.05).astype(np.float32)
    labels = rng.integers(0, v, n)
    return labels, hidden, weight


def _best(run, repeat):
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(library, form, n, v, d, repeat):
    import numpy as np

    import arrayloss

    labels, hidden, weight = _inputs(np, n, v, d)
    if library == "torch":
        import torch

        torch.set_num_threads(torch.get_num_threads())
        y = torch.asarray(labels)
        h = torch.asarray(hidden).requires_grad_()
        w = torch.asarray(weight).requires_grad_()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        def run():
            h.grad = w.grad = None
            if form == "naive":
                loss = torch.nn.functional.cross_entropy(h @ w.T, y)
            else:
                loss = arrayloss.linear_cross_entropy(y, h, w)
            loss.backward()
            return loss

        seconds = _best(run, repeat)
        extra = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        value = float(run().detach())
    elif library == "jax":
        import jax
        import jax.numpy as jnp

        y, h, w = jnp.asarray(labels), jnp.asarray(hidden), jnp.asarray(weight)

        def naive(h, w):
            logits = h @ w.T
            lse = jax.nn.logsumexp(logits, axis=1)
            return jnp.mean(lse - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])

        def ours(h, w):
            return arrayloss.linear_cross_entropy(y, h, w)

        step = jax.jit(jax.value_and_grad(naive if form == "naive" else ours, argnums=(0, 1)))
        compiled = step.lower(h, w).compile()
        stats = compiled.memory_analysis()
        extra = stats.temp_size_in_bytes + stats.output_size_in_bytes

        def run():
            out = compiled(h, w)
            jax.block_until_ready(out)
            return out

        seconds = _best(run, repeat)
        value = float(run()[0])
    else:
        import tracemalloc

        def naive():
            logits = hidden @ weight.T
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            value = np.mean(np.log(total[:, 0]) - shifted[np.arange(n), labels])
            grad = exp / total
            grad[np.arange(n), labels] -= 1
            grad /= n
            return value, grad @ weight, grad.T @ hidden

        def ours():
            value, (d_h, d_w, _) = arrayloss.linear_cross_entropy_value_and_grad(
                labels, hidden, weight)
            return value, d_h, d_w

        run = naive if form == "naive" else ours
        seconds = _best(run, repeat)
        tracemalloc.start()
        value = float(run()[0])
        extra = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": seconds, "extra_bytes": extra, "value": value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--vocab", type=int, default=32768)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--libraries", default="torch,jax,numpy")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = (args.tokens, args.vocab, args.dim)
    if args.child:
        print(json.dumps(measure(*args.child, *shape, args.repeat)))
        return
    print(f"N = {args.tokens}, V = {args.vocab}, d = {args.dim}, float32, forward+backward\n")
    print("| backend | naive time | arrayloss time | time ratio | naive peak extra "
          "| arrayloss peak extra | memory ratio | |value diff| |")
    print("|---|---|---|---|---|---|---|---|")
    for library in args.libraries.split(","):
        results = {}
        for form in ("naive", "arrayloss"):
            out = subprocess.run([sys.executable, __file__, "--tokens", str(args.tokens),
                                  "--vocab", str(args.vocab), "--dim", str(args.dim),
                                  "--repeat", str(args.repeat), "--child", library, form],
                                 capture_output=True, text=True, check=True)
            results[form] = json.loads(out.stdout.strip().splitlines()[-1])
        naive, ours = results["naive"], results["arrayloss"]
        name = {"torch": "torch eager", "jax": "jax.jit", "numpy": "NumPy"}[library]
        print(f"| {name} | {naive['seconds']:.2f} s | {ours['seconds']:.2f} s "
              f"| {ours['seconds'] / naive['seconds']:.2f} "
              f"| {naive['extra_bytes'] / 2**20:.0f} MiB | {ours['extra_bytes'] / 2**20:.0f} MiB "
              f"| {ours['extra_bytes'] / naive['extra_bytes']:.3f} "
              f"| {abs(ours['value'] - naive['value']):.1e} |", flush=True)


if __name__ == "__main__":
    main()
