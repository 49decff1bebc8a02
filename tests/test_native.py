"""Native kernels: used on torch for the common call, off with the documented switch, and
equal to the array-API formula (the conformance suite checks every case on both paths
through its ``torch_formula`` backend; here the switch itself and the one pinned
difference)."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.core.registry import entries

torch = pytest.importorskip("torch")

WITH_KERNELS = [e.name for e in entries()
                if hasattr(e.function, "spec") and "torch" in e.function.spec.kernels]


def test_the_common_losses_have_a_torch_kernel():
    assert set(WITH_KERNELS) == {"mean_squared_error", "mean_absolute_error", "huber", "smooth_l1",
                                 "log_cosh",
                                 "binary_crossentropy", "binary_focal_crossentropy",
                                 "categorical_crossentropy", "sparse_categorical_crossentropy",
                                 "negative_log_likelihood", "kl_divergence"}


def _inputs(name):
    rng = np.random.default_rng(0)
    if name in ("sparse_categorical_crossentropy", "negative_log_likelihood"):
        scores = rng.normal(size=(8, 5))
        if name == "negative_log_likelihood":
            scores = scores - np.log(np.exp(scores).sum(-1, keepdims=True))
        return torch.asarray(rng.integers(0, 5, 8)), torch.asarray(scores)
    if name in ("categorical_crossentropy", "kl_divergence"):  # soft targets on the simplex
        return (torch.asarray(rng.dirichlet(np.ones(5), 8)),
                torch.asarray(3 * rng.normal(size=(8, 5))))
    if name in ("binary_crossentropy", "binary_focal_crossentropy"):  # soft targets
        return torch.asarray(rng.uniform(size=(8, 5))), torch.asarray(3 * rng.normal(size=(8, 5)))
    return torch.asarray(rng.normal(size=(8, 5))), torch.asarray(3 * rng.normal(size=(8, 5)))


def _graph_ops(out):
    """The names of every autograd node behind ``out``."""
    names, todo = set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and type(node).__name__ not in names:
            names.add(type(node).__name__)
            todo.extend(n for n, _ in node.next_functions)
    return " ".join(sorted(names))


@pytest.mark.parametrize("name", WITH_KERNELS)
def test_switch_runs_the_formula_with_the_same_value_and_gradient(name):
    options = {"from_logits": True} if name in (
        "sparse_categorical_crossentropy", "binary_crossentropy", "categorical_crossentropy",
        "kl_divergence", "binary_focal_crossentropy") else {}
    loss = arrayloss.get(name, **options)
    y, p = _inputs(name)
    results = []
    for enabled in (True, False):
        x = p.clone().requires_grad_(True)
        with arrayloss.native_kernels(enabled):
            out = loss(y, x)
        out.backward()
        results.append((out.detach(), x.grad, _graph_ops(out)))
    (native, native_grad, native_op), (formula, formula_grad, formula_op) = results
    kernel_nodes = ("MseLoss", "AbsBackward", "MeanLogCosh", "MeanBinaryFocal", "HuberLoss",
                    "SmoothL1Loss",
                    "NllLoss", "BinaryCrossEntropy", "LogSoftmaxBackward")
    own = [k for k in kernel_nodes if k in native_op]
    assert own, native_op  # the kernel's own node
    assert not any(k in formula_op for k in own), formula_op
    torch.testing.assert_close(native, formula, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(native_grad, formula_grad, rtol=1e-12, atol=1e-12)


def test_the_switch_is_global_when_called_and_scoped_with_with():
    y, p = _inputs("mean_squared_error")
    assert "MseLoss" in _graph_ops(arrayloss.mse(y, p.clone().requires_grad_(True)))
    with arrayloss.native_kernels(False):
        assert "MseLoss" not in _graph_ops(arrayloss.mse(y, p.clone().requires_grad_(True)))
    assert "MseLoss" in _graph_ops(arrayloss.mse(y, p.clone().requires_grad_(True)))
    try:
        arrayloss.native_kernels(False)
        assert "MseLoss" not in _graph_ops(arrayloss.mse(y, p.clone().requires_grad_(True)))
    finally:
        arrayloss.native_kernels(True)
    with pytest.raises(TypeError, match=r"native_kernels takes True or False; got 'no'"):
        arrayloss.native_kernels("no")


def test_kernels_are_not_used_where_their_conventions_differ():
    """Weights, masks, ignore_index and class weights run the formula (PyTorch's means
    differ there: an all-ignored batch is 0/0 in PyTorch, 0 here)."""
    y, p = _inputs("sparse_categorical_crossentropy")
    x = p.clone().requires_grad_(True)
    out = arrayloss.scce(y, x, from_logits=True, ignore_index=int(y[0]))
    assert "Nll" not in _graph_ops(out)
    all_ignored = arrayloss.scce(torch.zeros(8, dtype=torch.int64), x, from_logits=True,
                                 ignore_index=0)
    assert all_ignored.item() == 0.0


def test_huber_kernel_second_derivative_at_the_knot_is_pinned():
    """F.huber_loss's double backward takes the outer branch (0) at |e| = δ, where the
    formula (and its closed-form Hessian) take the inner one (1); values and gradients are
    the same. With native_kernels(False) the formula's Hessian is used."""
    y = torch.zeros(1, dtype=torch.float64)
    knot = torch.ones(1, dtype=torch.float64)

    def second(enabled):
        with arrayloss.native_kernels(enabled):
            return torch.autograd.functional.hessian(lambda p: arrayloss.huber(y, p), knot)

    assert second(True).item() == 0.0
    assert second(False).item() == 1.0
    assert arrayloss.hessian_diagonal("huber", np.zeros(1), np.ones(1))[0] == 1.0


