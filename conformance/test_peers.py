"""arrayloss against the same loss in Keras 3, PyTorch, optax, scikit-learn and the other
reference libraries, through the one mapping table (``peers*.py``): agreement where the
definitions match, and every deliberate difference pinned and checked to still differ."""

from __future__ import annotations

import sys

import pytest

from arrayloss.conformance.peers import all_peers, check_peer

PEERS = all_peers()


@pytest.mark.parametrize("row", PEERS, ids=lambda p: p.id)
def test_peer(row):
    if not row.is_available():
        pytest.skip(f"{row.module} is not installed (absent, not passed)")
    check_peer(row)


def test_every_pinned_difference_says_why():
    for row in PEERS:
        if row.difference is not None:
            assert len(row.difference) > 20, row.id


def test_a_pinned_difference_that_disappears_fails():
    """A row that claims a difference where there is none is reported, not passed."""
    import dataclasses

    (mse,) = [p for p in PEERS if p.function == "sklearn.metrics.mean_squared_error"]
    if not mse.is_available():
        pytest.skip("scikit-learn is not installed")
    claimed = dataclasses.replace(mse, difference="claimed difference that does not exist")
    with pytest.raises(AssertionError, match="pinned difference .* is gone"):
        check_peer(claimed)
    wrong_recipe = dataclasses.replace(
        next(p for p in PEERS if p.recipe is not None and p.is_available()),
        recipe=lambda v: v)
    with pytest.raises(AssertionError, match="recipe"):
        check_peer(wrong_recipe)


def _block(monkeypatch, name):
    """Make ``import name`` (and its submodules) fail as if it were not installed."""
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        monkeypatch.setitem(sys.modules, key, None)
    monkeypatch.setitem(sys.modules, name, None)


def test_a_peer_library_not_installed_is_reported_absent(monkeypatch):
    """pytorch-metric-learning missing (its row's library is torch) makes its row absent,
    reported as such, not a failed check and not a crash."""
    from arrayloss.conformance.matrix import run_matrix
    from arrayloss.conformance.report import table

    (row,) = [p for p in PEERS if p.function.startswith("pytorch_metric_learning")]
    _block(monkeypatch, "pytorch_metric_learning")
    assert not row.is_available()
    assert row.module == "pytorch_metric_learning"
    matrix = run_matrix(["ntxent"], ["numpy"], transforms=False)
    (result,) = [r for r in matrix.results if r.kind == "peer" and r.target == row.function]
    assert result.passed, result.message
    assert result.message == "absent: pytorch_metric_learning is not installed"
    assert not any(r.kind == "peer" and not r.passed for r in matrix.results)
    assert "FAIL" not in table(matrix).splitlines()[1].split()[-1]


@pytest.mark.parametrize("module", sorted({m for p in PEERS for m in p.modules}))
def test_every_row_needing_a_missing_library_is_absent(monkeypatch, module):
    """Every import a row needs, its library's or another package's, is checked."""
    rows = [p for p in PEERS if module in p.modules]
    assert rows
    _block(monkeypatch, module)
    for row in rows:
        assert not row.is_available(), row.id
        assert row.module == module, row.id  # the first one missing, dependencies first


def test_every_row_names_the_package_of_its_function():
    for row in PEERS:
        assert row.function.split(".")[0] in row.modules, row.id


def test_keras_tversky_rows_follow_the_installed_keras(monkeypatch):
    """Keras's tversky multiplied the false negatives by ``alpha`` until keras-team/keras
    PR #23333 swapped them back: the agreement row holds on either behaviour, and the
    pinned difference is checked only on a Keras that swaps (reported absent elsewhere)."""
    from arrayloss.conformance import peers_structured

    rows = [p for p in PEERS if p.loss == "tversky" and p.library == "keras"]
    (agree,) = [p for p in rows if p.difference is None]
    (pinned,) = [p for p in rows if p.difference is not None]
    try:
        keras = peers_structured.keras_module()
        import jax  # noqa: F401
    except ImportError:
        pytest.skip("Keras on JAX is not installed")
    installed = keras.losses.tversky

    def exchanged(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):  # the other behaviour
        return installed(y_true, y_pred, alpha=beta, beta=alpha, axis=axis)

    seen = []
    for tversky in (installed, exchanged):
        monkeypatch.setattr(keras.losses, "tversky", tversky)
        swaps = peers_structured.keras_tversky_swaps()
        seen.append(swaps)
        check_peer(agree)
        assert pinned.is_available() == swaps
        if swaps:
            check_peer(pinned)
        else:
            assert "#23333" in pinned.module
    assert seen[0] != seen[1]
