"""Would the closed-form derivatives make PyTorch's backward faster? A measurement.

    python benchmarks/closed_form_backward.py [--size N] [--classes C] [--repeat R] [--markdown]

Each loss with a closed form runs three ways, forward and ``backward()``, eager, one thread:

- ``closed form``: a ``torch.autograd.Function`` whose forward is the loss's formula (no
  graph recorded) and whose backward is the loss's closed-form gradient (the chain rule of
  ``arrayloss.gradient``) times the incoming gradient;
- ``autodiff``: the loss as arrayloss runs it, autograd through the formula;
- ``native``: PyTorch's own function, or a hand-written expression.

Printed as ratios to ``native``. The generic adapter here is the experiment, not the
library's code path: it recomputes what the backward needs from the closed form of
``arrayloss.gradient``. arrayloss's own Functions (``log_cosh``, the binary focal loss and
the binary cross-entropy from logits) each save their forward's intermediates and write the
derivative beside the formula (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from table import Table  # benchmarks/table.py, beside this script

import arrayloss
from arrayloss.core.chain_rule import _evaluate, form_of
from arrayloss.core.define import PerSample, bind, per_sample
from arrayloss.core.reduction import plain_reduction, reduce_values


def closed_form_loss(loss: Any, *arrays: Any, **options: Any) -> Any:
    import torch

    spec = loss.spec
    call = bind(spec, arrays, options)
    form = form_of(spec.name)
    index = spec.inputs.index(spec.prediction)

    class ClosedForm(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *data: Any) -> Any:
            ctx.save_for_backward(*data)
            result = spec.body(call.xp, *data, **call.body_axis, **call.options)
            if call.plain_mean and not isinstance(result, PerSample):
                return plain_reduction(call.xp, result, call.reduction)
            values, weight, keep = per_sample(call._replace(data=list(data)), result)
            return reduce_values(call.xp, values, sample_weight=weight, mask=keep,
                                 reduction=call.reduction)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            data = ctx.saved_tensors
            gradient = _evaluate(spec, form, call._replace(data=list(data)), value=False,
                                 gradient=True, hessian=False).gradient
            return tuple(grad * gradient if i == index else None for i in range(len(data)))

    return ClosedForm.apply(*call.data)


def cases(n: int, c: int) -> list[tuple[str, Any, Callable[..., Any], tuple[Any, ...],
                                        dict[str, Any], Callable[[], Any]]]:
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)

    def tensor(x: np.ndarray, grad: bool = False) -> Any:
        return torch.tensor(x, dtype=torch.float32, requires_grad=grad)

    z = tensor(rng.normal(size=(n, c)), grad=True)
    probs = tensor(rng.uniform(0.01, 0.99, size=(n, c)), grad=True)
    target = tensor(rng.normal(size=(n, c)))
    binary = tensor(rng.integers(0, 2, (n, c)).astype(float))
    soft = tensor(rng.dirichlet(np.ones(c), n))
    signed = 2 * binary - 1

    def focal() -> Any:
        p = torch.sigmoid(z)
        ce = F.binary_cross_entropy_with_logits(z, binary, reduction="none")
        p_t = p * binary + (1 - p) * (1 - binary)
        return ((1 - p_t) ** 2 * ce).mean()

    return [
        ("mae", z, arrayloss.mae, (target, z), {}, lambda: F.l1_loss(z, target)),
        ("log_cosh", z, arrayloss.log_cosh, (target, z), {},
         lambda: torch.log(torch.cosh(z - target)).mean()),
        ("hinge", z, arrayloss.hinge, (signed, z), {},
         lambda: torch.clamp(1 - signed * z, min=0).mean()),
        ("bce from probabilities", probs, arrayloss.bce, (binary, probs), {},
         lambda: F.binary_cross_entropy(probs, binary)),
        ("cce from logits (soft targets)", z, arrayloss.cce, (soft, z),
         {"from_logits": True}, lambda: F.cross_entropy(z, soft)),
        ("kl_divergence from logits", z, arrayloss.kld, (soft, z), {"from_logits": True},
         lambda: F.kl_div(F.log_softmax(z, dim=-1), soft, reduction="batchmean")),
        ("binary focal from logits", z, arrayloss.focal, (binary, z), {"from_logits": True},
         focal),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"N={args.size}, C={args.classes}, median of {args.repeat} interleaved runs, "
          f"ratios to the native function")
    table = Table(("loss", "closed form", "autodiff", "native"), markdown=args.markdown)
    for name, x, loss, arrays, options, native in cases(args.size, args.classes):
        runs = [functools.partial(closed_form_loss, loss, *arrays, **options),
                functools.partial(loss, *arrays, **options), native]
        grads = []
        for run in runs[:2]:
            x.grad = None
            run().backward()
            grads.append(x.grad.clone())
        np.testing.assert_allclose(grads[0].numpy(), grads[1].numpy(), rtol=1e-4, atol=1e-9)
        times: list[list[float]] = [[], [], []]
        for _ in range(args.repeat + 1):
            for run, out in zip(runs, times, strict=True):
                x.grad = None
                start = time.perf_counter()
                run().backward()
                out.append(time.perf_counter() - start)
        medians = [statistics.median(t[1:]) for t in times]
        table.row((name, f"{medians[0] / medians[2]:.2f}", f"{medians[1] / medians[2]:.2f}",
                   "1.00"))


if __name__ == "__main__":
    main()
