"""PyTorch's losses that arrayloss adds under their own names: what the registry-wide
tests do not cover (PyTorch's numbers at extreme scores, its label convention, its names)."""

import math

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


# -- hinge_embedding ---------------------------------------------------------------------------
def test_hinge_embedding_matches_pytorch_values_and_gradients():
    rng = np.random.default_rng(1)
    y = rng.choice([-1.0, 1.0], size=(6, 5))
    x = 2.0 * rng.normal(size=(6, 5))
    for margin in (1.0, 0.3, -0.5):
        xt = torch.asarray(x).requires_grad_()
        theirs = F.hinge_embedding_loss(xt, torch.asarray(y), margin=margin, reduction="none")
        ours = arrayloss.hinge_embedding(y, x, margin=margin, axis=(), reduction="none")
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=0)
        (grad,) = torch.autograd.grad(theirs.sum(), xt)
        np.testing.assert_allclose(
            arrayloss.gradient("hinge_embedding", y, x, margin=margin, axis=(), reduction="sum"),
            grad.numpy(), rtol=1e-12)
        # PyTorch's "mean" over every element is the default mean of per-row means.
        assert np.isclose(arrayloss.hinge_embedding(y, x, margin=margin),
                          F.hinge_embedding_loss(torch.asarray(x), torch.asarray(y),
                                                 margin=margin).item(), rtol=1e-12)


def test_hinge_embedding_autograd_on_torch_matches_pytorch():
    y = torch.tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]])
    x = torch.tensor([[0.7, 0.2, 1.5], [0.9, -0.3, 2.0]], requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    ours = arrayloss.hinge_embedding(y, x, margin=1.2, axis=(), reduction="sum")
    theirs = F.hinge_embedding_loss(x_ref, y, margin=1.2, reduction="sum")
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_hinge_embedding_takes_both_terms_for_other_labels_as_pytorch_does():
    y = np.array([0.0, 2.0, 0.5])
    x = np.array([0.25, -1.0, 3.0])
    ours = arrayloss.hinge_embedding(y, x, reduction="none")
    theirs = F.hinge_embedding_loss(torch.asarray(x), torch.asarray(y), reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours, [1.0, 1.0, 3.0])  # ŷ + max(1 - ŷ, 0)


def test_hinge_embedding_nan_label_gives_nan():
    # PyTorch gives a finite value for a NaN label; arrayloss keeps NaN (SPEC section 6).
    value = arrayloss.hinge_embedding(np.array([np.nan, 1.0]), np.array([0.5, 0.5]),
                                      reduction="none")
    assert np.isnan(value[0]) and value[1] == 0.5
    grad = arrayloss.gradient("hinge_embedding", np.array([np.nan, -1.0]), np.array([0.5, 0.5]))
    assert np.isnan(grad[0]) and grad[1] == -0.5


def test_hinge_embedding_closed_form_is_piecewise_linear():
    y = np.array([1.0, -1.0, -1.0, 0.0])
    x = np.array([0.5, 0.5, 3.0, 0.5])
    grad = arrayloss.gradient("hinge_embedding", y, x, reduction="sum")
    np.testing.assert_array_equal(grad, [1.0, -1.0, 0.0, 0.0])
    np.testing.assert_array_equal(
        arrayloss.hessian_diagonal("hinge_embedding", y, x, reduction="sum"), np.zeros(4))
    # At the kink ŷ = margin of a label -1: slope 0 (PyTorch's clamp_min gives -1).
    assert arrayloss.gradient("hinge_embedding", np.array([-1.0]), np.array([1.0]))[0] == 0.0


@pytest.mark.parametrize("name", ["hinge_embedding_loss", "HingeEmbeddingLoss",
                                  "hingeembeddingloss"])
def test_hinge_embedding_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.hinge_embedding


def test_hinge_embedding_module():
    criterion = at.HingeEmbeddingLoss(margin=0.5, reduction="sum")
    assert "margin=0.5" in repr(criterion) and "reduction='sum'" in repr(criterion)
    x, y = torch.tensor([[0.3, 2.0, 0.1]]), torch.tensor([[1.0, -1.0, -1.0]])
    torch.testing.assert_close(criterion(x, y),
                               torch.nn.HingeEmbeddingLoss(margin=0.5, reduction="sum")(x, y))
    with pytest.raises(ValueError, match="reduction"):
        at.HingeEmbeddingLoss(reduction="avg")


@pytest.mark.parametrize("margin, error, match", [
    (math.nan, ValueError, r"margin must be in \(-inf, inf\); got nan"),
    (math.inf, ValueError, r"margin must be in \(-inf, inf\); got inf"),
    ("1", TypeError, "margin must be a real number; got '1' of type str"),
    (True, TypeError, "margin must be a real number; got True"),
])
def test_hinge_embedding_bad_margin(margin, error, match):
    with pytest.raises(error, match=match):
        arrayloss.hinge_embedding(np.ones(3), np.ones(3), margin=margin)
    with pytest.raises(error, match=match):
        arrayloss.get("hinge_embedding", margin=margin)


def test_hinge_embedding_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        arrayloss.hinge_embedding(np.ones(3), np.ones((3, 4)))
    with pytest.raises(TypeError, match="unknown option"):
        arrayloss.hinge_embedding(np.ones(3), np.ones(3), p=2)


# -- margin_ranking ----------------------------------------------------------------------------
def test_margin_ranking_matches_pytorch_values_and_gradients_of_both_scores():
    rng = np.random.default_rng(2)
    y = rng.choice([-1.0, 1.0], size=(9,))
    x1, x2 = rng.normal(size=(9,)), rng.normal(size=(9,))
    for margin in (0.0, 0.4, -0.2):
        t1, t2 = torch.asarray(x1).requires_grad_(), torch.asarray(x2).requires_grad_()
        theirs = F.margin_ranking_loss(t1, t2, torch.asarray(y), margin=margin, reduction="none")
        ours = arrayloss.margin_ranking(y, x1, x2, margin=margin, reduction="none")
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=0)
        g1, g2 = torch.autograd.grad(theirs.sum(), (t1, t2))
        grad = arrayloss.gradient("margin_ranking", y, x1, x2, margin=margin, reduction="sum")
        np.testing.assert_allclose(grad, g1.numpy(), rtol=1e-12)
        np.testing.assert_allclose(-grad, g2.numpy(), rtol=1e-12)  # d/dx₂ = -d/dx₁
        assert np.isclose(arrayloss.margin_ranking(y, x1, x2, margin=margin),
                          F.margin_ranking_loss(torch.asarray(x1), torch.asarray(x2),
                                                torch.asarray(y), margin=margin).item())


