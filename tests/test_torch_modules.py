"""arrayloss.torch: every module against PyTorch's own loss with the same options, and as a
module: training, ``.to("meta")``, ``state_dict``, ``torch.compile``, ``torch.func``,
``torch.autocast``."""

from __future__ import annotations

import copy
import io
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import arrayloss
import arrayloss.torch as at

DTYPES = (torch.float32, torch.float64)
TOLERANCE = {torch.float32: {"rtol": 2e-5, "atol": 2e-6},
             torch.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, dtype, seed=0):
    return torch.randn(*shape, generator=_gen(seed), dtype=dtype)


def rand(*shape, dtype, seed=0):
    return torch.rand(*shape, generator=_gen(seed), dtype=dtype)


# Each case: (module name, its options given the dtype, leaves given the dtype, the forward
# arguments built from the leaves, the reductions). Gradients are compared on the leaves.
def _regression(dtype):
    return [randn(4, 3, dtype=dtype), randn(4, 3, dtype=dtype, seed=1)]


def _identity(leaves):
    return leaves


def _labels(*shape, classes, seed=3):
    return torch.randint(0, classes, shape, generator=_gen(seed))


def _ce_inputs(shape):
    def leaves(dtype):
        return [randn(*shape, dtype=dtype) * 2]
    return leaves


def _with_labels(shape, ignore=None):
    def args(leaves):
        labels = _labels(*shape, classes=leaves[0].shape[1 if leaves[0].ndim > 1 else 0])
        if ignore is not None:
            labels = labels.reshape(-1)
            labels[::3] = ignore
            labels = labels.reshape(shape)
        return [leaves[0], labels]
    return args


def _probs(dtype):
    return [randn(5, 4, dtype=dtype) * 2, rand(5, 4, dtype=dtype, seed=1)]


def _prob_target(leaves):
    logits, raw = leaves
    return [logits, raw / raw.sum(dim=1, keepdim=True)]


def _ctc_leaves(dtype):
    return [randn(6, 2, 5, dtype=dtype)]


def _ctc_args(leaves):
    targets = torch.tensor([[1, 2, 2], [3, 1, 0]])
    return [F.log_softmax(leaves[0], dim=-1), targets, torch.tensor([6, 5]),
            torch.tensor([3, 2])]


def _weights(n, dtype, seed=7):
    return rand(n, dtype=dtype, seed=seed) + 0.5


