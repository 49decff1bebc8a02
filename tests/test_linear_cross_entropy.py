"""linear_cross_entropy: the blocked cross-entropy of hidden @ weight.T equals the naive one
(value and the gradients of hidden, weight and bias) on every backend, in every chunking."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from arrayloss import linear_cross_entropy, linear_cross_entropy_value_and_grad
from arrayloss.conformance.backends import backend, forbid_dask_compute

N, V, D = 13, 11, 4
IGNORE = -100
OPTIONS = [
    {},
    {"label_smoothing": 0.2},
    {"z_loss": 0.05},
    {"softcap": 2.0},
    {"label_smoothing": 0.1, "z_loss": 0.01, "softcap": 3.0},
]
CHUNKS = [{}, {"token_chunk_size": 4, "vocab_chunk_size": 3}]
BACKENDS = ["numpy", "array_api_strict", "torch", "jax", "jax_jit", "dask"]


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    hidden = rng.normal(size=(N, D))
    weight = rng.normal(size=(V, D))
    bias = rng.normal(size=V)
    labels = rng.integers(0, V, N)
    labels[2] = IGNORE
    weights = rng.uniform(0.5, 2.0, N)
    return labels, hidden, weight, bias, weights


def _reference(labels, hidden, weight, bias, weights, reduction, options):
    """The naive float64 form: logits, then PyTorch's cross-entropy and z-loss, by hand."""
    z = hidden @ weight.T + bias
    cap = options.get("softcap")
    if cap:
        z = cap * np.tanh(z / cap)
    eps = options.get("label_smoothing", 0.0)
    top = z.max(axis=1, keepdims=True)
    lse = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]
    keep = labels != IGNORE
    target = z[np.arange(N), np.where(keep, labels, 0)]
    losses = lse - (1 - eps) * target - eps * z.mean(axis=1) + options.get("z_loss", 0) * lse**2
    wm = np.where(keep, weights, 0.0)
    total = np.sum(wm * np.where(keep, losses, 0.0))
    if reduction == "none":
        return wm * np.where(keep, losses, 0.0)
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / keep.sum()
    return total / wm.sum()


def _reference_grads(data, reduction, options):
    import torch

    labels, *floats = data
    tensors = [torch.tensor(x, requires_grad=True) for x in floats[:3]]
    value = _torch_reference(labels, *tensors, torch.tensor(floats[3]), reduction, options)
    value.backward()
    return [t.grad.numpy() for t in tensors]


def _torch_reference(labels, hidden, weight, bias, weights, reduction, options):
    import torch

    z = hidden @ weight.T + bias
    cap = options.get("softcap")
    if cap:
        z = cap * torch.tanh(z / cap)
    y = torch.tensor(labels)
    losses = torch.nn.functional.cross_entropy(
        z, y, ignore_index=IGNORE, reduction="none",
        label_smoothing=options.get("label_smoothing", 0.0))
    keep = y != IGNORE
    losses = losses + options.get("z_loss", 0) * torch.logsumexp(z, 1) ** 2 * keep
    wm = torch.where(keep, weights, 0.0)
    total = (wm * losses).sum()
    return {"sum": total, "mean": total / keep.sum(), "weighted_mean": total / wm.sum()}[
        reduction]


