"""The mapping table from arrayloss calls to the same loss in a reference library.

Each :class:`Peer` row says how to compute one arrayloss call in Keras 3, PyTorch, optax,
scikit-learn or statsmodels: the loss's options, the reduction, the input generator, and a
function that runs the peer on the same float64 NumPy inputs (in the peer's own argument
order) and returns its value as NumPy. Rows with ``difference`` set pin a deliberate
difference: the check asserts the two still differ, and the text says why.

A row is available where every import it needs succeeds (its library's, the package of its
function, and ``needs``) and, for a row about some versions of the peer only, where the
installed version is one of them (``requires``); otherwise the row is reported absent,
never failed.

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
    library: str  # "keras", "torch", "optax", "sklearn", "statsmodels", "monai", "kornia"
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
    # Imports the row needs beyond its library's and its function's package.
    needs: tuple[str, ...] = ()
    # For a row that holds in some versions of the peer only: called when the row is about
    # to run, returns None where the installed version is one of them, else the version
    # the row needs ("keras with ..."), and the row is reported absent.
    requires: Callable[[], str | None] | None = field(default=None, compare=False)

    @property
    def modules(self) -> tuple[str, ...]:
        """Every import the row needs, the ones others build on first."""
        own = _MODULES.get(self.library, (self.library,))
        package = self.function.split(".")[0].split("(")[0]
        return tuple(dict.fromkeys([*own, *_MODULES.get(package, (package,)), *self.needs]))

    def missing(self) -> str | None:
        """What the row needs that is not installed (the first import that fails, or the
        version ``requires`` names); None where the row can run."""
        for name in self.modules:
            if not _importable(name):
                return name
        return self.requires() if self.requires is not None else None

    @property
    def module(self) -> str:
        """The import the peer needs; for a row that cannot run here, what is missing."""
        return self.missing() or _MODULES.get(self.library, (self.library,))[-1]

    def is_available(self) -> bool:
        return self.missing() is None

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.loss}~{self.function}[{opts}]"


# The imports of each library, the ones it builds on first (Keras and optax get their
# inputs as JAX arrays; MONAI, pytorch-metric-learning and kornia as torch tensors).
_MODULES = {"keras": ("jax", "keras"), "optax": ("jax", "optax"), "sklearn": ("sklearn",),
            "scikit-learn": ("sklearn",), "monai": ("torch", "monai"),
            "pytorch_metric_learning": ("torch", "pytorch_metric_learning"),
            "kornia": ("torch", "kornia")}


def _importable(name: str) -> bool:
    """Whether ``import name`` succeeds: any ImportError (not installed, or installed with
    a dependency missing) makes the rows that need it absent. Another error is left to the
    row's check, which reports it as failed. Keras is imported on its JAX backend
    (:func:`keras_module`)."""
    import importlib

    try:
        keras_module() if name == "keras" else importlib.import_module(name)
    except ImportError:
        return False
    except Exception:  # installed but broken otherwise: the row's check runs and says how
        pass
    return True


PEERS: list[Peer] = []


def peer(loss: str, library: str, function: str, make_inputs: Callable[..., Any],
         compute: Callable[..., Any], **fields: Any) -> Peer:
    """Add a row to :data:`PEERS` and return it."""
    row = Peer(loss, library, function, make_inputs, compute, **fields)
    PEERS.append(row)
    return row


def all_peers() -> list[Peer]:
    """Every row of every family (importing the family modules registers them)."""
    from . import (  # noqa: F401
        peers_classification,
        peers_keras_only,
        peers_optax_scores,
        peers_regression,
        peers_structured,
    )

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