def test_margin_ranking_autograd_on_torch_reaches_both_scores():
    y = torch.tensor([1.0, -1.0, 1.0])
    x1 = torch.tensor([0.2, 0.9, 2.0], requires_grad=True)
    x2 = torch.tensor([0.5, 0.1, -1.0], requires_grad=True)
    ours = arrayloss.margin_ranking(y, x1, x2, margin=0.5, reduction="sum")
    ours.backward()
    torch.testing.assert_close(ours, torch.tensor(0.8 + 1.3))
    torch.testing.assert_close(x1.grad, torch.tensor([-1.0, 1.0, 0.0]))
    torch.testing.assert_close(x2.grad, torch.tensor([1.0, -1.0, 0.0]))


def test_margin_ranking_default_averages_the_last_axis_and_broadcasts_a_scalar_score():
    y = np.array([[1.0, -1.0], [1.0, 1.0]])
    x1 = np.array([[0.0, 1.0], [3.0, -2.0]])
    np.testing.assert_allclose(arrayloss.margin_ranking(y, x1, 0.5, margin=1.0,
                                                        reduction="none"),
                               [(1.5 + 1.5) / 2, (0.0 + 3.5) / 2])


def test_margin_ranking_labels_are_not_converted():
    # 0 gives max(margin, 0), as in PyTorch (hinge would read it as -1).
    value = arrayloss.margin_ranking(np.array([0.0]), np.array([5.0]), np.array([-5.0]),
                                     margin=0.3, reduction="none")
    theirs = F.margin_ranking_loss(torch.tensor([5.0]), torch.tensor([-5.0]), torch.tensor([0.0]),
                                   margin=0.3, reduction="none")
    np.testing.assert_allclose(value, theirs.double().numpy(), rtol=1e-7)
    assert np.isclose(value[0], 0.3)


