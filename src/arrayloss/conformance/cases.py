"""The declarative table of conformance cases: one row per (loss, options, inputs).

Each family adds its rows in a ``cases_<family>.py`` module with :func:`case`. A row names
the loss, an input generator (float64 NumPy data; integer labels stay integers), the loss's
options, and an independent float64 NumPy reference of the per-sample values (what
``reduction="none"`` returns). The runner derives every reduction, weight and mask check,
every backend and dtype, and the gradient checks from that one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CASES", "Case", "all_cases", "case"]

Inputs = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Case:
    """One conformance row."""

    loss: str
    make_inputs: Callable[[np.random.Generator], Inputs]
    reference: Callable[..., np.ndarray]
    options: dict[str, Any] = field(default_factory=dict)
    label: str = "random"
    # Inputs differentiated in the gradient checks (indices into the inputs); empty, the
    # default, is every float input: targets, variances and embeddings have gradients too
    # (SPEC section 6), not only the prediction.
    grad_inputs: tuple[int, ...] = ()
    # Inputs that are data of the computation dtype (the rest, labels, keep theirs).
    float_inputs: tuple[int, ...] | None = None
    # Whether finite differences are meaningful here (False at kinks and clamps).
    smooth: bool = True
    # Relative tolerance multiplier for inputs that amplify rounding (logits of 1e4...).
    tolerance: float = 1.0
    # Whether the inputs cut to an empty batch make a valid call (checked once per loss).
    empty_batch: bool = True
    # Whether the inputs are representable in float16 / bfloat16 (checked where they are).
    low_precision: bool = True
    # The function under test, when it is not the public loss ``loss`` (used to prove that
    # the suite catches broken losses).
    function: Callable[..., Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.grad_inputs:
            count = len(self.inputs())
            object.__setattr__(self, "grad_inputs", self.float_indices(count))

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.loss}[{self.label}{'|' + opts if opts else ''}]"

    def inputs(self, seed: int = 0) -> Inputs:
        return self.make_inputs(np.random.default_rng(seed))

    def float_indices(self, n: int) -> tuple[int, ...]:
        return tuple(range(n)) if self.float_inputs is None else self.float_inputs


CASES: list[Case] = []


def case(loss: str, make_inputs: Callable[[np.random.Generator], Inputs],
         reference: Callable[..., np.ndarray], **fields: Any) -> Case:
    """Add a row to :data:`CASES` and return it."""
    row = Case(loss, make_inputs, reference, **fields)
    CASES.append(row)
    return row


def all_cases() -> list[Case]:
    """Every row of every family (importing the family modules registers them)."""
    from . import (  # noqa: F401
        cases_classification,
        cases_general_robust,
        cases_lovasz,
        cases_optax_scores,
        cases_pytorch_margins,
        cases_regression,
        cases_structured,
    )

    return list(CASES)