@pytest.mark.parametrize("chunks", CHUNKS, ids=["one block", "blocks"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_value_equals_the_naive_form(name, dtype, options, chunks):
    b = backend(name)
    labels, hidden, weight, bias, weights = data = _data()
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    args = [b.asarray(labels), b.asarray(hidden, dtype), b.asarray(weight, dtype)]
    kwargs = {"bias": b.asarray(bias, dtype), "sample_weight": b.asarray(weights, dtype),
              "ignore_index": IGNORE, **options, **chunks}
    for reduction in ("mean", "sum", "weighted_mean", "none"):
        def call(*arrays, reduction=reduction, kwargs=kwargs):
            return linear_cross_entropy(*arrays, reduction=reduction, **kwargs)

        if name == "jax_jit":
            import jax

            call = jax.jit(call)
        with forbid_dask_compute() if name == "dask" else _nothing():
            out = call(*args)
        expected = _reference(*data, reduction, options)
        np.testing.assert_allclose(b.to_numpy(out), expected, rtol=tolerance, atol=tolerance)
        assert str(out.dtype).endswith(dtype)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("chunks", CHUNKS, ids=["one block", "blocks"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("name", BACKENDS)
def test_gradients_equal_the_naive_forms(name, options, chunks):
    b = backend(name)
    data = _data(1)
    labels, hidden, weight, bias, weights = data
    for reduction in ("mean", "sum", "weighted_mean"):
        expected = _reference_grads(data, reduction, options)
        kwargs = {"ignore_index": IGNORE, "reduction": reduction, **options, **chunks}
        if b.autodiff == "torch":
            import torch

            tensors = [torch.tensor(x, requires_grad=True) for x in (hidden, weight, bias)]
            value = linear_cross_entropy(torch.tensor(labels), tensors[0], tensors[1],
                                         bias=tensors[2], sample_weight=torch.tensor(weights),
                                         **kwargs)
            value.backward()
            grads = [t.grad.numpy() for t in tensors]
        elif b.autodiff == "jax":
            import jax

            def loss(h, w, c, kwargs=kwargs):
                return linear_cross_entropy(labels, h, w, bias=c, sample_weight=weights,
                                            **kwargs)

            grad = jax.grad(loss, argnums=(0, 1, 2))
            if name == "jax_jit":
                grad = jax.jit(grad)
            grads = [np.asarray(g) for g in grad(*(b.asarray(x) for x in (hidden, weight, bias)))]
        else:
            with forbid_dask_compute() if name == "dask" else _nothing():
                _, grads = linear_cross_entropy_value_and_grad(
                    b.asarray(labels), *(b.asarray(x) for x in (hidden, weight)),
                    bias=b.asarray(bias), sample_weight=b.asarray(weights), **kwargs)
            grads = b.to_numpy_many(list(grads))
        for got, want in zip(grads, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_gradient_of_per_token_losses_recomputes_exactly(name):
    """reduction="none": the backward runs with the incoming cotangent as each token's
    weight; a weighted sum of the per-token losses differentiates like the naive form."""
    labels, hidden, weight, bias, weights = _data(2)
    cotangent = np.linspace(-1.0, 2.0, N)
    expected = _reference_grads((labels, hidden, weight, bias, cotangent), "sum", {})
    if name == "torch":
        import torch

        tensors = [torch.tensor(x, requires_grad=True) for x in (hidden, weight, bias)]
        per_token = linear_cross_entropy(torch.tensor(labels), tensors[0], tensors[1],
                                         bias=tensors[2], ignore_index=IGNORE,
                                         reduction="none", token_chunk_size=5)
        (per_token * torch.tensor(cotangent)).sum().backward()
        grads = [t.grad.numpy() for t in tensors]
    else:
        import jax

        def loss(h, w, c):
            per_token = linear_cross_entropy(labels, h, w, bias=c, ignore_index=IGNORE,
                                             reduction="none", token_chunk_size=5)
            return (per_token * cotangent).sum()

        grads = [np.asarray(g) for g in jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(
            hidden, weight, bias)]
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_sixteen_bit_inputs_accumulate_in_float32():
    import torch

    labels, hidden, weight, _, _ = _data(3)
    h = torch.tensor(hidden, dtype=torch.bfloat16, requires_grad=True)
    w = torch.tensor(weight, dtype=torch.bfloat16, requires_grad=True)
    value = linear_cross_entropy(torch.tensor(labels), h, w, ignore_index=IGNORE)
    assert value.dtype == torch.float32
    value.backward()
    assert h.grad.dtype == w.grad.dtype == torch.bfloat16
    expected = _reference(labels, h.detach().double().numpy(), w.detach().double().numpy(),
                          np.zeros(V), np.ones(N), "mean", {})
    np.testing.assert_allclose(float(value.detach()), expected, rtol=1e-5)


def test_out_of_range_label_gives_nan_and_an_all_ignored_batch_gives_zero():
    labels, hidden, weight, _, _ = _data()
    bad = labels.copy()
    bad[0] = V
    per_token = linear_cross_entropy(bad, hidden, weight, ignore_index=IGNORE,
                                     reduction="none")
    assert np.isnan(per_token[0]) and np.isfinite(np.delete(per_token, 0)).all()
    ignored = np.full(N, IGNORE)
    assert float(linear_cross_entropy(ignored, hidden, weight, ignore_index=IGNORE)) == 0.0
    value, grads = linear_cross_entropy_value_and_grad(ignored, hidden, weight,
                                                       ignore_index=IGNORE)
    assert float(value) == 0.0 and all(np.all(g == 0) for g in grads[:2])


def test_partial_reductions_of_token_shards_combine_into_the_mean():
    import arrayloss

    labels, hidden, weight, _, _ = _data()
    parts = [linear_cross_entropy(labels[s], hidden[s], weight, ignore_index=IGNORE,
                                  reduction="partial_mean")
             for s in (slice(0, 5), slice(5, N), slice(0, 0))]
    combined = arrayloss.combine_partials(*zip(*parts, strict=True))
    whole = linear_cross_entropy(labels, hidden, weight, ignore_index=IGNORE)
    np.testing.assert_allclose(float(combined), float(whole), rtol=1e-12)


def test_vocabulary_parallel_workers_agree_with_one_process():
    """Two workers (threads), each holding half of weight's rows, exchange their partial
    maxima and sums through the all-reduce functions they are given."""
    labels, hidden, weight, bias, _ = data = _data(4)
    options = {"label_smoothing": 0.1, "z_loss": 0.01}
    split = 6
    shards = [(0, slice(0, split)), (split, slice(split, V))]
    barrier = threading.Barrier(2)
    posted: dict[tuple[str, int], np.ndarray] = {}
    results: dict[int, tuple] = {}

    def reducer(rank, kind, combine):
        calls = [0]

        def reduce(x):
            key = (f"{kind}{calls[0]}", rank)
            calls[0] += 1
            posted[key] = np.asarray(x)
            barrier.wait()
            out = combine(posted[(key[0], 0)], posted[(key[0], 1)])
            barrier.wait()
            return out

        return reduce

    def worker(rank):
        start, rows = shards[rank]
        results[rank] = linear_cross_entropy_value_and_grad(
            labels, hidden, weight[rows], bias=bias[rows], vocab_start=start,
            ignore_index=IGNORE, token_chunk_size=5,
            all_reduce_max=reducer(rank, "max", np.maximum),
            all_reduce_sum=reducer(rank, "sum", np.add), **options)

    threads = [threading.Thread(target=worker, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    expected_value = _reference(*data[:4], np.ones(N), "mean", options)
    d_hidden, d_weight, d_bias = _reference_grads((*data[:4], np.ones(N)), "mean", options)
    for rank, (_, rows) in enumerate(shards):
        value, (g_hidden, g_weight, g_bias) = results[rank]
        np.testing.assert_allclose(float(value), expected_value, rtol=1e-12)
        np.testing.assert_allclose(g_hidden, d_hidden, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g_weight, d_weight[rows], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g_bias, d_bias[rows], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"weight": np.zeros((V, D + 1))}, ValueError, r"weight of shape \(V, d\)"),
    ({"labels": np.zeros(N + 1, dtype=int)}, ValueError, "labels must have hidden's shape"),
    ({"labels": np.zeros(N)}, TypeError, "labels must be integer"),
    ({"bias": np.zeros(V + 1)}, ValueError, r"bias must have shape \(11,\)"),
    ({"label_smoothing": 1.5}, ValueError, r"label_smoothing must be in \[0, 1\]; got 1.5"),
    ({"softcap": 0.0}, ValueError, "softcap must be a positive number"),
    ({"z_loss": -1.0}, ValueError, "z_loss must be >= 0"),
    ({"token_chunk_size": 0}, ValueError, "token_chunk_size must be a positive int"),
    ({"reduction": "avg"}, ValueError, "reduction must be one of"),
    ({"all_reduce_max": np.maximum}, ValueError, "needs both all_reduce_max and all_reduce_sum"),
])
def test_bad_inputs_are_refused_with_what_was_passed(kwargs, error, message):
    labels, hidden, weight, _, _ = _data()
    arrays = {"labels": labels, "hidden": hidden, "weight": weight}
    arrays.update({k: kwargs.pop(k) for k in list(kwargs) if k in arrays})
    with pytest.raises(error, match=message):
        linear_cross_entropy(arrays["labels"], arrays["hidden"], arrays["weight"], **kwargs)


def test_value_and_grad_refuses_the_per_token_reduction():
    labels, hidden, weight, _, _ = _data()
    with pytest.raises(ValueError, match="needs a scalar reduction"):
        linear_cross_entropy_value_and_grad(labels, hidden, weight, reduction="none")


def _naive_sample_weight_grads(reduction, data, mask):
    """The naive form through torch autograd: scce of the whole logits, with the gradient of
    hidden, weight, bias and sample_weight."""
    import torch

    import arrayloss

    labels, hidden, weight, bias, weights = data
    tensors = [torch.tensor(x, requires_grad=True) for x in (hidden, weight, bias, weights)]
    keep = torch.tensor(mask & (labels != IGNORE))
    logits = tensors[0] @ tensors[1].T + tensors[2]
    value = arrayloss.scce(torch.tensor(np.where(labels == IGNORE, 0, labels)), logits,
                           from_logits=True, sample_weight=tensors[3], mask=keep,
                           reduction=reduction)
    value.backward()
    return [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("name", ["torch", "jax", "jax_jit"])
@pytest.mark.parametrize("reduction", ["weighted_mean", "mean", "sum", "none",
                                       "partial_weighted_mean"])
def test_a_differentiable_sample_weight_gets_the_naive_forms_gradient(name, reduction):
    """sample_weight is differentiable: its gradient (and hidden's, weight's, bias's) equals
    the naive scce's; for "weighted_mean" it is (l_i - loss)/Σw, for "mean" l_i/N."""
    data = _data(5)
    labels, hidden, weight, bias, weights = data
    mask = np.arange(N) != 7
    cotangent = np.linspace(-1.0, 2.0, N)
    options = {"ignore_index": IGNORE, "token_chunk_size": 4, "vocab_chunk_size": 3}

    b = backend(name)
    weighing = b.asarray(cotangent)

    def loss(h, w, c, s):
        out = linear_cross_entropy(labels, h, w, bias=c, sample_weight=s, mask=mask,
                                   reduction=reduction, **options)
        if reduction == "none":
            return (out * weighing).sum()
        if reduction.startswith("partial"):
            import arrayloss

            return arrayloss.combine_partials(*out)
        return out

    naive = {"none": "sum", "partial_weighted_mean": "weighted_mean"}.get(reduction, reduction)
    expected = _naive_sample_weight_grads(naive, (labels, hidden, weight, bias,
                                                  weights * (cotangent if reduction == "none"
                                                             else 1)), mask)
    if name == "torch":
        import torch

        tensors = [torch.tensor(x, requires_grad=True) for x in (hidden, weight, bias, weights)]
        loss(*tensors).backward()
        grads = [t.grad.numpy() for t in tensors]
    else:
        import jax

        grad = jax.grad(loss, argnums=(0, 1, 2, 3))
        grad = jax.jit(grad) if name == "jax_jit" else grad
        grads = [np.asarray(g) for g in grad(*(b.asarray(x)
                                              for x in (hidden, weight, bias, weights)))]
    if reduction == "none":  # d/dw of Σ c·w·l is c·l: the naive gradient in (c·w), times c
        expected[3] = expected[3] * cotangent
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # The closed forms, from the per-token losses.
    per_token = linear_cross_entropy(labels, hidden, weight, bias=bias, reduction="none",
                                     **options)
    keep = mask & (labels != IGNORE)
    losses = np.where(keep, per_token, 0.0)
    if reduction in ("weighted_mean", "partial_weighted_mean"):
        total = np.sum(weights * losses) / np.sum(weights * keep)
        closed = np.where(keep, (losses - total) / np.sum(weights * keep), 0.0)
    elif reduction == "mean":
        closed = losses / keep.sum()
    else:
        closed = losses * (cotangent if reduction == "none" else 1.0)
    np.testing.assert_allclose(grads[3], closed, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fullgraph", [False, True], ids=["graph breaks", "fullgraph"])
@pytest.mark.parametrize("reduction", ["weighted_mean", "none"])
def test_torch_compile_gives_the_eager_value_and_gradients(fullgraph, reduction):
    """torch.compile (AOTAutograd, which traces the autograd.Function's forward and
    backward) of a function calling linear_cross_entropy: the value and the gradients of
    hidden, weight, bias and sample_weight are eager's."""
    import torch

    labels, *floats = _data(6)
    labels = torch.tensor(labels)

    def loss(h, w, c, s):
        out = linear_cross_entropy(labels, h, w, bias=c, sample_weight=s,
                                   ignore_index=IGNORE, reduction=reduction,
                                   token_chunk_size=4, vocab_chunk_size=3)
        return out.sum()

    def run(fn):
        tensors = [torch.tensor(x, requires_grad=True) for x in floats]
        value = fn(*tensors)
        value.backward()
        return [value.detach().numpy()] + [t.grad.numpy() for t in tensors]

    torch._dynamo.reset()
    eager = run(loss)
    compiled = run(torch.compile(loss, fullgraph=fullgraph, backend="aot_eager"))
    for got, want in zip(compiled, eager, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


COMPILE_ORDER = """
import sys
if sys.argv[1] == "torch first":
    import torch
import arrayloss
if sys.argv[1] != "torch first":
    assert "torch" not in sys.modules  # arrayloss imports no framework
import torch

y = torch.tensor([0, 1, 2])
h = torch.randn(3, 2, requires_grad=True)
w = torch.randn(4, 2, requires_grad=True)

def loss(y, h, w):
    return arrayloss.linear_cross_entropy(y, h, w)

# The process's first call of linear_cross_entropy on torch is compiled with fullgraph=True:
# the autograd.Function's class is built then, outside Dynamo's trace.
value = torch.compile(loss, fullgraph=True, backend="eager")(y, h, w)
value.backward()
grad = h.grad.clone()
h.grad = None
expected = loss(y, h, w)
expected.backward()
assert torch.allclose(value, expected) and torch.allclose(grad, h.grad)
print("ok")
"""


@pytest.mark.parametrize("order", ["torch first", "arrayloss first"])
def test_torch_compile_fullgraph_from_the_first_call_in_any_import_order(order):
    """Dynamo cannot trace a class definition: the autograd.Function is built outside the
    trace even when the first call of the process is inside torch.compile(fullgraph=True)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", COMPILE_ORDER, order], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("ok")


@pytest.mark.parametrize("jit", [False, True], ids=["grad", "jit"])
def test_jax_grad_in_hidden_alone_with_numpy_weight_and_bias(jit):
    """The arguments not differentiated are NumPy arrays: the custom_vjp's forward receives
    them (and hidden's primal) NumPy-backed, and still runs in JAX."""
    import jax

    labels, hidden, weight, bias, weights = data = _data(7)
    expected = _reference_grads(data, "weighted_mean", {})[0]
    grad = jax.grad(lambda h: linear_cross_entropy(
        labels, h, weight, bias=bias, sample_weight=weights, ignore_index=IGNORE,
        reduction="weighted_mean", token_chunk_size=4))
    grad = jax.jit(grad) if jit else grad
    jax.config.update("jax_enable_x64", True)  # as the backends of the other tests
    got = grad(hidden)  # NumPy, as jax.grad accepts
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)