def test_margin_ranking_closed_form_and_kink():
    y = np.array([1.0, -1.0, 1.0])
    x1, x2 = np.array([0.0, 0.0, 2.0]), np.array([0.5, -0.5, 0.0])
    np.testing.assert_array_equal(
        arrayloss.gradient("margin_ranking", y, x1, x2, reduction="sum"), [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(
        arrayloss.hessian_diagonal("margin_ranking", y, x1, x2, reduction="sum"), np.zeros(3))
    # y·(x₁ - x₂) = margin exactly: slope 0.
    assert arrayloss.gradient("margin_ranking", np.array([1.0]), np.array([1.5]),
                              np.array([1.0]), margin=0.5)[0] == 0.0
    grad = arrayloss.gradient("margin_ranking", np.array([1.0, 1.0]), np.array([0.0, 0.0]),
                              np.array([math.nan, 1.0]))
    assert np.isnan(grad[0]) and grad[1] == -0.5


@pytest.mark.parametrize("name", ["margin_ranking_loss", "MarginRankingLoss",
                                  "marginrankingloss"])
def test_margin_ranking_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.margin_ranking


def test_margin_ranking_module():
    criterion = at.MarginRankingLoss(margin=0.2, reduction="none")
    assert "margin=0.2" in repr(criterion) and "reduction='none'" in repr(criterion)
    x1, x2, y = torch.tensor([0.3, -1.0]), torch.tensor([0.1, 0.5]), torch.tensor([-1.0, 1.0])
    torch.testing.assert_close(criterion(x1, x2, y),
                               torch.nn.MarginRankingLoss(margin=0.2, reduction="none")(x1, x2, y))
    with pytest.raises(ValueError, match=r"margin must be in \(-inf, inf\); got nan"):
        at.MarginRankingLoss(margin=math.nan)


def test_margin_ranking_bad_inputs():
    with pytest.raises(ValueError, match=r"input1 and input2 must have the same shape; got "
                       r"input1.shape=\(3,\) and input2.shape=\(4,\)"):
        arrayloss.margin_ranking(np.ones(3), np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match=r"takes 3 positional array argument\(s\) "
                       r"\(y_true, input1, input2\); got 2"):
        arrayloss.margin_ranking(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="margin must be a real number; got '0' of type str"):
        arrayloss.get("margin_ranking", margin="0")


# -- cosine_embedding --------------------------------------------------------------------------
def _torch_hessian_diagonal(f, x):
    n = x.numel()
    full = torch.autograd.functional.hessian(f, x).reshape(n, n)
    return full.diagonal().reshape(x.shape)


def test_cosine_embedding_matches_pytorch_values_gradients_and_hessian():
    rng = np.random.default_rng(3)
    y = rng.choice([-1.0, 1.0], size=(7,))
    x1, x2 = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    for margin in (0.0, 0.25, -0.5):
        t1, t2 = torch.asarray(x1).requires_grad_(), torch.asarray(x2).requires_grad_()
        theirs = F.cosine_embedding_loss(t1, t2, torch.asarray(y), margin=margin,
                                         reduction="none")
        ours = arrayloss.cosine_embedding(y, x1, x2, margin=margin, reduction="none")
        assert ours.shape == (7,)
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
        (g1,) = torch.autograd.grad(theirs.sum(), t1)
        np.testing.assert_allclose(
            arrayloss.gradient("cosine_embedding", y, x1, x2, margin=margin, reduction="sum"),
            g1.numpy(), rtol=1e-10, atol=1e-14)
        hess = _torch_hessian_diagonal(lambda x, m=margin: F.cosine_embedding_loss(
            x, torch.asarray(x2), torch.asarray(y), margin=m, reduction="sum"),
            torch.asarray(x1))
        np.testing.assert_allclose(
            arrayloss.hessian_diagonal("cosine_embedding", y, x1, x2, margin=margin,
                                       reduction="sum"), hess.numpy(), rtol=1e-10, atol=1e-14)
        for reduction in ("mean", "sum"):
            assert np.isclose(arrayloss.cosine_embedding(y, x1, x2, margin=margin,
                                                         reduction=reduction),
                              F.cosine_embedding_loss(torch.asarray(x1), torch.asarray(x2),
                                                      torch.asarray(y), margin=margin,
                                                      reduction=reduction).item(), rtol=1e-12)


def test_cosine_embedding_autograd_on_torch_reaches_both_embeddings():
    y = torch.tensor([1.0, -1.0])
    x1 = torch.tensor([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]], requires_grad=True)
    x2 = torch.tensor([[0.5, -1.0, 1.0], [0.2, -0.5, 1.0]], requires_grad=True)
    r1, r2 = (x.detach().clone().requires_grad_() for x in (x1, x2))
    ours = arrayloss.cosine_embedding(y, x1, x2, margin=0.1, reduction="sum")
    theirs = F.cosine_embedding_loss(r1, r2, y, margin=0.1, reduction="sum")
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(x1.grad, r1.grad)
    torch.testing.assert_close(x2.grad, r2.grad)


def test_cosine_embedding_zero_vector_has_pytorchs_value_and_gradient():
    # PyTorch's ε in the squared norms: cos = 0, loss 1, gradient -x₂/sqrt(ε·(Σx₂² + ε)).
    x1, x2 = np.zeros((1, 3)), np.array([[1.0, 2.0, 2.0]])
    assert arrayloss.cosine_embedding(np.array([1.0]), x1, x2) == 1.0
    t1 = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    F.cosine_embedding_loss(t1, torch.asarray(x2), torch.tensor([1.0]),
                            reduction="sum").backward()
    grad = arrayloss.gradient("cosine_embedding", np.array([1.0]), x1, x2, reduction="sum")
    assert np.isfinite(grad).all()
    # PyTorch's ε is the float32 nearest 1e-12 (2e-9 relative in sqrt(ε)).
    np.testing.assert_allclose(grad, t1.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(grad, -x2 / np.sqrt(1e-12 * (9.0 + 1e-12)), rtol=1e-12)


def test_cosine_embedding_labels_other_than_pm1_give_zero_and_nan_stays_nan():
    x1, x2 = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), np.array([[0.0, 1.0]] * 3)
    y = np.array([0.0, 2.0, np.nan])
    ours = arrayloss.cosine_embedding(y, x1, x2, reduction="none")
    theirs = F.cosine_embedding_loss(torch.asarray(x1[:2]), torch.asarray(x2[:2]),
                                     torch.asarray(y[:2]), reduction="none")
    np.testing.assert_array_equal(ours[:2], theirs.numpy())
    np.testing.assert_array_equal(ours[:2], [0.0, 0.0])
    assert np.isnan(ours[2])  # PyTorch gives 0 for a NaN label; arrayloss keeps NaN
    nan_embedding = arrayloss.cosine_embedding(np.array([0.0]), np.array([[np.nan, 1.0]]),
                                               np.array([[1.0, 1.0]]), reduction="none")
    assert np.isnan(nan_embedding[0])


def test_cosine_embedding_one_pair_and_kink():
    value = arrayloss.cosine_embedding(np.asarray(-1.0), np.array([1.0, 0.0]),
                                       np.array([1.0, 1.0]), reduction="none")
    assert value.shape == () and np.isclose(value, 1 / np.sqrt(2.0))
    # cos = margin exactly for a label -1: slope 0 (PyTorch's clamp_min passes it).
    grad = arrayloss.gradient("cosine_embedding", np.array([-1.0]), np.array([[1.0, 0.0]]),
                              np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(grad, np.zeros((1, 2)))


@pytest.mark.parametrize("name", ["cosine_embedding_loss", "CosineEmbeddingLoss",
                                  "cosineembeddingloss"])
def test_cosine_embedding_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.cosine_embedding


def test_cosine_embedding_module():
    criterion = at.CosineEmbeddingLoss(margin=0.3, reduction="none")
    assert "margin=0.3" in repr(criterion) and "reduction='none'" in repr(criterion)
    x1, x2 = torch.tensor([[0.3, -1.0], [1.0, 1.0]]), torch.tensor([[0.1, 0.5], [2.0, 1.0]])
    y = torch.tensor([-1.0, -1.0])
    reference = torch.nn.CosineEmbeddingLoss(margin=0.3, reduction="none")
    torch.testing.assert_close(criterion(x1, x2, y), reference(x1, x2, y))
    with pytest.raises(ValueError, match=r"margin must be in \(-inf, inf\); got inf"):
        at.CosineEmbeddingLoss(margin=math.inf)


def test_cosine_embedding_bad_inputs():
    with pytest.raises(ValueError, match=r"got y_true.shape=\(3,\), input1.shape=\(3, 2\), "
                       r"input2.shape=\(3, 4\)"):
        arrayloss.cosine_embedding(np.ones(3), np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"y_true shape \(N,\) or \(\); got y_true.shape=\(4,\)"):
        arrayloss.cosine_embedding(np.ones(4), np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(TypeError, match="unknown option"):
        arrayloss.cosine_embedding(np.ones(3), np.ones((3, 2)), np.ones((3, 2)), axis=-1)
    with pytest.raises(TypeError, match="margin must be a real number; got None"):
        arrayloss.get("cosine_embedding", margin=None)


# -- multilabel_soft_margin --------------------------------------------------------------------
def test_multilabel_soft_margin_matches_pytorch_values_gradients_and_hessian():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, size=(6, 5)).astype(float)
    z = 3.0 * rng.normal(size=(6, 5))
    for weight in (None, rng.uniform(0.0, 2.0, size=5)):
        w = None if weight is None else torch.asarray(weight)
        zt = torch.asarray(z).requires_grad_()
        theirs = F.multilabel_soft_margin_loss(zt, torch.asarray(y), weight=w, reduction="none")
        ours = arrayloss.multilabel_soft_margin(y, z, class_weight=weight, reduction="none")
        assert ours.shape == (6,)
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12)
        (grad,) = torch.autograd.grad(theirs.sum(), zt)
        np.testing.assert_allclose(
            arrayloss.gradient("multilabel_soft_margin", y, z, class_weight=weight,
                               reduction="sum"), grad.numpy(), rtol=1e-12, atol=1e-16)
        hess = _torch_hessian_diagonal(lambda x, w=w: F.multilabel_soft_margin_loss(
            x, torch.asarray(y), weight=w, reduction="sum"), torch.asarray(z))
        np.testing.assert_allclose(
            arrayloss.hessian_diagonal("multilabel_soft_margin", y, z, class_weight=weight,
                                       reduction="sum"), hess.numpy(), rtol=1e-10, atol=1e-16)
        # PyTorch's "mean" is the plain mean over samples, with class weights too.
        assert np.isclose(arrayloss.multilabel_soft_margin(y, z, class_weight=weight),
                          F.multilabel_soft_margin_loss(torch.asarray(z), torch.asarray(y),
                                                        weight=w).item(), rtol=1e-12)


def test_multilabel_soft_margin_is_finite_at_huge_logits_in_float32():
    y = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    z = torch.tensor([[-1e4, 1e4, 1e4, -1e4]], requires_grad=True)
    value = arrayloss.multilabel_soft_margin(y, z, reduction="none")
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, torch.tensor([5e3]))
    (grad,) = torch.autograd.grad(value.sum(), z)
    torch.testing.assert_close(grad, torch.tensor([[-0.25, 0.25, 0.0, 0.0]]))


