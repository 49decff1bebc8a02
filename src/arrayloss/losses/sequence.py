r"""Connectionist temporal classification (CTC): the forward algorithm in log space.

The label sequence ``l`` (length ``L``) is extended with blanks, ``b l₁ b l₂ … b l_L b``
(length ``2L + 1``), and ``α_t(s)``, the log-probability of all alignments of the first
``t + 1`` frames that end in extended position ``s``, follows

.. math:: α_t(s) = \log\!\left(e^{α_{t-1}(s)} + e^{α_{t-1}(s-1)}
          + [\text{skip}_s]\,e^{α_{t-1}(s-2)}\right) + \log p_t(l'_s)

where the skip from ``s - 2`` is allowed when ``l'_s`` is not blank and differs from
``l'_{s-2}``. The loss is ``-log(e^{α_{T-1}(2L)} + e^{α_{T-1}(2L-1)})``.

Everything has a static shape, so the code traces under ``jax.jit`` and
``torch.compile``: the loop over frames is a Python loop over the static ``T`` (unrolled
by tracers, so compile time grows with ``T``), per-sequence lengths are masks, and the
final positions are picked by comparing against ``arange``, never by an index gather.
"""

from __future__ import annotations

import math
from typing import Any

from ..core.chain_rule import no_closed_form
from ..core.define import define_loss
from ..core.namespace import default_index
from ..core.namespace import device_of as _device
from ..core.options import Flag
from ..core.stable import log_softmax

__all__ = ["ctc"]


# The log of probability 0 inside the recursion: a finite stand-in for -inf, so every step
# is a plain logaddexp of finite numbers. With -inf, logaddexp(-inf, -inf) has the gradient
# 0·inf = NaN on some backends, and it would reach every earlier frame; with -1e30 the
# untaken terms get exp(-1e30 - x) = 0. -1e30 absorbs any real log-probability added to it
# (float32 spacing near 1e30 is ~1e23), so unreachable states stay near -1e30, far below
# any real log-likelihood (logits of 1e4 over 1e4 frames give -1e8), and the result maps
# them back to an infinite loss.
LOG_ZERO = -1e30
IMPOSSIBLE = LOG_ZERO / 2


@define_loss("ctc", family="sequence", kind="custom",
             inputs=("labels", "logits", "label_lengths", "logit_lengths"),
             prediction="logits", keep_dtype=("labels", "label_lengths", "logit_lengths"))
