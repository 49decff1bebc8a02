"""What every module of :mod:`arrayloss.torch` shares: the arrayloss function it calls,
options checked at construction, tensor options as buffers, and a forward outside
``torch.autocast``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import arrayloss

# PyTorch's reductions; the arrayloss-style modules add "weighted_mean".
TORCH_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(owner: str, reduction: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{owner}: reduction must be one of "
                         f"{', '.join(map(repr, allowed))}; got {reduction!r}")
    return reduction


def as_buffer(owner: str, name: str, value: Any) -> torch.Tensor | None:
    """A tensor option (a tensor, a NumPy array or a sequence of numbers) as a floating
    tensor; ``None`` stays ``None`` (a buffer that ``state_dict`` leaves out, as PyTorch's
    own losses do)."""
    if value is None:
        return None
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{owner}: {name} must be a tensor or a sequence of numbers; "
                        f"got {value!r}") from error
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"{owner}: {name} must hold real numbers; got dtype {tensor.dtype}")
    return tensor if tensor.is_floating_point() else tensor.to(torch.get_default_dtype())


class Loss(nn.Module):
    """Base class: ``_loss`` names the arrayloss function; ``_shown`` the options that
    ``repr`` lists."""

    _loss: str
    _reductions: tuple[str, ...] = TORCH_REDUCTIONS
    _shown: tuple[str, ...] = ()

    def __init__(self, reduction: str = "mean", **options: Any) -> None:
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction, self._reductions)
        self.check_options(options)

    @property
    def function(self) -> Any:
        """The arrayloss function this module calls."""
        return arrayloss.get(self._loss)

    def check_options(self, options: dict[str, Any], function: Any = None) -> None:
        """Check option values now, by the function's own rules; the error names the
        module and the option. This also computes the spec's option set once, outside any
        graph: on Python 3.11 its first computation (a ``functools.cached_property``, which
        takes a lock) cannot be traced by ``torch.compile(fullgraph=True)``."""
        try:
            (function or self.function).spec.validate({"reduction": "mean", **options})
        except (TypeError, ValueError) as error:
            raise type(error)(f"{type(self).__name__}: {error}") from error

    def call(self, device: torch.device, *arrays: Any, function: Any = None,
             **options: Any) -> Any:
        """``function(*arrays, **options)`` (default: :attr:`function`) with autocast off.

        PyTorch runs its losses in float32 under autocast, and arrayloss computes float16
        and bfloat16 inputs in float32 itself; autocast would otherwise lower an operation
        inside a loss (a matmul) back to half precision."""
        function = function or self.function
        kind = device.type
        if torch.amp.is_autocast_available(kind) and torch.is_autocast_enabled(kind):
            with torch.autocast(kind, enabled=False):
                return function(*arrays, **options)
        return function(*arrays, **options)

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in ("reduction", *self._shown))
