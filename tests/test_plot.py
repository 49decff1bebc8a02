"""``python -m arrayloss plot``: a figure for every registered loss, drawn from arrayloss's
own values (checked here against direct calls of the loss) and its derivatives (checked
against finite differences of those values)."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.__main__ import main

matplotlib = pytest.importorskip("matplotlib")  # the tutorial extra, installed by test
matplotlib.use("Agg")

from arrayloss._cli import plot  # noqa: E402

POINTS = 21


def _png_ok(path) -> None:
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > 3000, f"{path}: {len(data)} bytes"
    pixels = imread(path)
    assert pixels.std() > 0.05, f"{path} is (nearly) blank"
    # Lines were drawn: a good share of pixels is neither white nor the frame's grey.
    assert (pixels[..., :3].min(axis=-1) < 0.9).mean() > 0.01


@pytest.mark.parametrize("name", arrayloss.available())
def test_every_loss_plots(name, tmp_path):
    out = tmp_path / f"{name}.png"
    assert main(["plot", name, "--points", str(POINTS), "--dpi", "40", "-o", str(out)]) == 0
    _png_ok(out)


@pytest.mark.parametrize("name", arrayloss.available())
def test_curve_is_the_loss_and_its_derivative(name):
    """Each point of each curve is the loss called on that point alone, and the derivative
    drawn agrees with central differences of the values away from kinks."""
    found = plot.curves(name, vary=None, points=POINTS)
    assert found
    for curve, view in zip(found, plot.views(name, points=POINTS), strict=True):
        assert curve.view == view.key
        assert curve.value.shape == curve.derivative.shape == (POINTS,)
        assert np.isfinite(curve.value).mean() > 0.9
        loss = arrayloss.get(name)
        for i in (1, POINTS // 2, POINTS - 2):
            if view.batched:
                alone = loss(*view.make(np, view.x[i:i + 1]), **view.options,
                             reduction="none")[0]
            else:
                alone = loss(*view.make(np, float(view.x[i])), **view.options)
            np.testing.assert_allclose(curve.value[i], float(alone), rtol=1e-12, atol=1e-12)
        fd = plot.curves(name, vary=None, view=view.key, points=POINTS,
                         method="finite differences")[0].derivative
        close = np.isclose(curve.derivative, fd, rtol=1e-4, atol=1e-5)
        # A kink (Huber's knot, the hinge, a max) spoils the differences at a point or two.
        assert close.mean() >= 0.8, (name, view.key, curve.method, curve.derivative, fd)


def test_values_by_hand():
    (huber,) = plot.curves("huber", {"delta": 0.5}, vary=None, points=5)
    np.testing.assert_allclose(huber.x, [-3, -1.5, 0, 1.5, 3])
    np.testing.assert_allclose(huber.value, [1.375, 0.625, 0.0, 0.625, 1.375])
    np.testing.assert_allclose(huber.derivative, [-0.5, -0.5, 0.0, 0.5, 0.5])
    assert huber.method == "closed form"

    logit, probability = plot.curves("bce", vary=None, points=3)
    np.testing.assert_allclose(logit.value, np.log1p(np.exp(-logit.x)))
    np.testing.assert_allclose(logit.derivative, -1 / (1 + np.exp(logit.x)))
    np.testing.assert_allclose(probability.value, -np.log(probability.x), rtol=1e-12)

    (cosine,) = plot.curves("cosine_similarity", vary=None, points=9)
    np.testing.assert_allclose(cosine.value, -np.cos(cosine.x), atol=1e-12)
    np.testing.assert_allclose(cosine.derivative, np.sin(cosine.x), atol=1e-12)

    similar, dissimilar = plot.curves("contrastive", vary=None, points=6)
    np.testing.assert_allclose(similar.value, similar.x**2)
    np.testing.assert_allclose(dissimilar.value, np.maximum(1 - dissimilar.x, 0) ** 2)

    (l2,) = plot.curves("l2", vary=None, points=5)
    np.testing.assert_allclose(l2.value, 0.01 * l2.x**2)


def test_sweeps():
    assert plot.sweep_for("huber") == ("delta", [0.5, 1.0, 2.0])
    assert plot.sweep_for("focal")[0] == "gamma"
    assert plot.sweep_for("quantile") == ("q", [0.1, 0.5, 0.9])
    assert plot.sweep_for("huber", {"delta": 3.0}) is None  # a fixed option is not swept
    assert plot.sweep_for("mse") is None
    curves = plot.curves("quantile", points=5)
    assert [c.options["q"] for c in curves] == [0.1, 0.5, 0.9]
    np.testing.assert_allclose(curves[0].value, np.where(curves[0].x <= 0, -0.1, 0.9)
                               * curves[0].x)
    by_hand = plot.curves("huber", vary=("delta", [1.0, 2.0]), points=5)
    assert [c.options for c in by_hand] == [{"delta": 1.0}, {"delta": 2.0}]


def test_derivative_methods_agree():
    closed = plot.curves("log_cosh", vary=None, points=11)[0]
    assert closed.method == "closed form"
    pytest.importorskip("jax")
    autodiff = plot.curves("log_cosh", vary=None, points=11, method="jax.grad")[0]
    assert autodiff.method == "jax.grad"
    np.testing.assert_allclose(autodiff.derivative, np.tanh(closed.x), rtol=1e-12)
    np.testing.assert_allclose(closed.derivative, np.tanh(closed.x), rtol=1e-12)
    assert plot.curves("ctc", points=5)[0].method == "jax.grad"


def test_command_options_and_errors(tmp_path, capsys):
    out = tmp_path / "q.png"
    assert main(["plot", "pinball", "--option", "q=0.2", "--vary", "none", "--points", "9",
                 "--dpi", "40", "-o", str(out)]) == 0
    _png_ok(out)
    out = tmp_path / "focal.svg"
    assert main(["plot", "focal", "--view", "logit", "--vary", "gamma=0,3", "--points", "9",
                 "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(SystemExit, match="no view 'error'"):
        main(["plot", "bce", "--view", "error", "-o", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="unknown loss"):
        main(["plot", "no_such_loss", "-o", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="NAME or --family"):
        main(["plot", "-o", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="delta must be"):
        main(["plot", "huber", "--option", "delta=-1", "-o", str(tmp_path / "x.png")])


def test_family_overviews(tmp_path):
    families = sorted({e.family for e in arrayloss.core.registry.entries()})
    for family in ("regression", "classification"):
        assert family in families
        out = tmp_path / f"{family}.png"
        assert main(["plot", "--family", family, "--points", "21", "--dpi", "40",
                     "-o", str(out)]) == 0
        _png_ok(out)


def test_a_loss_without_a_slice_is_a_clear_error(monkeypatch):
    class Spec:  # a loss of a kind no slice is defined for
        kind, inputs, options = "custom", ("points", "graph"), {}

    monkeypatch.setattr(plot, "_spec", lambda name: Spec)
    with pytest.raises(ValueError, match="no plot slice is defined for 'mean_squared_error'"):
        plot.views("mse")
    with pytest.raises(ValueError, match="unknown loss"):
        plot.views("no_such_loss")