def ctc(xp: Any, labels: Any, logits: Any, label_lengths: Any, logit_lengths: Any, *,
        blank: int = 0, zero_infinity: Flag = False) -> Any:
    r"""CTC negative log-likelihood of each label sequence, from unnormalized logits.

    .. math:: \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(l_n)}
              \prod_{t=0}^{T_n - 1} p_t(\pi_t), \quad
              p_t = \operatorname{softmax}(z_{n, t})

    ``z = logits``; the sum runs over every alignment ``π``, a path of ``T_n`` frames over
    the classes and the blank, that the collapse ``B`` (merge repeated symbols, then drop
    the blanks) maps to the label sequence ``l_n = labels[n, :L_n]``, with
    ``T_n = logit_lengths[n]`` and ``L_n = label_lengths[n]``. It is computed by the
    forward algorithm in log space (Graves et al., 2006).

    ``labels`` ``(N, S)`` integers (entries past ``label_lengths[n]`` are padding, any
    value), ``logits`` ``(N, T, C)`` (log-softmax is applied over ``C``),
    ``label_lengths`` and ``logit_lengths`` ``(N,)`` integers. The per-sample value is
    ``-log p(labels[n, :label_lengths[n]] | logits[n, :logit_lengths[n]])``.

    An impossible alignment (labels too long for the frames, counting a blank between
    repeats) gives ``inf``, or 0 with ``zero_infinity=True`` (with a zero gradient).
    Invalid inputs give NaN for their sample, on every backend: a label within
    ``label_lengths`` outside ``[0, C)`` or equal to ``blank``, a length below 0 or beyond
    its axis.

    PyTorch ``F.ctc_loss(log_softmax(logits).transpose(0, 1), labels, logit_lengths,
    label_lengths, blank, reduction="none", zero_infinity)`` gives the same values.
    PyTorch's ``reduction="mean"`` divides each loss by its label length first:
    ``mean(ctc(..., reduction="none") / max(label_lengths, 1))``. optax
    ``ctc_loss(logits, logit_paddings, labels, label_paddings)`` agrees where alignments
    exist; it floors ``log 0`` at ``-1e5``, so it returns about ``1e5`` where this returns
    ``inf``. Keras's ``ctc`` takes full-length logits and 0-padded labels.

    Under ``jax.jit`` the ``T`` frames are unrolled: the loss compiles in about linear time
    in ``T``, its gradient in worse than linear time (T=10, 50, 100: 6 s, 31 s, 96 s on a
    loaded 2-core CPU; ``docs/structured.md``); the run time is ``O(N·T·(S + C))``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> logits = xp.zeros((1, 2, 2))  # two frames, uniform over {blank, "a"}
    >>> loss = arrayloss.ctc(xp.asarray([[1]]), logits, xp.asarray([1]), xp.asarray([2]))
    >>> float(loss)  # 3 of the 4 paths ("a-", "-a", "aa") read "a": -log(3/4)
    0.2876820724517809
    """
    _check_inputs(xp, labels, logits, label_lengths, logit_lengths, blank)
    n, frames, classes = logits.shape
    width = labels.shape[1]
    # One integer dtype for labels and lengths (mixed integer kinds do not promote
    # alike everywhere): the namespace's default index dtype.
    index = default_index(xp, _device(logits))
    labels, label_lengths, logit_lengths = (
        xp.astype(x, index) for x in (labels, label_lengths, logit_lengths))
    if n == 0:  # an empty batch (a static shape): no sequences, no values
        return xp.zeros((0,), dtype=logits.dtype, device=_device(logits))
    log_probs = log_softmax(logits, axis=-1)

    # Extended labels b l1 b l2 ... b lS b, shape (N, 2S + 1).
    blanks = xp.full((n, width), blank, dtype=index, device=_device(labels))
    extended = xp.reshape(xp.stack([blanks, labels], axis=2), (n, 2 * width))
    extended = xp.concat([extended, blanks[:, :1]], axis=1)
    size = 2 * width + 1
    # Emission log-probabilities log p_t(l'_s), shape (N, T, 2S + 1), by one `take` on the
    # flattened log-probabilities with flat indices (n·T + t)·C + l'_s: a static shape, no
    # (N, T, S, C) one-hot product, and no matmul (JAX computes float32 matmuls in TF32 on
    # recent GPUs, which would round the selected values). Labels outside [0, C) (padding
    # of any value, or invalid labels, which give NaN below) read class 0 instead of an
    # index error on one backend and a clamp on another.
    in_range = (extended >= 0) & (extended < classes)
    extended = xp.where(in_range, extended, xp.zeros_like(extended))
    row = xp.reshape(xp.arange(n * frames, dtype=index, device=_device(labels)),
                     (n, frames, 1)) * classes
    flat = xp.reshape(row + xp.expand_dims(extended, axis=1), (n * frames * size,))
    emissions = xp.reshape(xp.take(xp.reshape(log_probs, (n * frames * classes,)), flat,
                                   axis=0), (n, frames, size))
    # Skips from s - 2 into a non-blank label that differs from the one before it.
    differs = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    skip = xp.concat([xp.zeros((n, 2), dtype=xp.bool, device=_device(labels)), differs],
                     axis=1)

    # A log-probability of exactly 0 (a -inf logit) is floored at LOG_ZERO: the clamp acts
    # only where the exact value is -inf or beyond any real value.
    emissions = xp.where(emissions < LOG_ZERO, xp.full_like(emissions, LOG_ZERO), emissions)
    # Log-weights of the three transitions into s (from s, s - 1, s - 2), shape
    # (N, 3, 2S + 1): 0 where allowed, LOG_ZERO for a skip the rule forbids.
    allowed = xp.stack([xp.ones_like(skip), xp.ones_like(skip), skip], axis=1)
    skip_weight = xp.where(allowed, xp.zeros(allowed.shape, dtype=log_probs.dtype,
                                             device=_device(logits)),
                           xp.full(allowed.shape, LOG_ZERO, dtype=log_probs.dtype,
                                   device=_device(logits)))
    # Indices into alpha padded with two LOG_ZERO columns: s + 2, s + 1, s.
    base = xp.arange(size, dtype=index, device=_device(labels))
    predecessors = xp.concat([base + 2, base + 1, base])

    positions = xp.arange(size, dtype=index, device=_device(labels))
    # Before the first frame only the start (an empty prefix at position 0) is reached.
    start = xp.zeros((n, size), dtype=log_probs.dtype, device=_device(logits))
    alpha = xp.where(positions == 0, start, xp.full_like(start, LOG_ZERO))
    pad = xp.full((n, 2), LOG_ZERO, dtype=log_probs.dtype, device=_device(logits))
    running = xp.expand_dims(logit_lengths, axis=1)
    for t in range(frames):
        # Frame t's emissions by a `take` with the index as data: one compiled op for every
        # frame in eager JAX (a slice with a static start compiles once per frame), and
        # batched by torch.func.vmap (unstack's moveaxis is not).
        at = xp.asarray([t], dtype=index, device=_device(labels))
        emit = xp.reshape(xp.take(emissions, at, axis=1), (n, size))
        # The three predecessors s, s - 1, s - 2 of every position, read from one padded
        # copy by one `take` with static indices, then one max-shifted logsumexp. The take
        # is deliberate: XLA does not fuse it into the previous frame, so jax.jit's compile
        # time grows about linearly with T; with slices (or separate logaddexps of shifted
        # copies) XLA fuses the unrolled frames into one growing expression and the compile
        # time grows quadratically. Every term is finite (at least LOG_ZERO), so the shift
        # is finite and the sum is at least 1.
        padded = xp.concat([pad, alpha], axis=1)
        terms = xp.reshape(xp.take(padded, predecessors, axis=1), (n, 3, size)) + skip_weight
        top = xp.max(terms, axis=1, keepdims=True)
        step = xp.squeeze(top, axis=1) + xp.log(xp.sum(xp.exp(terms - top), axis=1))
        # Frames past a sequence's length leave its alpha as it was.
        alpha = xp.where(t < running, step + emit, alpha)

    # The two final positions 2L and 2L - 1, picked by comparison (a sum over one entry);
    # with L = 0 there is only position 0.
    ends = 2 * xp.expand_dims(label_lengths, axis=1)
    zero = xp.zeros_like(alpha)
    last_blank = xp.sum(xp.where(positions == ends, alpha, zero), axis=1)
    last_label = xp.sum(xp.where(positions == ends - 1, alpha, zero), axis=1)
    last_label = xp.where(label_lengths > 0, last_label, xp.full_like(last_label, LOG_ZERO))
    likelihood = xp.logaddexp(last_blank, last_label)
    impossible = likelihood < IMPOSSIBLE
    # Double where: an impossible sample's value is a constant (inf, or 0 with
    # zero_infinity), so its gradient is 0, and its LOG_ZERO arithmetic stays finite.
    loss = xp.where(impossible, xp.full_like(likelihood, 0.0 if zero_infinity else math.inf),
                    -likelihood)
    invalid = _invalid(xp, labels, label_lengths, logit_lengths, blank, classes, frames)
    return xp.where(invalid, xp.full_like(loss, math.nan), loss)


