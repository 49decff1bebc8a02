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

__all__ = ["PEERS", "Peer", "all_peers", "peer"]


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

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.loss}~{self.function}[{opts}]"


PEERS: list[Peer] = []


def peer(loss: str, library: str, function: str, make_inputs: Callable[..., Any],
         compute: Callable[..., Any], **fields: Any) -> Peer:
    """Add a row to :data:`PEERS` and return it."""
    row = Peer(loss, library, function, make_inputs, compute, **fields)
    PEERS.append(row)
    return row


def all_peers() -> list[Peer]:
    """Every row of every family (importing the family modules registers them)."""
    import importlib

    for family in ("peers_regression", "peers_classification", "peers_structured"):
        try:
            importlib.import_module(f"{__package__}.{family}")
        except ModuleNotFoundError as error:  # a family whose rows are not written yet
            if error.name != f"{__package__}.{family}":
                raise
    return list(PEERS)