def test_multilabel_soft_margin_without_weights_is_bce_from_logits():
    rng = np.random.default_rng(5)
    y, z = rng.uniform(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        arrayloss.multilabel_soft_margin(y, z, reduction="none"),
        arrayloss.binary_crossentropy(y, z, from_logits=True, reduction="none"), rtol=1e-12)


def test_multilabel_soft_margin_class_axis_and_weights():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, size=(2, 3, 4)).astype(float)
    z = rng.normal(size=(2, 3, 4))
    w = np.array([0.5, 1.0, 2.0])
    moved = arrayloss.multilabel_soft_margin(np.moveaxis(y, 1, -1), np.moveaxis(z, 1, -1),
                                             class_weight=w, reduction="none")
    np.testing.assert_allclose(
        arrayloss.multilabel_soft_margin(y, z, class_weight=w, axis=1, reduction="none"), moved,
        rtol=1e-12)
    with pytest.raises(ValueError, match=r"class_weight must hold one weight per class: shape "
                       r"\(4,\) for y_pred of shape \(2, 3, 4\) with the class axis 2; got "
                       r"shape \(3,\)"):
        arrayloss.multilabel_soft_margin(y, z, class_weight=w)
    with pytest.raises(TypeError, match=r"axis must be a single int \(the class axis\); "
                       r"got \(1, 2\)"):
        arrayloss.multilabel_soft_margin(y, z, axis=(1, 2))
    with pytest.raises(TypeError, match="class_weight must hold real numbers"):
        arrayloss.multilabel_soft_margin(y, z, class_weight=["a", 1.0, 2.0])


