"""What differs between NumPy, PyTorch and JAX in the tutorial: mostly, the gradients.

Everything else (the network, the loss, the update, the metric, the loop) is the same
code, run on each library's arrays. A backend supplies:

- ``asarray``: NumPy data as the library's arrays (float32 stays float32);
- ``value_and_grad(objective)``: a function ``(params, x, y, keep) -> (loss, grads)``:
  PyTorch by autograd, JAX by ``jax.value_and_grad``, NumPy by backpropagation written by
  hand from ``arrayloss.gradient`` (the loss's gradient with respect to the prediction);
- ``compile(fn)``: ``jax.jit`` for JAX (the whole epoch is compiled once), nothing
  elsewhere; ``loop(step, state, *rows)``: a Python loop, or ``jax.lax.scan`` for JAX.

Frameworks are imported only when their backend is used.
"""

from __future__ import annotations

import abc
import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import model

__all__ = ["BACKENDS", "Backend", "Objective", "get_backend", "installed"]

# (params, x, y, keep) -> (loss, grads): `keep` is the batch's mask of real rows.
ValueAndGrad = Callable[[dict, Any, Any, Any], tuple[Any, dict]]


@dataclass(frozen=True)
class Objective:
    """The training loss as a function of the parameters: ``loss(y, network(params, x))``."""

    loss: Callable[..., Any]
    output: str

    def __call__(self, params: model.Params, x: Any, y: Any, keep: Any = None) -> Any:
        return self.loss(y, model.forward(params, x, self.output), mask=keep)


class Backend(abc.ABC):
    """A library the tutorial trains on (see the module docstring)."""

    name = ""
    module = ""

    def is_available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    @abc.abstractmethod
    def asarray(self, value: np.ndarray) -> Any:
        """``value`` (NumPy data) as this library's array."""

    @abc.abstractmethod
    def value_and_grad(self, objective: Objective) -> ValueAndGrad:
        """The function ``(params, x, y, keep) -> (loss, grads)`` of ``objective``."""

    def compile(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn

    def loop(self, step: Callable[..., Any], state: Any, *rows: Any) -> Any:
        """``state = step(state, *row)`` for each row (along the first axis) of ``rows``."""
        for row in zip(*rows, strict=True):
            state = step(state, *row)
        return state

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """A context for training (the library's settings for tiny matrices)."""
        yield

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(value)

    def __repr__(self) -> str:
        return f"<tutorial backend {self.name}>"


class NumpyBackend(Backend):
    """NumPy: no autodiff, so the network's backward pass is written out (model.backward)."""

    name = module = "numpy"

    def asarray(self, value: np.ndarray) -> Any:
        return np.asarray(value)

    def value_and_grad(self, objective: Objective) -> ValueAndGrad:
        import arrayloss

        if not hasattr(arrayloss, "gradient"):
            raise RuntimeError("the numpy backend needs arrayloss.gradient, which this "
                               "version of arrayloss does not have")

        def value_and_grad(params, x, y, keep=None):
            pre, hidden, y_pred = model.layers(params, x, objective.output)
            value = objective.loss(y, y_pred, mask=keep)
            grad_y_pred = arrayloss.gradient(objective.loss, y, y_pred, mask=keep)
            grads = model.backward(params, x, objective.output, pre, hidden, y_pred,
                                   grad_y_pred)
            return value, grads

        return value_and_grad


class TorchBackend(Backend):
    """PyTorch: reverse-mode autograd (``torch.autograd.grad``) on CPU float32 tensors."""

    name = module = "torch"

    def asarray(self, value: np.ndarray) -> Any:
        import torch  # ok: the tutorial's torch backend, imported only when chosen

        return torch.from_numpy(np.ascontiguousarray(value))

    def value_and_grad(self, objective: Objective) -> ValueAndGrad:
        import torch

        def value_and_grad(params, x, y, keep=None):
            # Fresh leaves that record the graph; the update itself is done on plain
            # tensors, so no graph outlives a step.
            leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
            value = objective(leaves, x, y, keep)
            grads = torch.autograd.grad(value, list(leaves.values()))
            return value.detach(), dict(zip(leaves, grads, strict=True))

        return value_and_grad

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.detach().cpu().numpy()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        # The matrices here are tiny (at most 500×50): splitting them over threads costs
        # more in synchronization than it saves, by an order of magnitude on a busy
        # 2-core machine. One intra-op thread while training; the caller's setting after.
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


class JaxBackend(Backend):
    """JAX: ``jax.value_and_grad``, and the whole train step under ``jax.jit``."""

    name = module = "jax"

    def asarray(self, value: np.ndarray) -> Any:
        import jax.numpy as jnp

        # Integer labels become JAX's default integer (int32 unless x64 is enabled).
        return jnp.asarray(value)

    def value_and_grad(self, objective: Objective) -> ValueAndGrad:
        import jax

        return jax.value_and_grad(objective)

    def compile(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        import jax

        return jax.jit(fn)

    def loop(self, step: Callable[..., Any], state: Any, *rows: Any) -> Any:
        # The same loop as a `lax.scan`: under jit, a Python loop would be unrolled into
        # one copy of the step per batch, and compiling 16 copies takes many seconds.
        import jax

        return jax.lax.scan(lambda s, row: (step(s, *row), None), state, rows)[0]


BACKENDS: dict[str, Backend] = {b.name: b for b in (NumpyBackend(), TorchBackend(),
                                                     JaxBackend())}


def installed() -> list[str]:
    """The names of the backends whose library is installed, in the order numpy, torch, jax."""
    return [name for name, b in BACKENDS.items() if b.is_available()]


def get_backend(name: str) -> Backend:
    """The backend called ``name``; a clear error if it is unknown or not installed."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    backend = BACKENDS[name]
    if not backend.is_available():
        raise ImportError(f"the {name} backend needs the {backend.module} package, which is "
                          f"not installed; install it with: pip install 'arrayloss[{name}]'")
    return backend
