r"""Cross-entropy of a linear classifier without its logits: ``hidden @ weight.T`` is computed
one block of tokens and one chunk of the vocabulary at a time and never held whole.

For ``N`` tokens and a vocabulary of ``V`` classes, the logits and their gradient are two
``N × V`` arrays (8 GiB at ``N = 8192``, ``V = 262144`` in float32). Here each token block's
logits live only while its block is processed: an online logsumexp runs over the vocabulary
chunks, and the gradients of ``hidden``, ``weight`` and ``bias`` are accumulated from each
chunk's softmax. When a block's whole vocabulary fits in one chunk (the default up to
``V = 32768``) its logits are computed once; otherwise each chunk's logits are recomputed for
the gradient (one more matrix product).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..core.namespace import (
    cast,
    computation_dtype,
    default_index,
    device_of,
    namespace_name,
    namespace_of,
)
from ..core.native import add_matmul, exp_in_place, subtract_at_columns
from ..core.reduction import PARTIAL, as_array, as_bool, reduce_values

__all__ = ["LinearCrossEntropy", "python_token_loop", "reduce_tokens", "row_scale"]

# Elements of one block of logits (8 MiB in float32): the memory the chunking works in,
# beside the gradients themselves; fewer tokens per block add more passes over the
# accumulated weight gradient (at V = 32768, 64 tokens a block cost 10% more time than 256
# and a third of the memory).
_BLOCK_ELEMENTS = 2**21
_DEFAULT_VOCAB_CHUNK = 32768

Reduce = Callable[[Any], Any]
# (problem, scale, accumulators) -> (per-token losses, d hidden), both flat.
TokenLoop = Callable[["LinearCrossEntropy", Any, list[Any]], tuple[Any, Any]]


class LinearCrossEntropy:
    """One call's validated inputs and options, and the blocked computation over them."""

    def __init__(self, labels: Any, hidden: Any, weight: Any, bias: Any, *,
                 ignore_index: int | None, label_smoothing: float, z_loss: float,
                 softcap: float | None, token_chunk_size: int | None,
                 vocab_chunk_size: int | None, vocab_start: int,
                 all_reduce_max: Reduce | None, all_reduce_sum: Reduce | None) -> None:
        xp = namespace_of(hidden)
        self.xp = xp
        self.device = device_of(hidden)
        if hidden.ndim < 1 or weight.ndim != 2 or weight.shape[1] != hidden.shape[-1]:
            raise ValueError(
                "linear_cross_entropy needs hidden of shape (..., d) and weight of shape "
                f"(V, d) (PyTorch's nn.Linear layout); got hidden {tuple(hidden.shape)} and "
                f"weight {tuple(weight.shape)}")
        if tuple(labels.shape) != tuple(hidden.shape[:-1]):
            raise ValueError(
                f"labels must have hidden's shape without its last axis, "
                f"{tuple(hidden.shape[:-1])}; got {tuple(labels.shape)}")
        if bias is not None and tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},) like weight's rows; "
                             f"got {tuple(bias.shape)}")
        if not xp.isdtype(labels.dtype, "integral"):
            raise TypeError(f"labels must be integer class indices; got dtype {labels.dtype}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing!r}")
        if z_loss < 0:
            raise ValueError(f"z_loss must be >= 0; got {z_loss!r}")
        if softcap is not None and not softcap > 0:
            raise ValueError(f"softcap must be a positive number or None; got {softcap!r}")
        if (all_reduce_max is None) != (all_reduce_sum is None):
            raise ValueError("a vocabulary-parallel call needs both all_reduce_max and "
                             "all_reduce_sum; got only one of them")
        for name, size in (("token_chunk_size", token_chunk_size),
                           ("vocab_chunk_size", vocab_chunk_size)):
            if size is not None and (not isinstance(size, int) or size < 1):
                raise ValueError(f"{name} must be a positive int or None; got {size!r}")
        # 16-bit inputs accumulate in float32 (SPEC section 3), as every matmul here does.
        self.dtype = computation_dtype(xp, hidden, self.device, name="hidden")
        self.input_dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        self.batch_shape = tuple(labels.shape)
        n_tokens = math.prod(self.batch_shape)
        self.hidden = cast(xp, xp.reshape(hidden, (n_tokens, hidden.shape[-1])),
                           self.dtype, name="hidden")
        self.labels = xp.astype(xp.reshape(labels, (n_tokens,)), default_index(xp, self.device))
        self.weight = cast(xp, weight, self.dtype, name="weight")
        self.bias = None if bias is None else cast(xp, bias, self.dtype, name="bias")
        self.ignore_index = ignore_index
        self.smoothing, self.z_loss, self.softcap = label_smoothing, z_loss, softcap
        self.vocab_start = vocab_start
        self.max_reduce, self.sum_reduce = all_reduce_max, all_reduce_sum
        vocab = weight.shape[0]
        self.vocab_chunk = min(vocab, vocab_chunk_size or _DEFAULT_VOCAB_CHUNK) or 1
        self.token_chunk = token_chunk_size or max(1, _BLOCK_ELEMENTS // self.vocab_chunk)

    # -- the formula of one block --------------------------------------------------------

    def _logits(self, hidden: Any, start: int, stop: int) -> Any:
        xp = self.xp
        z = hidden @ xp.matrix_transpose(self.weight[start:stop, :])
        if self.bias is not None:
            z = z + self.bias[start:stop]
        if self.softcap is not None:
            # Gemma's soft cap c·tanh(z/c): bounded logits with the identity's slope near 0.
            z = self.softcap * xp.tanh(z / self.softcap)
        return z

    def _target_logit(self, hidden: Any, labels: Any) -> tuple[Any, Any]:
        """Each token's logit of its label, from one row of ``weight`` (no ``N × V`` pass),
        and whether the label lies in this worker's vocabulary."""
        xp = self.xp
        local = labels - self.vocab_start
        vocab = self.weight.shape[0]
        inside = (local >= 0) & (local < vocab)
        # Clipped so the gather is in range; the `where` below drops what it picked.
        index = xp.clip(local, 0, max(vocab - 1, 0))
        z = xp.sum(hidden * xp.take(self.weight, index, axis=0), axis=1)
        if self.bias is not None:
            z = z + xp.take(self.bias, index, axis=0)
        if self.softcap is not None:
            z = self.softcap * xp.tanh(z / self.softcap)
        return xp.where(inside, z, xp.zeros_like(z)), xp.astype(inside, self.dtype)

    def _chunks(self) -> list[tuple[int, int]]:
        vocab, size = self.weight.shape[0], self.vocab_chunk
        return [(a, min(a + size, vocab)) for a in range(0, vocab, size)] or [(0, 0)]

    def block(self, start: int, stop: int, scale: Any | None,
              accumulators: list[Any] | None) -> tuple[Any, Any | None]:
        """Per-token losses of tokens ``[start, stop)``; with ``scale`` (each token's
        weight in the reduced loss), their gradient, ``d hidden`` returned and ``d weight``,
        ``d bias`` added into ``accumulators`` (one pair per vocabulary chunk)."""
        xp = self.xp
        hidden, labels = self.hidden[start:stop, :], self.labels[start:stop]
        rows = stop - start
        chunks = self._chunks()
        # Online logsumexp: a running max m and a sum s of exp(z - m), rescaled by
        # exp(m_old - m_new) whenever a chunk raises the max, so no exp overflows.
        running_max = xp.full((rows,), -math.inf, dtype=self.dtype, device=self.device)
        running_sum = xp.zeros((rows,), dtype=self.dtype, device=self.device)
        logit_sum = xp.zeros((rows,), dtype=self.dtype, device=self.device)
        kept: Any = None  # (logits or None, exponentials) of a single chunk
        for a, b in chunks:
            z = self._logits(hidden, a, b)
            new_max = xp.maximum(running_max, xp.max(z, axis=1))
            # A row whose max is still -inf has nothing to rescale (-inf - -inf is NaN).
            shift = xp.where(running_max == -math.inf, xp.zeros_like(new_max),
                             running_max - new_max)
            if self.smoothing:
                logit_sum = logit_sum + xp.sum(z, axis=1)
            if self.softcap is None:
                # z is not needed again: shifted and exponentiated in place where the
                # library can (JAX rebinds), so a block allocates one array, not three.
                z -= new_max[:, None]
                exp_z = exp_in_place(xp, z)
            else:
                exp_z = xp.exp(z - new_max[:, None])
            running_sum = running_sum * xp.exp(shift) + xp.sum(exp_z, axis=1)
            running_max = new_max
            if len(chunks) == 1 and scale is not None:
                # The backward needs the logits themselves only through the soft cap.
                kept = (z if self.softcap is not None else None, exp_z)
            del z, exp_z  # each block of logits freed as soon as it is used
        target, found = self._target_logit(hidden, labels)
        vocab = xp.full((rows,), float(self.weight.shape[0]), dtype=self.dtype,  # ok: a shape
                        device=self.device)
        if self.max_reduce is not None and self.sum_reduce is not None:
            # Vocabulary-parallel: every worker holds a slice of the classes. The global max
            # first, then each worker's sum rescaled to it, and the target logit, the logit
            # sum and the vocabulary size, all summed in one call.
            global_max = self.max_reduce(running_max)
            local = xp.stack([running_sum * xp.exp(running_max - global_max), logit_sum,
                              target, found, vocab])
            total = self.sum_reduce(local)
            running_sum, logit_sum, target, found, vocab = (total[i, ...] for i in range(5))
            local_max, running_max = running_max, global_max
        else:
            local_max = running_max
        lse = running_max + xp.log(running_sum)
        eps = self.smoothing
        # PyTorch's smoothing: (1 - ε)·(lse - z_y) + ε·(lse - mean_v z_v); PaLM's z-loss.
        loss = lse - (1 - eps) * target - (eps / vocab) * logit_sum + self.z_loss * lse**2
        valid = found > 0  # a label in no worker's vocabulary: NaN (SPEC section 6)
        loss = xp.where(valid, loss, xp.full_like(loss, math.nan))
        if scale is None or accumulators is None:
            return loss, None
        # A counted token with an invalid label spreads NaN into the gradient, as its loss.
        factor = xp.where(valid, scale, xp.where(scale == 0, scale, xp.full_like(scale, math.nan)))
        # d loss / d z_v = p_v·(1 + 2·z_loss·lse) - (1 - ε)·[v = y] - ε/V, times the token's
        # scale; p_v = exp(z_v - m_local)·exp(m_local - lse) reuses the forward's exponentials.
        p_factor = (factor * (1 + 2 * self.z_loss * lse) * xp.exp(local_max - lse))[:, None]
        uniform = (factor * eps / vocab)[:, None]
        target_step = factor * (1 - eps)
        local_label = labels - self.vocab_start
        d_hidden = xp.zeros_like(hidden)
        for i, (a, b) in enumerate(chunks):
            if kept is not None:
                (z, exp_z), kept = kept, None
            else:  # recompute the chunk's logits rather than keep N × V of them
                z = self._logits(hidden, a, b)
                exp_z = xp.exp(z - local_max[:, None])
            # exp_z is not used again: the gradient overwrites it where the namespace
            # updates in place (JAX rebinds), one block of memory less.
            exp_z *= p_factor
            grad = exp_z
            if eps:
                grad = grad - uniform
            # The label's own term, -(1 - ε) at one column per row: N updates where the
            # namespace can scatter, not three passes over the block.
            grad = subtract_at_columns(xp, grad, local_label - a, target_step)
            if self.softcap is not None:
                grad = grad * (1 - (z / self.softcap) ** 2)  # tanh' = 1 - tanh²
            d_hidden = d_hidden + grad @ self.weight[a:b, :]
            d_weight, d_bias = accumulators[i]
            accumulators[i] = (add_matmul(xp, d_weight, xp.matrix_transpose(grad), hidden),
                               d_bias + xp.sum(grad, axis=0))
        return loss, d_hidden

    # -- over every block ----------------------------------------------------------------

    def losses(self) -> Any:
        """The per-token losses, shape ``labels.shape``."""
        xp = self.xp
        n = self.hidden.shape[0]
        parts = [self.block(a, min(a + self.token_chunk, n), None, None)[0]
                 for a in range(0, n, self.token_chunk)]
        values = xp.concat(parts) if parts else xp.zeros((0,), dtype=self.dtype,
                                                          device=self.device)
        return xp.reshape(values, self.batch_shape)

    def losses_and_gradients(self, scale: Any, token_loop: TokenLoop | None = None
                             ) -> tuple[Any, tuple[Any, Any, Any]]:
        """Per-token losses and the gradient of ``Σ scale·loss`` in hidden, weight, bias,
        each in its input's shape and dtype. ``token_loop`` runs :meth:`block` over the
        token blocks (default: a Python loop; the JAX adapter passes a ``lax.scan``)."""
        xp = self.xp
        n, d = self.hidden.shape
        scale = xp.reshape(cast(xp, scale, self.dtype, name="scale"), (n,))
        accumulators = [(xp.zeros((b - a, d), dtype=self.dtype, device=self.device),
                         xp.zeros((b - a,), dtype=self.dtype, device=self.device))
                        for a, b in self._chunks()]
        flat_loss, hidden_grad = (token_loop or python_token_loop)(self, scale, accumulators)
        loss = xp.reshape(flat_loss, self.batch_shape)
        if self.sum_reduce is not None:  # every worker's classes pull on the same hidden
            hidden_grad = self.sum_reduce(hidden_grad)
        # One chunk (the default up to V = 32768) is its own gradient: no concatenated copy
        # of V × d; and no cast where the input's dtype is already the computation's.
        weight_grad = _joined(xp, [w for w, _ in accumulators])
        bias_grad = _joined(xp, [g for _, g in accumulators])
        hidden_dtype, weight_dtype, bias_dtype = self.input_dtypes
        hidden_grad = xp.reshape(xp.astype(hidden_grad, hidden_dtype, copy=False),
                                 (*self.batch_shape, d))
        return loss, (hidden_grad, xp.astype(weight_grad, weight_dtype, copy=False),
                      None if bias_dtype is None else xp.astype(bias_grad, bias_dtype,
                                                                copy=False))

    def keep(self, mask: Any) -> Any:
        """Tokens that count: the ``mask`` and not ``ignore_index``."""
        xp = self.xp
        keep = xp.ones(self.batch_shape, dtype=xp.bool, device=self.device)
        if mask is not None:
            keep = keep & as_bool(xp, mask)  # already in hidden's library and device
        if self.ignore_index is not None:
            labels = xp.reshape(self.labels, self.batch_shape)
            keep = keep & (labels != self.ignore_index)
        return keep


def _joined(xp: Any, parts: list[Any]) -> Any:
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def python_token_loop(problem: LinearCrossEntropy, scale: Any,
                      accumulators: list[Any]) -> tuple[Any, Any]:
    """:meth:`LinearCrossEntropy.block` over every token block, in order: the per-token
    losses and ``d hidden``, flat."""
    xp = problem.xp
    n, d = problem.hidden.shape
    # Where arrays are written in place, each block's d hidden goes straight into one
    # N × d array: no list of small blocks left between the large ones the allocator
    # frees (which fragments the heap) and no concatenated copy at the end.
    in_place = namespace_name(xp) in ("numpy", "cupy", "torch")
    d_hidden: Any = (xp.empty((n, d), dtype=problem.dtype, device=problem.device)
                     if in_place else [])
    values = []
    for a in range(0, n, problem.token_chunk):
        b = min(a + problem.token_chunk, n)
        value, grad = problem.block(a, b, scale[a:b], accumulators)
        values.append(value)
        if in_place:
            d_hidden[a:b, :] = grad
        else:
            d_hidden.append(grad)
    if not values:
        return (xp.zeros((0,), dtype=problem.dtype, device=problem.device),
                xp.zeros((0, d), dtype=problem.dtype, device=problem.device))
    return xp.concat(values), d_hidden if in_place else xp.concat(d_hidden, axis=0)


def row_scale(xp: Any, keep: Any, sample_weight: Any, reduction: str, dtype: Any) -> Any:
    """Each token's factor in a scalar reduction of the per-token losses: ``w·m`` over the
    mean's denominator (``Σ m`` or ``Σ w·m``), or ``w·m`` for ``"sum"`` and the numerators of
    the partial reductions. Also returns that denominator."""
    weight = xp.astype(keep, dtype)
    if sample_weight is not None:
        weight = weight * xp.broadcast_to(xp.astype(sample_weight, dtype), keep.shape)
    mean = PARTIAL.get(reduction, reduction)
    count = xp.astype(keep, dtype) if mean == "mean" else weight
    denominator = xp.sum(count)
    if reduction in ("mean", "weighted_mean"):
        # A mean over nothing is 0: divide by 1 there (the numerator is 0 too).
        safe = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
        return weight / safe, denominator
    return weight, denominator


def reduce_tokens(xp: Any, losses: Any, keep: Any, sample_weight: Any, reduction: str) -> Any:
    """SPEC section 5's reductions of the per-token losses (``reduction`` checked)."""
    return as_array(xp, reduce_values(xp, losses, sample_weight=sample_weight, mask=keep,
                                      reduction=reduction))
