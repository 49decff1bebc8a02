"""Autodiff adapters of the blocked losses (``linear_cross_entropy``): a
``torch.autograd.Function`` and a ``jax.custom_vjp`` around the array-API computation.

The blocked computation accumulates its own gradients, so neither framework records the
per-block graph (which would hold every block's logits until the backward). For a scalar
reduction each token's factor is known in the forward, so the forward computes the gradient
at once and the backward only scales it by the incoming cotangent; for ``"none"`` the factor
is the cotangent itself, so the backward recomputes. The frameworks are imported only when
their arrays are passed.

Each token's ``scale`` gets its gradient too, ``m·l`` (times the cotangent): the framework
carries it through ``scale``'s own computation from ``sample_weight`` (``w·m/Σw·m`` for
``"weighted_mean"``), so a differentiable ``sample_weight`` gets the naive form's gradient.

Under ``torch.compile`` the ``autograd.Function`` is traced like any other, forward and
backward, ``fullgraph=True`` included (its class is built outside the trace: see
``__getattr__``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["jax_blocked", "torch_blocked"]

# make(labels, hidden, weight, bias) -> the blocked problem (losses/linear_crossentropy.py).
Make = Callable[[Any, Any, Any, Any], Any]


def _weighted(xp: Any, losses: Any, scale: Any, keep: Any) -> Any:
    # `where`, not a product: a dropped token's loss may be NaN (an out-of-range label).
    losses = xp.reshape(losses, (-1,))
    return xp.where(keep, scale * losses, xp.zeros_like(losses))


def _kept(xp: Any, losses: Any, keep: Any) -> Any:
    """``m·l`` per token, flat: the gradient of ``Σ scale·m·l`` in ``scale``."""
    losses = xp.reshape(losses, (-1,))
    return xp.where(keep, losses, xp.zeros_like(losses))


def __getattr__(name: str) -> Any:
    """``TorchBlockedLoss``: the ``torch.autograd.Function``, built at its first lookup.

    Looked up as an attribute of this module, not called: under ``torch.compile``, Dynamo
    runs a module's ``__getattr__`` for real (it cannot trace the class definition), so the
    class is built outside the trace and ``fullgraph=True`` holds from the first call."""
    if name == "TorchBlockedLoss":
        return _torch_function()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _torch_function() -> Any:
    import torch  # ok: the caller passed torch tensors

    class BlockedLoss(torch.autograd.Function):  # ok: torch imported lazily, for its tensors
        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, bias: Any, labels: Any,
                    scale: Any, keep: Any, make: Make, per_token: bool) -> Any:
            problem = make(labels, hidden, weight, bias)
            xp = problem.xp
            ctx.make, ctx.per_token = make, per_token
            if per_token:
                losses = problem.losses()
                ctx.save_for_backward(hidden, weight, bias, labels, scale, keep,
                                      _kept(xp, losses, keep))
                return _weighted(xp, losses, scale, keep)
            losses, grads = problem.losses_and_gradients(scale)
            ctx.grads = (*grads, _kept(xp, losses, keep))
            return xp.sum(_weighted(xp, losses, scale, keep))

        @staticmethod
        def backward(ctx: Any, *cotangents: Any) -> Any:
            (cotangent,) = cotangents
            if ctx.per_token:
                hidden, weight, bias, labels, scale, keep, losses = ctx.saved_tensors
                problem = ctx.make(labels, hidden, weight, bias)
                _, grads = problem.losses_and_gradients(
                    torch.where(keep, cotangent * scale, torch.zeros_like(scale)))
                d_scale = cotangent * losses
            else:
                # The forward's gradients are this call's own: scaled in place (no second
                # copy of d weight) unless a graph of the backward is being recorded.
                in_place = not torch.is_grad_enabled()
                *grads, d_scale = (None if g is None else g.mul_(cotangent) if in_place
                                   else g * cotangent for g in ctx.grads)
                ctx.grads = None
            d_hidden, d_weight, d_bias = grads
            return d_hidden, d_weight, d_bias, None, d_scale, None, None, None

    return BlockedLoss


def torch_blocked(make: Make, per_token: bool, labels: Any, hidden: Any, weight: Any,
                  bias: Any, scale: Any, keep: Any) -> Any:
    """``Σ scale·loss`` (or ``scale·loss`` per token) with the blocked backward."""
    from . import blocked_autodiff  # this module, for its __getattr__ (see there)

    return blocked_autodiff.TorchBlockedLoss.apply(hidden, weight, bias, labels, scale, keep,
                                                   make, per_token)


@functools.cache
def _jax_function() -> Any:
    import jax  # ok: the caller passed JAX arrays
    import jax.numpy as jnp  # ok: same

    def as_jax(*arrays: Any) -> tuple[Any, ...]:
        # The primals of an argument not differentiated may arrive as NumPy-backed arrays
        # (jax's TypedNdArray, an ndarray): the problem would run in NumPy, and its
        # lax.scan over traced token blocks would fail. jnp.asarray passes jax arrays through.
        return tuple(None if x is None else jnp.asarray(x) for x in arrays)

    @functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
    def blocked(make: Make, per_token: bool, labels: Any, hidden: Any, weight: Any,
                bias: Any, scale: Any, keep: Any) -> Any:
        labels, hidden, weight, bias, scale, keep = as_jax(labels, hidden, weight, bias,
                                                           scale, keep)
        problem = make(labels, hidden, weight, bias)
        weighted = _weighted(problem.xp, problem.losses(), scale, keep)
        return weighted if per_token else jnp.sum(weighted)

    def forward(make: Make, per_token: bool, labels: Any, hidden: Any, weight: Any,
                bias: Any, scale: Any, keep: Any) -> Any:
        labels, hidden, weight, bias, scale, keep = as_jax(labels, hidden, weight, bias,
                                                           scale, keep)
        problem = make(labels, hidden, weight, bias)
        if per_token:
            losses = problem.losses()
            weighted = _weighted(problem.xp, losses, scale, keep)
            return weighted, (labels, hidden, weight, bias, scale, keep,
                              _kept(problem.xp, losses, keep))
        losses, grads = problem.losses_and_gradients(scale, _scan_token_loop)
        return (jnp.sum(_weighted(problem.xp, losses, scale, keep)),
                (*grads, _kept(problem.xp, losses, keep)))

    def backward(make: Make, per_token: bool, residual: Any, cotangent: Any) -> Any:
        if per_token:
            labels, hidden, weight, bias, scale, keep, losses = residual
            _, grads = make(labels, hidden, weight, bias).losses_and_gradients(
                jnp.where(keep, cotangent * scale, jnp.zeros_like(scale)), _scan_token_loop)
            d_scale = (cotangent * losses).astype(scale.dtype)  # sample_weight's dtype
        else:  # the scale of a scalar reduction is in the losses' dtype
            *grads, d_scale = (None if g is None else g * cotangent for g in residual)
        d_hidden, d_weight, d_bias = grads
        return None, d_hidden, d_weight, d_bias, d_scale, None

    blocked.defvjp(forward, backward)
    return blocked


def _scan_token_loop(problem: Any, scale: Any, accumulators: list[Any]) -> tuple[Any, Any]:
    """The token blocks under ``lax.scan``: one compiled block, run in sequence, so XLA
    holds one block's logits at a time (an unrolled loop lets it schedule every block's
    logits at once). The tokens are padded to whole blocks with a scale of 0."""
    import copy

    import jax  # ok: the caller passed JAX arrays
    import jax.numpy as jnp  # ok: same

    n_tokens, dim = problem.hidden.shape
    size = min(problem.token_chunk, max(n_tokens, 1))
    blocks = -(-n_tokens // size)
    pad = blocks * size - n_tokens
    hidden = jnp.pad(problem.hidden, ((0, pad), (0, 0))).reshape(blocks, size, dim)
    labels = jnp.pad(problem.labels, (0, pad)).reshape(blocks, size)
    scales = jnp.pad(scale, (0, pad)).reshape(blocks, size)

    def step(carry: Any, block: Any) -> Any:
        part = copy.copy(problem)
        part.labels, part.hidden, block_scale = block
        summed = list(carry)
        loss, d_hidden = part.block(0, size, block_scale, summed)
        return tuple(summed), (loss, d_hidden)

    summed, (losses, d_hidden) = jax.lax.scan(step, tuple(accumulators),
                                              (labels, hidden, scales))
    accumulators[:] = list(summed)
    return losses.reshape(-1)[:n_tokens], d_hidden.reshape(-1, dim)[:n_tokens]


def jax_blocked(make: Make, per_token: bool, labels: Any, hidden: Any, weight: Any,
                bias: Any, scale: Any, keep: Any) -> Any:
    """The JAX form of :func:`torch_blocked`; traces under ``jax.jit``."""
    return _jax_function()(make, per_token, labels, hidden, weight, bias, scale, keep)