@pytest.mark.parametrize("name", ["multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
                                  "multilabelsoftmarginloss"])
def test_multilabel_soft_margin_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.multilabel_soft_margin


def test_multilabel_soft_margin_module_holds_the_weight_as_a_buffer():
    weight = torch.tensor([1.0, 0.5, 2.0])
    criterion = at.MultiLabelSoftMarginLoss(weight=weight, reduction="sum")
    assert "weight" in dict(criterion.named_buffers())
    x = torch.tensor([[0.3, -2.0, 1.0], [1.5, 0.2, -0.7]])
    y = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    reference = torch.nn.MultiLabelSoftMarginLoss(weight=weight, reduction="sum")
    torch.testing.assert_close(criterion(x, y), reference(x, y))
    with pytest.raises(ValueError, match="reduction"):
        at.MultiLabelSoftMarginLoss(reduction="batchmean")


# -- multi_margin ------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_matches_pytorch_values_and_gradients(p, margin, weighted):
    rng = np.random.default_rng(7)
    labels, z = rng.integers(0, 5, size=(9,)), 1.5 * rng.normal(size=(9, 5))
    weight = rng.uniform(0.0, 2.0, size=5) if weighted else None
    w = None if weight is None else torch.asarray(weight)
    zt = torch.asarray(z).requires_grad_()
    theirs = F.multi_margin_loss(zt, torch.asarray(labels), p=p, margin=margin, weight=w,
                                 reduction="none")
    ours = arrayloss.multi_margin(labels, z, p=p, margin=margin, class_weight=weight,
                                  reduction="none")
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
    (grad,) = torch.autograd.grad(theirs.sum(), zt)
    np.testing.assert_allclose(
        arrayloss.gradient("multi_margin", labels, z, p=p, margin=margin, class_weight=weight,
                           reduction="sum"), grad.numpy(), rtol=1e-12, atol=1e-15)
    # PyTorch's "mean" is the plain mean over samples, with class weights too.
    for reduction in ("mean", "sum"):
        assert np.isclose(
            arrayloss.multi_margin(labels, z, p=p, margin=margin, class_weight=weight,
                                   reduction=reduction),
            F.multi_margin_loss(torch.asarray(z), torch.asarray(labels), p=p, margin=margin,
                                weight=w, reduction=reduction).item(), rtol=1e-12)