no_closed_form(
    "ctc",
    "its value sums over alignments through the forward-backward recursion, "
    "so it is differentiated by autodiff only",
)


def _check_inputs(xp: Any, labels: Any, logits: Any, label_lengths: Any, logit_lengths: Any,
                  blank: Any) -> None:
    """Static checks: shapes, integer dtypes and the blank index."""
    if logits.ndim != 3:
        raise ValueError(f"logits must have shape (N, T, C); got shape {tuple(logits.shape)}")
    n, _, classes = logits.shape
    expected = {"labels": (labels, 2), "label_lengths": (label_lengths, 1),
                "logit_lengths": (logit_lengths, 1)}
    for name, (array, ndim) in expected.items():
        if not xp.isdtype(array.dtype, "integral"):
            raise TypeError(f"{name} must be integers; got dtype {array.dtype}")
        if array.ndim != ndim or array.shape[0] != n:
            want = "(N, S)" if ndim == 2 else "(N,)"
            raise ValueError(
                f"{name} must have shape {want} with N = {n} (logits.shape="
                f"{tuple(logits.shape)}); got {name}.shape={tuple(array.shape)}")
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < classes:
        raise ValueError(f"blank must be an int class index in [0, {classes}); got {blank!r}")


def _invalid(xp: Any, labels: Any, label_lengths: Any, logit_lengths: Any, blank: int,
             classes: int, frames: int) -> Any:
    """Per sample: a label within its length outside ``[0, C)`` or blank, or a bad length."""
    width = labels.shape[1]
    used = xp.arange(width, dtype=labels.dtype, device=_device(labels)) < xp.expand_dims(
        label_lengths, axis=1)
    bad_label = used & ((labels < 0) | (labels >= classes) | (labels == blank))
    return (xp.any(bad_label, axis=1) | (label_lengths < 0) | (label_lengths > width)
            | (logit_lengths < 0) | (logit_lengths > frames))
