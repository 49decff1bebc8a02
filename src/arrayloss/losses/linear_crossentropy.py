"""``linear_cross_entropy``: the cross-entropy of ``hidden @ weight.T + bias`` against integer
labels, computed in blocks so the ``N × V`` logits and their gradient never exist whole."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..core.blocked_autodiff import jax_blocked, torch_blocked  # ok: imports no framework
from ..core.namespace import namespace_name, numpy_quiet, resolve
from ..core.options import check_reduction
from ..core.reduction import PARTIAL, as_array
from ._linear_blocks import LinearCrossEntropy, reduce_tokens, row_scale

__all__ = ["linear_cross_entropy", "linear_cross_entropy_value_and_grad"]

Reduce = Callable[[Any], Any]


def _problem(labels: Any, hidden: Any, weight: Any, bias: Any, sample_weight: Any,
             mask: Any, options: dict[str, Any]) -> tuple[Any, ...]:
    xp, _, _, arrays = resolve(
        [("labels", labels), ("hidden", hidden), ("weight", weight), ("bias", bias),
         ("sample_weight", sample_weight), ("mask", mask)],
        reference="hidden", keep_dtype=("labels", "weight", "bias", "mask"))
    labels, hidden, weight, bias, sample_weight, mask = arrays
    make = functools.partial(_make, options)
    problem = make(labels, hidden, weight, bias)
    return xp, make, problem, arrays


def _make(options: dict[str, Any], labels: Any, hidden: Any, weight: Any,
          bias: Any) -> LinearCrossEntropy:
    return LinearCrossEntropy(labels, hidden, weight, bias, **options)


def linear_cross_entropy(
    labels: Any,
    hidden: Any,
    weight: Any,
    /,
    *,
    bias: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    sample_weight: Any = None,
    mask: Any = None,
    reduction: str = "mean",
    token_chunk_size: int | None = None,
    vocab_chunk_size: int | None = None,
    vocab_start: int = 0,
    all_reduce_max: Reduce | None = None,
    all_reduce_sum: Reduce | None = None,
) -> Any:
    r"""Sparse cross-entropy of the logits ``z = hidden @ weight.T + bias``, without them.

    .. math:: \ell_n = \operatorname{lse}(z_n) - (1 - \varepsilon) z_{n, y_n}
              - \frac{\varepsilon}{V} \sum_v z_{n v} + \lambda \operatorname{lse}(z_n)^2,
              \quad z = c \tanh\!\Big(\frac{hW^\top + b}{c}\Big) \text{ with a soft cap } c

    ``hidden`` is ``(..., d)``, ``labels`` its shape without the last axis, ``weight`` is
    ``(V, d)`` (the layout of PyTorch's ``nn.Linear``) and ``bias`` ``(V,)``. The value equals
    ``scce(labels, hidden @ weight.T + bias, from_logits=True, ...)`` and PyTorch's
    ``F.cross_entropy(hidden @ weight.T, labels, label_smoothing=ε)``, but memory grows with
    one block of ``token_chunk_size × vocab_chunk_size`` logits (8 MiB in float32 by
    default), not with ``N × V``. ``z_loss`` (λ) is PaLM's ``λ·lse²``; ``softcap`` (c) is
    Gemma's logit soft-capping. 16-bit inputs accumulate in float32.

    Gradients flow to ``hidden``, ``weight`` and ``bias`` under torch autograd and
    ``jax.grad``/``jax.jit``, through a backward that recomputes nothing for a scalar
    reduction (the forward accumulates it) and never holds the logits;
    :func:`linear_cross_entropy_value_and_grad` returns them on every backend.
    A differentiable ``sample_weight`` gets the naive form's gradient under both (for
    ``"weighted_mean"`` ``(ℓ_i - loss)/Σw``, for ``"mean"`` ``ℓ_i/N``); ``mask`` is a constant.
    Under ``torch.compile`` the backward is traced like the forward, ``fullgraph=True``
    included.

    Vocabulary-parallel: when each worker holds rows ``[vocab_start, vocab_start + V_k)`` of
    ``weight``, pass ``all_reduce_max`` and ``all_reduce_sum`` (functions from an array to its
    all-reduced array); every worker gets the loss of the whole vocabulary, the gradient of
    its own ``weight`` rows and the full gradient of ``hidden``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> hidden = xp.asarray([[1.0, 0.0], [0.0, 2.0]])
    >>> weight = xp.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> labels = xp.asarray([0, 2])
    >>> arrayloss.linear_cross_entropy(labels, hidden, weight, reduction="none")
    Array([0.8619948 , 0.75862368], dtype=array_api_strict.float64)
    >>> arrayloss.scce(labels, hidden @ weight.T, from_logits=True, reduction="none")
    Array([0.8619948 , 0.75862368], dtype=array_api_strict.float64)
    """
    check_reduction(reduction)
    options = _options(locals())
    xp, make, problem, arrays = _problem(labels, hidden, weight, bias, sample_weight, mask,
                                         options)
    labels, hidden, weight, bias, sample_weight, mask = arrays
    keep = problem.keep(mask)
    library = namespace_name(xp)
    if library in ("torch", "jax"):
        run = torch_blocked if library == "torch" else jax_blocked
        scale, denominator = row_scale(xp, keep, sample_weight, reduction, problem.dtype)
        if reduction == "none":  # w·m·l per token; the backward weighs by the cotangent
            per_token_weight = (xp.ones_like(scale) if sample_weight is None
                                else xp.broadcast_to(sample_weight, scale.shape))
            per_token = run(make, True, problem.labels, hidden, weight, bias,
                            xp.reshape(per_token_weight, (-1,)), xp.reshape(keep, (-1,)))
            return xp.reshape(per_token, problem.batch_shape)
        total = run(make, False, problem.labels, hidden, weight, bias,
                    xp.reshape(scale, (-1,)), xp.reshape(keep, (-1,)))
        return (total, denominator) if reduction in PARTIAL else total
    with numpy_quiet(xp):
        return reduce_tokens(xp, problem.losses(), keep, sample_weight, reduction)


def linear_cross_entropy_value_and_grad(
    labels: Any,
    hidden: Any,
    weight: Any,
    /,
    *,
    bias: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    sample_weight: Any = None,
    mask: Any = None,
    reduction: str = "mean",
    token_chunk_size: int | None = None,
    vocab_chunk_size: int | None = None,
    vocab_start: int = 0,
    all_reduce_max: Reduce | None = None,
    all_reduce_sum: Reduce | None = None,
) -> tuple[Any, tuple[Any, Any, Any]]:
    """:func:`linear_cross_entropy`'s scalar value and its gradients ``(d_hidden, d_weight,
    d_bias)`` (``d_bias`` is None without ``bias``), on every backend, NumPy and Dask
    included, in one blocked pass. For the partial reductions the value is the numerator.

    >>> import numpy as np
    >>> import arrayloss
    >>> hidden, weight = np.eye(2), np.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> value, (d_hidden, d_weight, _) = arrayloss.linear_cross_entropy_value_and_grad(
    ...     np.asarray([0, 2]), hidden, weight)
    >>> d_weight.shape
    (3, 2)
    """
    if check_reduction(reduction) == "none":
        raise ValueError("linear_cross_entropy_value_and_grad needs a scalar reduction "
                         "('mean', 'sum', 'weighted_mean' or a partial one); got 'none'")
    options = _options(locals())
    xp, _, problem, arrays = _problem(labels, hidden, weight, bias, sample_weight, mask,
                                      options)
    sample_weight, mask = arrays[4], arrays[5]
    keep = problem.keep(mask)
    scale, _ = row_scale(xp, keep, sample_weight, reduction, problem.dtype)
    with numpy_quiet(xp):
        losses, grads = problem.losses_and_gradients(scale)
        total = xp.sum(xp.where(keep, scale * losses, xp.zeros_like(losses)))
    return as_array(xp, total), grads


_OPTIONS = ("ignore_index", "label_smoothing", "z_loss", "softcap", "token_chunk_size",
            "vocab_chunk_size", "vocab_start", "all_reduce_max", "all_reduce_sum")


def _options(arguments: dict[str, Any]) -> dict[str, Any]:
    return {name: arguments[name] for name in _OPTIONS}