NONE_MEAN_SUM = ("none", "mean", "sum")
CASES = [
    ("MSELoss", lambda d: {}, _regression, _identity, NONE_MEAN_SUM),
    ("L1Loss", lambda d: {}, _regression, _identity, NONE_MEAN_SUM),
    ("HuberLoss", lambda d: {}, _regression, _identity, NONE_MEAN_SUM),
    ("HuberLoss", lambda d: {"delta": 0.5}, _regression, _identity, NONE_MEAN_SUM),
    ("SmoothL1Loss", lambda d: {"beta": 0.5}, _regression, _identity, NONE_MEAN_SUM),
    ("SmoothL1Loss", lambda d: {"beta": 0.0}, _regression, _identity, NONE_MEAN_SUM),
    ("BCELoss", lambda d: {}, _regression,
     lambda v: [torch.sigmoid(v[0]), torch.sigmoid(v[1])], NONE_MEAN_SUM),
    ("BCELoss", lambda d: {"weight": _weights(3, d)}, _regression,
     lambda v: [torch.sigmoid(v[0]), torch.sigmoid(v[1])], NONE_MEAN_SUM),
    ("BCEWithLogitsLoss", lambda d: {"pos_weight": _weights(3, d)}, _regression,
     lambda v: [v[0], torch.sigmoid(v[1])], NONE_MEAN_SUM),
    ("BCEWithLogitsLoss", lambda d: {"weight": _weights(3, d, 8), "pos_weight": _weights(3, d)},
     _regression, lambda v: [v[0], torch.sigmoid(v[1])], NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {}, _ce_inputs((6, 4)), _with_labels((6,), -100),
     NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {"weight": _weights(4, d)}, _ce_inputs((6, 4)),
     _with_labels((6,)), NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {"ignore_index": 1, "label_smoothing": 0.2},
     _ce_inputs((6, 4)), _with_labels((6,)), NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {"weight": _weights(3, d), "ignore_index": 2,
                                    "label_smoothing": 0.1},
     _ce_inputs((2, 3, 4, 2)), _with_labels((2, 4, 2), 2), NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {"label_smoothing": 0.1}, _ce_inputs((4,)),
     lambda v: [v[0], torch.tensor(2)], NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {}, _probs, _prob_target, NONE_MEAN_SUM),
    ("CrossEntropyLoss", lambda d: {"weight": _weights(4, d), "label_smoothing": 0.3},
     _probs, _prob_target, NONE_MEAN_SUM),
    ("NLLLoss", lambda d: {}, _ce_inputs((6, 4)),
     lambda v: _with_labels((6,), -100)([F.log_softmax(v[0], dim=1)]), NONE_MEAN_SUM),
    ("NLLLoss", lambda d: {"weight": _weights(4, d), "ignore_index": 0}, _ce_inputs((6, 4)),
     lambda v: _with_labels((6,))([F.log_softmax(v[0], dim=1)]), NONE_MEAN_SUM),
    ("KLDivLoss", lambda d: {}, _probs,
     lambda v: [F.log_softmax(v[0], dim=-1), F.softmax(v[1], dim=-1)],
     ("batchmean", "mean", "sum")),
    ("KLDivLoss", lambda d: {"log_target": True}, _probs,
     lambda v: [F.log_softmax(v[0], dim=-1), F.log_softmax(v[1], dim=-1)],
     ("batchmean", "mean", "sum")),
    ("CTCLoss", lambda d: {}, _ctc_leaves, _ctc_args, NONE_MEAN_SUM),
    ("CTCLoss", lambda d: {"blank": 4, "zero_infinity": True}, _ctc_leaves, _ctc_args,
     NONE_MEAN_SUM),
    ("TripletMarginLoss", lambda d: {}, lambda d: [randn(4, 3, dtype=d, seed=s)
                                                   for s in range(3)], _identity,
     NONE_MEAN_SUM),
    ("TripletMarginLoss", lambda d: {"margin": 2.0, "p": 1.0, "swap": True},
     lambda d: [randn(4, 3, dtype=d, seed=s) for s in range(3)], _identity, NONE_MEAN_SUM),
    ("SoftMarginLoss", lambda d: {}, lambda d: [randn(4, 3, dtype=d) * 3],
     lambda v: [v[0], torch.tensor([[1.0, -1.0, 1.0]] * 4, dtype=v[0].dtype)], NONE_MEAN_SUM),
    ("HingeEmbeddingLoss", lambda d: {}, lambda d: [rand(4, 3, dtype=d) * 2],
     lambda v: [v[0], torch.tensor([[1.0, -1.0, -1.0]] * 4, dtype=v[0].dtype)], NONE_MEAN_SUM),
    ("HingeEmbeddingLoss", lambda d: {"margin": 0.5}, lambda d: [randn(4, 3, dtype=d)],
     lambda v: [v[0], torch.tensor([[-1.0, 1.0, -1.0]] * 4, dtype=v[0].dtype)], NONE_MEAN_SUM),
    ("MarginRankingLoss", lambda d: {}, lambda d: [randn(6, dtype=d, seed=s) for s in range(2)],
     lambda v: [*v, torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0], dtype=v[0].dtype)],
     NONE_MEAN_SUM),
    ("MarginRankingLoss", lambda d: {"margin": 0.5},
     lambda d: [randn(4, 3, dtype=d, seed=s) for s in range(2)],
     lambda v: [*v, torch.tensor([[1.0, -1.0, 1.0]] * 4, dtype=v[0].dtype)], NONE_MEAN_SUM),
    ("CosineEmbeddingLoss", lambda d: {}, lambda d: [randn(5, 3, dtype=d, seed=s)
                                                     for s in range(2)],
     lambda v: [*v, torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0], dtype=v[0].dtype)],
     NONE_MEAN_SUM),
    ("CosineEmbeddingLoss", lambda d: {"margin": -0.2},
     lambda d: [randn(5, 3, dtype=d, seed=s) for s in range(2)],
     lambda v: [*v, torch.tensor([-1.0, -1.0, 1.0, -1.0, 1.0], dtype=v[0].dtype)],
     NONE_MEAN_SUM),
    ("MultiLabelSoftMarginLoss", lambda d: {}, lambda d: [randn(5, 4, dtype=d) * 3],
     lambda v: [v[0], (rand(5, 4, dtype=v[0].dtype, seed=1) > 0.5).to(v[0].dtype)],
     NONE_MEAN_SUM),
    ("MultiLabelSoftMarginLoss", lambda d: {"weight": _weights(4, d)},
     lambda d: [randn(5, 4, dtype=d) * 3],
     lambda v: [v[0], (rand(5, 4, dtype=v[0].dtype, seed=1) > 0.5).to(v[0].dtype)],
     NONE_MEAN_SUM),
    ("MultiMarginLoss", lambda d: {}, _ce_inputs((6, 4)), _with_labels((6,)), NONE_MEAN_SUM),
    ("MultiMarginLoss", lambda d: {"p": 2, "margin": 0.5, "weight": _weights(4, d)},
     _ce_inputs((6, 4)), _with_labels((6,)), NONE_MEAN_SUM),
    ("MultiMarginLoss", lambda d: {"margin": 2.0}, _ce_inputs((4,)),
     lambda v: [v[0], torch.tensor(2)], NONE_MEAN_SUM),
    ("MultiLabelMarginLoss", lambda d: {}, _ce_inputs((4, 3)),
     lambda v: [v[0], torch.tensor([[2, 0, -1], [1, -1, 2], [-1, 0, 0], [0, 1, 2]])],
     NONE_MEAN_SUM),
    ("PoissonNLLLoss", lambda d: {}, lambda d: [randn(4, 3, dtype=d), rand(4, 3, dtype=d) * 4],
     _identity, NONE_MEAN_SUM),
    ("PoissonNLLLoss", lambda d: {"log_input": False, "full": True, "eps": 1e-6},
     lambda d: [rand(4, 3, dtype=d) + 0.1, rand(4, 3, dtype=d, seed=1) * 4], _identity,
     NONE_MEAN_SUM),
    ("GaussianNLLLoss", lambda d: {}, lambda d: [*_regression(d), rand(4, 3, dtype=d) + 0.1],
     _identity, NONE_MEAN_SUM),
    ("GaussianNLLLoss", lambda d: {"full": True}, lambda d: [*_regression(d),
                                                           rand(4, dtype=d) + 0.1],
     _identity, NONE_MEAN_SUM),
]
PARAMS = [pytest.param(case, reduction, dtype, id=f"{case[0]}-{i}-{reduction}-{str(dtype)[6:]}")
          for i, case in enumerate(CASES) for reduction in case[4] for dtype in DTYPES]