@pytest.mark.parametrize("name", WITH_KERNELS)
def test_inside_torch_func_the_kernel_gives_the_same_gradient(name):
    """torch.func.grad cannot read values on the host: the kernels that check their result
    there step aside, and every loss's gradient is the same as in eager autograd."""
    options = {"from_logits": True} if name in (
        "sparse_categorical_crossentropy", "binary_crossentropy", "categorical_crossentropy",
        "kl_divergence", "binary_focal_crossentropy") else {}
    loss = arrayloss.get(name, **options)
    y, p = _inputs(name)
    x = p.clone().requires_grad_(True)
    loss(y, x).backward()
    torch.testing.assert_close(torch.func.grad(lambda q: loss(y, q))(p), x.grad,
                               rtol=1e-12, atol=1e-12)


def test_a_result_the_kernel_cannot_give_is_recomputed_by_the_formula():
    """Where PyTorch's function gives NaN and the formula does not (an infinite logit, a
    label out of range), the value is the formula's."""
    logits = torch.tensor([[0.0, -torch.inf, 1.0]], dtype=torch.float64, requires_grad=True)
    onehot = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    for loss in (arrayloss.cce, arrayloss.kld):
        expected = loss(onehot.numpy(), logits.detach().numpy(), from_logits=True)
        out = loss(onehot, logits, from_logits=True)
        assert "LogSoftmaxBackward" not in _graph_ops(out)
        np.testing.assert_allclose(out.item(), float(expected), rtol=1e-12)
    bad = arrayloss.scce(torch.tensor([0, 3]), torch.zeros(2, 3), from_logits=True)
    assert torch.isnan(bad)
    assert "Nll" in _graph_ops(arrayloss.scce(torch.tensor([0, 2]),
                                              torch.zeros(2, 3, requires_grad=True),
                                              from_logits=True))


