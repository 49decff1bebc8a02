"""PyTorch's losses that arrayloss adds under their own names: what the registry-wide
tests do not cover (PyTorch's numbers at extreme scores, its label convention, its names)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import arrayloss
import arrayloss.torch as at


def test_soft_margin_matches_pytorch_elementwise():
    rng = np.random.default_rng(0)
    y = rng.choice([-1.0, 1.0], size=(5, 4))
    x = 3.0 * rng.normal(size=(5, 4))
    ours = arrayloss.soft_margin(y, x, axis=(), reduction="none")
    theirs = F.soft_margin_loss(torch.asarray(x), torch.asarray(y), reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    # The default averages the last axis; PyTorch's "mean" over every element is the same.
    assert np.isclose(arrayloss.soft_margin(y, x), F.soft_margin_loss(
        torch.asarray(x), torch.asarray(y)).item(), rtol=1e-12)


def test_soft_margin_is_finite_at_huge_scores_in_float32():
    y = torch.tensor([1.0, -1.0, 1.0])
    x = torch.tensor([-1e4, 1e4, 1e4], requires_grad=True)
    value = arrayloss.soft_margin(y, x, reduction="none")
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, torch.tensor([1e4, 1e4, 0.0]))
    (grad,) = torch.autograd.grad(value.sum(), x)
    torch.testing.assert_close(grad, torch.tensor([-1.0, 1.0, 0.0]))


def test_soft_margin_keeps_zero_labels_as_pytorch_does():
    # hinge reads a label of 0 as -1; soft_margin, as F.soft_margin_loss, does not.
    value = arrayloss.soft_margin(np.array([0.0]), np.array([5.0]), reduction="none")
    assert np.isclose(value[0], np.log(2.0))
    assert not np.isclose(value[0], arrayloss.soft_margin(np.array([-1.0]), np.array([5.0])))


def test_soft_margin_closed_form_gradient_and_hessian():
    y = np.array([[1.0, -1.0], [-1.0, 1.0]])
    x = np.array([[0.5, 2.0], [-1.0, -3.0]])
    grad = arrayloss.gradient("soft_margin", y, x, reduction="sum")
    z = y * x
    np.testing.assert_allclose(grad, -y / (1.0 + np.exp(z)) / 2.0, rtol=1e-12)
    hess = arrayloss.hessian_diagonal("soft_margin", y, x, reduction="sum")
    s = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(hess, s * (1.0 - s) / 2.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["soft_margin_loss", "SoftMarginLoss", "softmarginloss"])
def test_soft_margin_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.soft_margin


def test_soft_margin_module():
    criterion = at.SoftMarginLoss(reduction="sum")
    assert "reduction='sum'" in repr(criterion)
    x, y = torch.tensor([[0.3, -2.0]]), torch.tensor([[1.0, -1.0]])
    torch.testing.assert_close(criterion(x, y), torch.nn.SoftMarginLoss(reduction="sum")(x, y))
    with pytest.raises(ValueError, match="reduction"):
        at.SoftMarginLoss(reduction="avg")


def test_soft_margin_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        arrayloss.soft_margin(np.ones(3), np.ones((3, 4)))
    with pytest.raises(TypeError, match="margin"):
        arrayloss.soft_margin(np.ones(3), np.ones(3), margin=1.0)