def _value_and_grads(criterion, leaves, make_args):
    leaves = [x.clone().requires_grad_(True) for x in leaves]
    value = criterion(*make_args(leaves))
    grads = torch.autograd.grad(value.sum(), leaves, allow_unused=True)
    return value, grads


# PyTorch's KLDivLoss warns that its "mean" is not KL's mean (arrayloss.torch gives the same).
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize(("case", "reduction", "dtype"), PARAMS)
def test_module_against_pytorch(case, reduction, dtype):
    name, options, make_leaves, make_args, _ = case
    ours = getattr(at, name)(reduction=reduction, **options(dtype))
    theirs = getattr(nn, name)(reduction=reduction, **options(dtype))
    leaves = make_leaves(dtype)
    value, grads = _value_and_grads(ours, leaves, make_args)
    expected, expected_grads = _value_and_grads(theirs, leaves, make_args)
    assert value.dtype == expected.dtype and value.shape == expected.shape
    torch.testing.assert_close(value, expected, **TOLERANCE[dtype])
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is None:  # PyTorch has no gradient for this input (e.g. CTC's targets)
            continue
        torch.testing.assert_close(grad, want, **TOLERANCE[dtype])


def test_kl_div_none_is_per_distribution():
    log_q = F.log_softmax(randn(5, 4, dtype=torch.float64), dim=-1)
    p = F.softmax(randn(5, 4, dtype=torch.float64, seed=1), dim=-1)
    ours = at.KLDivLoss(reduction="none")(log_q, p)
    elementwise = nn.KLDivLoss(reduction="none")(log_q, p)
    assert ours.shape == (5,)
    torch.testing.assert_close(ours, elementwise.sum(dim=-1))


def test_cross_entropy_all_ignored_is_zero_where_pytorch_gives_nan():
    logits, labels = randn(3, 4, dtype=torch.float32), torch.full((3,), -100)
    assert torch.isnan(nn.CrossEntropyLoss()(logits, labels))
    assert at.CrossEntropyLoss()(logits, labels).item() == 0.0


