"""The mapping table from arrayloss calls to the same loss in a reference library.

Each :class:`Peer` row says how to compute one arrayloss call in Keras 3, PyTorch, optax,
scikit-learn or statsmodels: the loss's options, the reduction, the input generator, and a
function that runs the peer on the same float64 NumPy inputs (in the peer's own argument
order) and returns its value as NumPy. Rows with ``difference`` set pin a deliberate
difference: the check asserts the two still differ, and the text says why.

Family modules (``peers_<family>.py``) add rows with :func:`peer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PEERS", "Peer", "all_peers", "as_jax", "as_torch", "available_peers", "check_peer",
           "keras_module", "peer"]


@dataclass(frozen=True)
class Peer:
    """One arrayloss call and the reference library's call that must give the same value."""

    loss: str
    library: str  # "keras", "torch", "optax", "sklearn", "statsmodels"
    function: str  # the peer's function, for reports: "torch.nn.functional.huber_loss"
    make_inputs: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
    compute: Callable[..., Any]  # compute(*inputs) -> the peer's value (array-like)
    options: dict[str, Any] = field(default_factory=dict)
    reduction: str = "mean"
    difference: str | None = None  # why the values deliberately differ (checked to differ)
    rtol: float = 1e-6
    # For a pinned difference: the one-line recipe that turns the peer's value into
    # arrayloss's (``lambda v: -v``), checked to hold.
    recipe: Callable[[np.ndarray], Any] | None = field(default=None, compare=False)

    @property
    def module(self) -> str:
        """The import the peer needs."""
        return _MODULES.get(self.library, self.library)

    def is_available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.module) is not None

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.loss}~{self.function}[{opts}]"


_MODULES = {"sklearn": "sklearn", "scikit-learn": "sklearn", "torchvision": "torchvision"}

PEERS: list[Peer] = []


def peer(loss: str, library: str, function: str, make_inputs: Callable[..., Any],
         compute: Callable[..., Any], **fields: Any) -> Peer:
    """Add a row to :data:`PEERS` and return it."""
    row = Peer(loss, library, function, make_inputs, compute, **fields)
    PEERS.append(row)
    return row


def all_peers() -> list[Peer]:
    """Every row of every family (importing the family modules registers them)."""
    from . import peers_classification, peers_regression, peers_structured  # noqa: F401

    return list(PEERS)


def available_peers() -> list[Peer]:
    """The rows whose reference library is installed."""
    return [p for p in all_peers() if p.is_available()]


def check_peer(row: Peer, seed: int = 0) -> float:
    """arrayloss on float64 NumPy inputs against the peer on the same inputs.

    A row without ``difference`` must agree within ``rtol``; a row with ``difference`` must
    still differ (beyond ``rtol``), and its ``recipe``, where given, must turn the peer's
    value into arrayloss's. Returns the relative error (of the recipe, for a pinned
    difference that has one); raises AssertionError otherwise.
    """
    import arrayloss

    from .runner import relative_error

    inputs = row.make_inputs(np.random.default_rng(seed))
    ours = np.asarray(
        arrayloss.get(row.loss)(*inputs, reduction=row.reduction, **row.options),
        dtype=np.float64)
    theirs = np.asarray(_to_numpy(row.compute(*inputs)), dtype=np.float64)
    error = relative_error(ours, theirs)
    if row.difference is None:
        if not error <= row.rtol:
            raise AssertionError(
                f"{row.id}: arrayloss and {row.function} differ by {error:.3g} > {row.rtol:g}"
                f"\narrayloss {ours!r}\n{row.library:9} {theirs!r}")
        return error
    if error <= row.rtol:
        raise AssertionError(
            f"{row.id}: the pinned difference ({row.difference}) is gone: arrayloss and "
            f"{row.function} now agree ({ours!r})")
    if row.recipe is None:
        return 0.0
    recipe = np.asarray(_to_numpy(row.recipe(theirs)), dtype=np.float64)
    error = relative_error(ours, recipe)
    if not error <= row.rtol:
        raise AssertionError(
            f"{row.id}: the recipe for the pinned difference ({row.difference}) does not "
            f"reproduce arrayloss: off by {error:.3g}\narrayloss {ours!r}\nrecipe    {recipe!r}")
    return error


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().double().numpy()
    return np.asarray(x)


# -- converting the float64 NumPy inputs for the peers ----------------------------------------
def keras_module() -> Any:
    """Keras 3 on its JAX backend (set before the first import; a user's choice stands)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def as_torch(x: Any) -> Any:
    """A NumPy input as a torch tensor of the same dtype."""
    import torch

    return torch.asarray(np.asarray(x))


def as_jax(x: Any) -> Any:
    """A NumPy input as a JAX array in JAX's default precision (float32, int32)."""
    import jax.numpy as jnp

    x = np.asarray(x)
    return jnp.asarray(x.astype(np.float32) if x.dtype.kind == "f" else x.astype(np.int32))