def test_kl_kernel_is_not_used_when_the_target_has_a_gradient():
    """PyTorch's kl_div has the gradient -inf at p = 0 with respect to p; the formula's is
    finite there, so a target that is differentiated runs the formula."""
    p = torch.tensor([[1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([[0.5, -0.5]], dtype=torch.float64, requires_grad=True)
    out = arrayloss.kld(p, z, from_logits=True)
    assert "LogSoftmaxBackward" not in _graph_ops(out)
    out.backward()
    assert torch.isfinite(p.grad).all()


def test_bce_from_probabilities_and_mae_kernels_step_aside_at_their_edges():
    """F.binary_cross_entropy's gradient is capped where p(1 - p) < 1e-12, and F.l1_loss's
    subgradient at ŷ = y is 0: there the formula runs, with its own gradient."""
    y = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    inside = torch.tensor([[0.3, 0.6]], dtype=torch.float64, requires_grad=True)
    assert "BinaryCrossEntropyBackward" in _graph_ops(arrayloss.bce(y, inside))
    edge = torch.tensor([[1e-13, 0.6]], dtype=torch.float64, requires_grad=True)
    out = arrayloss.bce(y, edge)
    assert "BinaryCrossEntropyBackward" not in _graph_ops(out)
    out.backward()
    np.testing.assert_allclose(edge.grad[0, 0].item(), -1 / 1e-13 / 2, rtol=1e-9)
    outside = torch.tensor([[1.5, 0.0]], dtype=torch.float64)  # a target PyTorch refuses
    np.testing.assert_allclose(arrayloss.bce(outside, inside.detach()).item(),
                               float(arrayloss.bce(outside.numpy(), inside.detach().numpy())))
    tie = torch.tensor([[1.0, 0.5]], dtype=torch.float64, requires_grad=True)
    out = arrayloss.mae(y, tie)
    assert "AbsBackward" not in _graph_ops(out)
    out.backward()
    assert tie.grad[0, 0].item() == 0.5  # the subgradient +1 at the tie, over 2 elements
    assert "AbsBackward" in _graph_ops(arrayloss.mae(y, inside))


@pytest.mark.parametrize("loss", [arrayloss.bce, arrayloss.focal])
def test_without_host_checks_infinite_logits_are_clamped_to_the_largest_float(loss):
    """Inside torch.func (as under torch.compile and on accelerators) the logistic kernels
    clamp the logits: a perfect infinite logit costs 0 as in the formula, a wrong one the
    largest float instead of inf (the pinned difference), and the gradient passes through."""
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    largest = torch.finfo(torch.float64).max
    for logits, expected in ((torch.tensor([torch.inf, -torch.inf]), 0.0),
                             (torch.tensor([-torch.inf, 0.0]), None)):
        logits = logits.to(torch.float64)
        value = torch.func.vmap(lambda z: loss(y, z, from_logits=True))(logits[None])[0]
        formula = loss(y.numpy(), logits.numpy(), from_logits=True)
        if expected is not None:
            assert value.item() == expected == float(formula)
        else:
            assert float(formula) == np.inf and 0 < value.item() <= largest
    grad = torch.func.grad(lambda z: loss(y, z, from_logits=True))(
        torch.tensor([2.0, -1.0], dtype=torch.float64))
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("loss", [arrayloss.scce, arrayloss.nll])
def test_without_host_checks_an_out_of_range_label_gives_the_formulas_nan_and_gradient(loss):
    """Inside torch.func the label kernels cannot read the labels on the host: an
    out-of-range label still makes the mean NaN, and the other samples' gradients are the
    formula's (1/N each, none for the bad sample)."""
    labels = torch.tensor([0, 7, 2, -100])
    scores = torch.log_softmax(torch.tensor(np.random.default_rng(3).normal(size=(4, 3))), -1)
    options = {"from_logits": True} if loss is arrayloss.scce else {}

    def value(s):
        return loss(labels, s, **options)

    assert torch.isnan(torch.func.vmap(value)(scores[None]))[0]
    grad = torch.func.grad(value)(scores)
    with arrayloss.native_kernels(False):
        expected = torch.func.grad(value)(scores)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-12)
    assert (grad[[1, 3]] == 0).all()


def test_log_cosh_kernel_differentiates_twice_like_the_formula():
    """log_cosh's kernel is an autograd.Function with its closed-form backward, tanh e:
    its double backward (1 - tanh² e) and the target's gradient are the formula's."""
    y, p = _inputs("log_cosh")
    results = []
    for enabled in (True, False):
        x, t = p.clone().requires_grad_(True), y.clone().requires_grad_(True)
        with arrayloss.native_kernels(enabled):
            out = arrayloss.log_cosh(t, x)
        assert ("MeanLogCosh" in _graph_ops(out)) == enabled
        d_x, d_t = torch.autograd.grad(out, (x, t), create_graph=True)
        (second,) = torch.autograd.grad(d_x.sum(), x)
        results.append((d_x.detach(), d_t.detach(), second))
    for native, formula in zip(*results, strict=True):
        torch.testing.assert_close(native, formula, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradgradcheck(lambda a, b: arrayloss.log_cosh(b, a),
                                        (p.clone().requires_grad_(True),
                                         y.clone().requires_grad_(True)))


@pytest.mark.parametrize("options", [
    {}, {"gamma": 1.0}, {"gamma": 3.5, "apply_class_balancing": True, "alpha": 0.3},
    {"gamma": 2, "label_smoothing": 0.2},
], ids=["default", "gamma 1", "gamma 3.5 balanced", "smoothed"])
def test_focal_kernel_has_the_formulas_first_and_second_derivatives(options):
    """The binary focal loss's kernel is an autograd.Function with its closed-form
    backward (eager and compiled): its gradient and double backward are the formula's, and
    a target that needs a gradient takes autograd through PyTorch's functions instead."""
    y, p = _inputs("binary_focal_crossentropy")
    results = []
    for enabled in (True, False):
        x = p.clone().requires_grad_(True)
        with arrayloss.native_kernels(enabled):
            out = arrayloss.focal(y, x, from_logits=True, **options)
        assert ("MeanBinaryFocal" in _graph_ops(out)) == enabled
        (d_x,) = torch.autograd.grad(out, x, create_graph=True)
        (second,) = torch.autograd.grad(d_x.sum(), x)
        results.append((out.detach(), d_x.detach(), second))
    for native, formula in zip(*results, strict=True):
        torch.testing.assert_close(native, formula, rtol=1e-12, atol=1e-12)
    x = p.clone().requires_grad_(True)
    assert torch.autograd.gradgradcheck(
        lambda a: arrayloss.focal(y, a, from_logits=True, **options), (x,))
    target = y.clone().requires_grad_(True)
    out = arrayloss.focal(target, x, from_logits=True, **options)
    assert "MeanBinaryFocal" not in _graph_ops(out)
    compiled = torch.compile(lambda a: arrayloss.focal(y, a, from_logits=True, **options),
                             fullgraph=True)
    (d_compiled,) = torch.autograd.grad(compiled(x), x)
    torch.testing.assert_close(d_compiled, results[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"pos_weight": 2.5}],
                         ids=["plain", "smoothed", "pos_weight"])
def test_bce_logits_kernel_without_host_checks_has_the_formulas_derivatives(options):
    """Where the host cannot be read (torch.compile here), bce from logits is PyTorch's
    fused BCE on clamped logits with the closed-form backward in one autograd.Function:
    value, gradient and (in eager, through the Function itself) double backward are the
    formula's."""
    from arrayloss.losses._logistic_torch import MeanBinaryCrossEntropy

    y, p = _inputs("binary_crossentropy")
    x = p.clone().requires_grad_(True)
    with arrayloss.native_kernels(False):
        formula = arrayloss.bce(y, x, from_logits=True, **options)
    (expected,) = torch.autograd.grad(formula, x)
    compiled = torch.compile(lambda a: arrayloss.bce(y, a, from_logits=True, **options),
                             fullgraph=True)
    value = compiled(x)
    (got,) = torch.autograd.grad(value, x)
    torch.testing.assert_close(value.detach(), formula.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    weight = options.get("pos_weight")
    weight = None if weight is None else torch.full((5,), weight, dtype=p.dtype)
    assert torch.autograd.gradgradcheck(
        lambda a: MeanBinaryCrossEntropy.apply(y, a, weight), (x,))