# -- the arrayloss-style modules --------------------------------------------------------------
GENERATED = {
    "FocalLoss": ({"gamma": 1.5, "from_logits": True, "apply_class_balancing": True},
                  lambda: [randn(4, 3, dtype=torch.float64), rand(4, 3, dtype=torch.float64)]),
    "DiceLoss": ({"class_weight": [1.0, 2.0, 0.5], "class_axis": 1, "from_logits": True},
                 lambda: [randn(2, 3, 4, dtype=torch.float64),
                          F.one_hot(_labels(2, 4, classes=3), 3).movedim(-1, 1).double()]),
    "TukeyBiweightLoss": ({"c": 1.0}, lambda: _regression(torch.float64)),
    "NTXentLoss": ({"temperature": 0.5}, lambda: [randn(6, 3, dtype=torch.float64),
                                                  torch.tensor([0, 0, 1, 1, 2, 2])]),
    "CircleLoss": ({"gamma": 8.0, "margin": 0.3}, lambda: [randn(6, 3, dtype=torch.float64),
                                                          torch.tensor([0, 0, 1, 1, 2, 2])]),
    "GeneralizedCrossEntropyLoss": ({"q": 0.7, "from_logits": True},
                                    lambda: [randn(5, 4, dtype=torch.float64),
                                             torch.tensor([0, 3, 1, 2, 3])]),
    "ContrastiveLoss": ({"margin": 0.5}, lambda: [rand(5, dtype=torch.float64),
                                                  torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])]),
}


def test_every_registered_loss_has_a_module():
    named = {c.__name__ for c in at.PYTORCH_MODULES}
    generated = {n for n in at.__all__ if n.endswith("Loss")} - named - {"Loss",
                                                                         "RegisteredLoss"}
    covered = {getattr(at, n)._loss for n in named | generated}
    expected = {n for n in arrayloss.available() if n not in ("l1", "l2", "l1_l2")}
    # sparse and dense categorical cross-entropy both sit behind CrossEntropyLoss
    assert covered | {"categorical_crossentropy"} == expected
    assert {"FocalLoss", "DiceLoss", "TukeyBiweightLoss", "NTXentLoss"} <= generated


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_registered_module_calls_its_function(name):
    options, inputs = GENERATED[name]
    criterion = getattr(at, name)(reduction="none", **options)
    input, target = inputs()
    function = criterion.function
    expected = (function(input, target, reduction="none", **options)
                if function.spec.prediction == function.spec.inputs[0]
                else function(target, input, reduction="none", **options))
    torch.testing.assert_close(criterion(input, target), expected)
    weight = rand(expected.shape[0], dtype=torch.float64)
    weighted = getattr(at, name)(reduction="weighted_mean", **options)
    torch.testing.assert_close(weighted(input, target, sample_weight=weight),
                               (weight * expected).sum() / weight.sum())
    assert function.__name__ in type(criterion).__doc__


# -- as a module --------------------------------------------------------------------------------
TRAINED = [
    ("CrossEntropyLoss", {"weight": torch.tensor([1.0, 3.0, 0.5]), "label_smoothing": 0.1},
     lambda out: _labels(16, classes=3)),
    ("BCEWithLogitsLoss", {"pos_weight": torch.tensor([2.0, 0.5, 1.0])},
     lambda out: rand(16, 3, dtype=torch.float32, seed=4).round()),
    ("HuberLoss", {"delta": 0.5}, lambda out: randn(16, 3, dtype=torch.float32, seed=4)),
]


@pytest.mark.parametrize(("name", "options", "target"), TRAINED, ids=[t[0] for t in TRAINED])
def test_training_loop_matches_pytorch(name, options, target):
    x = randn(16, 5, dtype=torch.float32, seed=9)
    y = target(None)
    final = []
    for criterion in (getattr(at, name)(**options), getattr(nn, name)(**options)):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        losses = []
        for _ in range(25):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < 0.9 * losses[0]  # it trains
        final.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    torch.testing.assert_close(final[0], final[1], rtol=1e-4, atol=1e-5)


