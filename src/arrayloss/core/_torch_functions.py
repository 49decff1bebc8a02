"""The ``torch.autograd.Function`` of the torch kernels (``native.py``).

Imported only once a torch tensor is passed, so ``import arrayloss`` never imports torch. A
class at module level, because torch.compile cannot trace a class statement: built lazily
inside a compiled call, it would break the graph.
"""

from __future__ import annotations

from typing import Any

import torch  # ok: this module is imported only for torch tensors

__all__ = ["PassThroughClamp"]


class PassThroughClamp(torch.autograd.Function):
    """Clamp to the finite floats forward, the identity backward (``native.finite_logits``)."""

    generate_vmap_rule = True  # element-wise: torch.func.vmap batches it as it is

    @staticmethod
    def forward(x: Any) -> Any:
        largest = torch.finfo(x.dtype).max
        return x.clamp(-largest, largest)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        pass

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> Any:
        (cotangent,) = cotangents
        return cotangent