def test_multi_margin_hessian_against_autodiff_of_the_formula():
    # PyTorch's multi_margin_loss has no second derivative: jax.hessian of arrayloss's.
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(8)
    labels, z = rng.integers(0, 4, size=(5,)), rng.normal(size=(5, 4))
    weight = np.array([0.5, 1.0, 2.0, 1.5])
    for p in (1, 2):
        def total(x, p=p):
            return arrayloss.multi_margin(jnp.asarray(labels), x, p=p, margin=0.7,
                                          class_weight=weight, reduction="sum")
        full = np.asarray(jax.hessian(total)(jnp.asarray(z))).reshape(20, 20)
        np.testing.assert_allclose(
            arrayloss.hessian_diagonal("multi_margin", labels, z, p=p, margin=0.7,
                                       class_weight=weight, reduction="sum"),
            full.diagonal().reshape(5, 4), rtol=1e-12, atol=1e-15)
    assert np.any(arrayloss.hessian_diagonal("multi_margin", labels, z, p=2) > 0)


def test_multi_margin_one_sample_and_class_axis():
    x = np.array([0.5, 1.0, 0.75])
    ours = arrayloss.multi_margin(np.asarray(1), x, reduction="none")
    assert ours.shape == () and np.isclose(ours, (0.5 + 0.75) / 3)
    rng = np.random.default_rng(9)
    labels, z = rng.integers(0, 3, size=(2, 4)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(
        arrayloss.multi_margin(labels, z, axis=1, p=2, reduction="none"),
        arrayloss.multi_margin(labels, np.moveaxis(z, 1, -1), p=2, reduction="none"),
        rtol=1e-12)


def test_multi_margin_out_of_range_labels_give_nan_with_zero_derivatives():
    z = np.array([[0.1, 0.2, 0.3], [1.0, 0.0, 0.5], [0.3, 0.3, 0.3]])
    labels = np.array([0, 3, -1])
    values = arrayloss.multi_margin(labels, z, reduction="none")
    assert np.isfinite(values[0]) and np.isnan(values[1:]).all()
    grad = arrayloss.gradient("multi_margin", labels, z)
    assert np.isfinite(grad).all() and (grad[1:] == 0).all() and (grad[0] != 0).any()
    with pytest.raises(RuntimeError, match="out of range"):  # PyTorch raises; arrayloss: NaN
        F.multi_margin_loss(torch.asarray(z), torch.asarray(labels))
    with pytest.raises(TypeError, match="integer class labels"):
        arrayloss.multi_margin(labels.astype(float), z)


def test_multi_margin_is_weston_watkins_not_crammer_singer():
    # The sum over the other classes, not the max (categorical_hinge, optax's multiclass).
    z = np.array([[1.0, 0.5, 0.75]])
    assert np.isclose(arrayloss.multi_margin(np.array([0]), z), (0.5 + 0.75) / 3)
    assert np.isclose(arrayloss.categorical_hinge(np.array([[1.0, 0.0, 0.0]]), z), 0.75)


@pytest.mark.parametrize("name", ["multi_margin_loss", "MultiMarginLoss", "multimarginloss"])
def test_multi_margin_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.multi_margin


@pytest.mark.parametrize("p, error, match", [
    (3, ValueError, "p must be 1 or 2; got 3"),
    (0, ValueError, "p must be 1 or 2; got 0"),
    (2.0, TypeError, r"p must be an int \(1 or 2\); got 2.0 of type float"),
    (True, TypeError, r"p must be an int \(1 or 2\); got True of type bool"),
])
def test_multi_margin_bad_p(p, error, match):
    with pytest.raises(error, match=match):
        arrayloss.get("multi_margin", p=p)
    with pytest.raises(error, match=match):
        at.MultiMarginLoss(p=p)


def test_multi_margin_module():
    weight = torch.tensor([1.0, 0.5, 2.0])
    criterion = at.MultiMarginLoss(p=2, margin=0.4, weight=weight, reduction="sum")
    assert "p=2" in repr(criterion) and "margin=0.4" in repr(criterion)
    assert "weight" in dict(criterion.named_buffers())
    x, y = torch.tensor([[0.3, -2.0, 1.0], [1.5, 0.2, -0.7]]), torch.tensor([2, 0])
    reference = torch.nn.MultiMarginLoss(p=2, margin=0.4, weight=weight, reduction="sum")
    torch.testing.assert_close(criterion(x, y), reference(x, y))
    with pytest.raises(ValueError, match="class_weight must hold one weight per class"):
        arrayloss.multi_margin(np.array([0]), np.ones((1, 3)), class_weight=[1.0, 2.0])


# -- multilabel_margin -------------------------------------------------------------------------
def _padded_lists(rng, n, c):
    targets = np.full((n, c), -1)
    for row in range(n):
        k = int(rng.integers(0, c + 1))
        targets[row, :k] = rng.choice(c, size=k, replace=bool(row % 2))
        targets[row, k + 1:] = rng.integers(-1, c, size=max(0, c - k - 1))  # never read
    return targets


def test_multilabel_margin_matches_pytorch_values_and_gradients():
    rng = np.random.default_rng(10)
    targets, z = _padded_lists(rng, 12, 6), rng.normal(size=(12, 6))
    zt = torch.asarray(z).requires_grad_()
    theirs = F.multilabel_margin_loss(zt, torch.asarray(targets), reduction="none")
    ours = arrayloss.multilabel_margin(targets, z, reduction="none")
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
    (grad,) = torch.autograd.grad(theirs.sum(), zt)
    np.testing.assert_allclose(arrayloss.gradient("multilabel_margin", targets, z,
                                                  reduction="sum"),
                               grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(
        arrayloss.hessian_diagonal("multilabel_margin", targets, z), np.zeros_like(z))
    for reduction in ("mean", "sum"):
        assert np.isclose(arrayloss.multilabel_margin(targets, z, reduction=reduction),
                          F.multilabel_margin_loss(torch.asarray(z), torch.asarray(targets),
                                                   reduction=reduction).item(), rtol=1e-12)


def test_multilabel_margin_autograd_on_torch_matches_pytorch():
    targets = torch.tensor([[3, 0, -1, 1], [2, 2, -1, 0]])
    x = torch.tensor([[0.1, 0.2, 0.4, 0.8], [1.0, -0.5, 0.3, 0.0]], requires_grad=True)
    reference = x.detach().clone().requires_grad_()
    ours = arrayloss.multilabel_margin(targets, x, reduction="sum")
    theirs = F.multilabel_margin_loss(reference, targets, reduction="sum")
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(x.grad, reference.grad)


def test_multilabel_margin_reads_up_to_the_first_minus_one_and_counts_repeats():
    x = np.array([0.1, 0.2, 0.4, 0.8])
    once = arrayloss.multilabel_margin(np.array([3, -1, 0, 1]), x, reduction="none")
    assert once.shape == () and np.isclose(once, (0.3 + 0.4 + 0.6) / 4)
    twice = arrayloss.multilabel_margin(np.array([3, 3, -1, 2]), x, reduction="none")
    assert np.isclose(twice, 2 * once)  # PyTorch counts a repeated class again
    none = arrayloss.multilabel_margin(np.array([-1, 3, 0, 1]), np.array([np.nan, 0, 0, 0]),
                                       reduction="none")
    assert none == 0.0  # no targets: nothing is read, not even a NaN score


def test_multilabel_margin_out_of_range_gives_nan_with_zero_derivatives():
    targets = np.array([[1, -1, 0], [3, -1, 0], [0, -2, -1]])
    z = np.array([[0.1, 0.5, 0.2]] * 3)
    values = arrayloss.multilabel_margin(targets, z, reduction="none")
    assert np.isfinite(values[0]) and np.isnan(values[1:]).all()
    grad = arrayloss.gradient("multilabel_margin", targets, z)
    assert np.isfinite(grad).all() and (grad[1:] == 0).all() and (grad[0] != 0).any()
    with pytest.raises(RuntimeError, match="out of range"):  # PyTorch raises; arrayloss: NaN
        F.multilabel_margin_loss(torch.asarray(z), torch.asarray(targets))


def test_multilabel_margin_bad_inputs():
    with pytest.raises(TypeError, match="y_true must hold integer class indices padded with "
                       "-1; got dtype float64"):
        arrayloss.multilabel_margin(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"got y_true.shape=\(2, 2\), y_pred.shape=\(2, 3\)"):
        arrayloss.multilabel_margin(np.zeros((2, 2), int), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="unknown option"):
        arrayloss.multilabel_margin(np.zeros((2, 3), int), np.zeros((2, 3)), margin=1.0)


@pytest.mark.parametrize("name", ["multilabel_margin_loss", "MultiLabelMarginLoss",
                                  "multilabelmarginloss"])
def test_multilabel_margin_pytorch_names_resolve(name):
    assert arrayloss.get(name) is arrayloss.multilabel_margin


def test_multilabel_margin_module():
    criterion = at.MultiLabelMarginLoss(reduction="none")
    assert "reduction='none'" in repr(criterion)
    x, y = torch.tensor([[0.3, -2.0, 1.0], [1.5, 0.2, -0.7]]), torch.tensor([[2, -1, 0],
                                                                             [0, 1, -1]])
    reference = torch.nn.MultiLabelMarginLoss(reduction="none")
    torch.testing.assert_close(criterion(x, y), reference(x, y))
    with pytest.raises(ValueError, match="reduction"):
        at.MultiLabelMarginLoss(reduction="avg")