META = [
    (at.CrossEntropyLoss(weight=torch.ones(4), label_smoothing=0.1),
     lambda: [torch.randn(6, 4), _labels(6, classes=4)]),
    (at.BCEWithLogitsLoss(weight=torch.ones(4), pos_weight=torch.ones(4), reduction="none"),
     lambda: [torch.randn(6, 4), torch.rand(6, 4)]),
    (at.NLLLoss(weight=torch.ones(4), reduction="sum"),
     lambda: [torch.randn(6, 4), _labels(6, classes=4)]),
    (at.MSELoss(reduction="none"), lambda: [torch.randn(6, 4), torch.randn(6, 4)]),
    (at.DiceLoss(class_weight=torch.ones(4), class_axis=1, reduction="none"),
     lambda: [torch.rand(6, 4), torch.rand(6, 4)]),
]


@pytest.mark.parametrize(("criterion", "inputs"), META, ids=lambda m: type(m).__name__)
def test_to_meta(criterion, inputs):
    arrays = inputs()
    expected = criterion(*arrays)
    buffers = len(list(criterion.buffers()))
    moved = copy.deepcopy(criterion).to("meta")
    assert [b.device.type for b in moved.buffers()] == ["meta"] * buffers
    assert buffers == (0 if isinstance(criterion, at.MSELoss) else
                       2 if isinstance(criterion, at.BCEWithLogitsLoss) else 1)
    value = moved(*(a.to("meta") for a in arrays))
    assert value.device.type == "meta" and value.shape == expected.shape
    assert value.dtype == expected.dtype


def test_state_dict_round_trip():
    weight = torch.tensor([0.5, 2.0, 1.0])
    criterion = at.CrossEntropyLoss(weight=weight, ignore_index=1, label_smoothing=0.2)
    assert set(criterion.state_dict()) == {"weight"}
    buffer = io.BytesIO()
    torch.save(criterion.state_dict(), buffer)
    buffer.seek(0)
    fresh = at.CrossEntropyLoss(weight=torch.ones(3), ignore_index=1, label_smoothing=0.2)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    torch.testing.assert_close(fresh.weight, weight)
    logits, labels = randn(6, 3, dtype=torch.float32), _labels(6, classes=3)
    torch.testing.assert_close(fresh(logits, labels), criterion(logits, labels))
    torch.testing.assert_close(fresh(logits, labels),
                               nn.CrossEntropyLoss(weight=weight, ignore_index=1,
                                                   label_smoothing=0.2)(logits, labels))
    # the whole module, a generated class included, pickles by its public name
    dice = at.DiceLoss(class_weight=[1.0, 3.0], class_axis=1)
    assert set(dice.state_dict()) == {"class_weight"}
    buffer = io.BytesIO()
    torch.save([criterion, dice], buffer)
    buffer.seek(0)
    loaded, loaded_dice = torch.load(buffer, weights_only=False)
    assert type(loaded_dice) is at.DiceLoss and type(loaded) is at.CrossEntropyLoss
    torch.testing.assert_close(loaded_dice.class_weight, torch.tensor([1.0, 3.0]))
    y, p = torch.rand(2, 2, 5), torch.rand(2, 2, 5)
    torch.testing.assert_close(loaded_dice(p, y), dice(p, y))


COMPILED = [
    (at.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0]), ignore_index=1,
                         label_smoothing=0.1),
     lambda: [torch.randn(6, 4), _labels(6, classes=4)]),
    (at.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 0.5, 1.0])),
     lambda: [torch.randn(6, 4), torch.rand(6, 4)]),
    (at.DiceLoss(from_logits=True), lambda: [torch.randn(6, 4), torch.rand(6, 4).round()]),
]


@pytest.mark.parametrize(("criterion", "inputs"), COMPILED, ids=lambda m: type(m).__name__)
def test_compiled_fullgraph(criterion, inputs):
    torch._dynamo.reset()
    input, target = inputs()
    expected, (grad,) = _value_and_grads(criterion, [input], lambda v: [v[0], target])
    compiled = torch.compile(criterion, fullgraph=True, backend="aot_eager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, (compiled_grad,) = _value_and_grads(compiled, [input], lambda v: [v[0], target])
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(compiled_grad, grad)
    # No warning is issued from arrayloss's code. Dynamo does say, once per helper, that it
    # traces through array-api-compat's lru_cache-wrapped type checks (called from the
    # core); none of those calls is in this adapter.
    assert [w for w in caught if "arrayloss" in w.filename] == []
    notices = [str(w.message) for w in caught if "lru_cache" in str(w.message)]
    assert not any("arrayloss/torch/" in n for n in notices)


@pytest.mark.filterwarnings("ignore:.*lru_cache:UserWarning")
@pytest.mark.filterwarnings("ignore:.*torch.jit.script_method. is deprecated:DeprecationWarning")
def test_compiled_mse_with_inductor():
    torch._dynamo.reset()
    criterion = at.MSELoss()
    compiled = torch.compile(criterion, fullgraph=True)
    x, y = randn(8, 3, dtype=torch.float32), randn(8, 3, dtype=torch.float32, seed=1)
    torch.testing.assert_close(compiled(x, y), F.mse_loss(x, y))


@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss", "KLDivLoss"])
def test_torch_func_grad(name):
    x = randn(5, 4, dtype=torch.float64)
    target = {"MSELoss": randn(5, 4, dtype=torch.float64, seed=1),
              "CrossEntropyLoss": _labels(5, classes=4),
              "KLDivLoss": F.softmax(randn(5, 4, dtype=torch.float64, seed=1), dim=-1)}[name]
    options = {"reduction": "batchmean"} if name == "KLDivLoss" else {}
    ours, theirs = getattr(at, name)(**options), getattr(nn, name)(**options)
    prepare = (lambda z: F.log_softmax(z, dim=-1)) if name == "KLDivLoss" else (lambda z: z)
    grad = torch.func.grad(lambda z: ours(prepare(z), target))(x)
    torch.testing.assert_close(grad, torch.func.grad(lambda z: theirs(prepare(z), target))(x))
    per_row = torch.func.vmap(torch.func.grad(lambda z, t: ours(prepare(z), t)))(x, target)
    torch.testing.assert_close(per_row, torch.func.vmap(
        torch.func.grad(lambda z, t: theirs(prepare(z), t)))(x, target))


def test_autocast_bfloat16():
    torch.manual_seed(0)
    model = nn.Linear(5, 4)
    x, labels = randn(8, 5, dtype=torch.float32), _labels(8, classes=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        assert out.dtype == torch.bfloat16
        loss = at.CrossEntropyLoss(label_smoothing=0.1)(out, labels)
        # NT-Xent's matmul runs in float32 inside the module, not autocast's bfloat16
        embeddings = randn(8, 4, dtype=torch.float32, seed=2)
        ntxent = at.NTXentLoss(temperature=0.1)(embeddings, labels % 2)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, F.cross_entropy(out.float(), labels, label_smoothing=0.1))
    loss.backward()
    assert model.weight.grad is not None and torch.isfinite(model.weight.grad).all()
    torch.testing.assert_close(ntxent, arrayloss.ntxent(embeddings, labels % 2, temperature=0.1),
                               rtol=1e-6, atol=1e-6)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: at.MSELoss(reduction="avg"), ValueError,
     "MSELoss: reduction must be one of 'none', 'mean', 'sum'; got 'avg'"),
    (lambda: at.KLDivLoss(reduction="weighted_mean"), ValueError, "'batchmean'"),
    (lambda: at.HuberLoss(delta=-1.0), ValueError, "HuberLoss: .*delta"),
    (lambda: at.SmoothL1Loss(beta=-0.5), ValueError, "SmoothL1Loss: beta must be in"),
    (lambda: at.CrossEntropyLoss(label_smoothing=1.5), ValueError,
     "CrossEntropyLoss: .*label_smoothing"),
    (lambda: at.KLDivLoss(log_target="yes"), TypeError, "log_target must be a bool"),
    (lambda: at.BCELoss(weight="heavy"), TypeError, "BCELoss: weight must be a tensor"),
    (lambda: at.DiceLoss(smoth=1.0), TypeError, r"DiceLoss\(\) got unknown option\(s\) smoth"),
    (lambda: at.FocalLoss(gamma=-2.0), ValueError, "FocalLoss: .*gamma"),
])
def test_bad_options_fail_at_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_ctc_needs_padded_targets():
    with pytest.raises(ValueError, match=r"targets must be padded, shape \(N, S\); got "
                                         r"targets.shape=\(5,\)"):
        at.CTCLoss()(torch.randn(6, 2, 5).log_softmax(-1), torch.tensor([1, 2, 2, 3, 1]),
                     torch.tensor([6, 5]), torch.tensor([3, 2]))


def test_import_arrayloss_does_not_import_torch():
    code = "import sys, arrayloss; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
