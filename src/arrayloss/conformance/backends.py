"""The backend variants every loss is checked on, each behind one small adapter.

A variant knows how to make its arrays from NumPy data, how to call a function the way its
users do (under ``jax.jit``; on Dask with ``compute()`` forbidden; on a non-default
device), how to bring a result back to NumPy, and which library, device and dtype the
result must have. Frameworks are imported only when a variant is used.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BACKENDS", "Backend", "available_backends", "backend", "check_requested",
           "dtype_name"]

STRICT_API_VERSION = "2024.12"


def dtype_name(x: Any) -> str:
    """``"float32"`` for a float32 array of any library."""
    return str(x.dtype).rsplit(".", 1)[-1].replace("dtype('", "").rstrip("')")


@dataclass(frozen=True)
class Backend:
    """One backend variant (a library, possibly with a device or a transformation)."""

    name: str
    module: str  # the import that must succeed for the variant to exist
    autodiff: str | None = None  # "torch" or "jax" where the library differentiates
    half_dtypes: tuple[str, ...] = ()
    _extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -- availability -------------------------------------------------------------
    def is_available(self) -> bool:
        return self.unavailable() is None

    def unavailable(self) -> str | None:
        """Why the variant cannot run here (``None`` where it can)."""
        if importlib.util.find_spec(self.module) is None:
            return f"not installed (its library {self.module} cannot be imported)"
        if self.name.startswith("torch_cuda"):
            import torch

            if not torch.cuda.is_available():
                return "not available (torch is installed but sees no CUDA device)"
        if self.name == "cupy":
            try:
                import cupy  # type: ignore[import-not-found]

                if cupy.cuda.runtime.getDeviceCount() > 0:
                    return None
            except Exception:  # CuPy installed without a usable GPU or driver
                pass
            return "not available (cupy is installed but sees no usable GPU)"
        return None

    # -- arrays ---------------------------------------------------------------------
    def namespace(self) -> Any:
        import array_api_compat

        return array_api_compat.array_namespace(self.asarray(np.zeros(1)))

    def asarray(self, value: Any, dtype: str | None = None) -> Any:
        """``value`` (NumPy data) as this variant's array, with the dtype named by ``dtype``
        (default: ``value``'s own)."""
        value = np.asarray(value)
        return self._asarray(value, value.dtype.name if dtype is None else dtype)

    def _asarray(self, value: np.ndarray, dtype: str) -> Any:
        if self.name.startswith("numpy"):
            return value.astype(dtype)
        if self.name.startswith("array_api_strict"):
            import array_api_strict as xp

            self._configure_strict()
            device = xp.Device("device1") if self.name.endswith("device1") else None
            return xp.asarray(value.astype(_numpy_dtype(dtype)), dtype=getattr(xp, dtype),
                              device=device)
        if self.name.startswith("torch"):
            import torch

            torch_device = {"torch": "cpu", "torch_formula": "cpu", "torch_meta": "meta",
                            "torch_cuda": "cuda"}[self.name]
            return torch.asarray(value.astype(_numpy_dtype(dtype)), dtype=getattr(torch, dtype),
                                 device=torch_device)
        if self.name.startswith("jax"):
            import jax
            import jax.numpy as jnp

            jax.config.update("jax_enable_x64", True)
            return jnp.asarray(value.astype(_numpy_dtype(dtype)), dtype=getattr(jnp, dtype))
        if self.name == "cupy":
            import cupy  # type: ignore[import-not-found]

            return cupy.asarray(value.astype(dtype))
        if self.name == "dask":
            import dask.array as da

            chunks: Any = tuple(max(1, (s + 1) // 2) for s in value.shape)  # several chunks
            return da.from_array(value.astype(dtype), chunks=chunks)
        raise AssertionError(self.name)

    def to_numpy(self, x: Any) -> np.ndarray:
        """A result as a float64 NumPy array (Dask is computed here, by the caller)."""
        if self.name.startswith("torch"):
            x = x.detach().cpu()
            if x.dtype.is_floating_point:
                x = x.double()
            return x.numpy()
        if self.name.startswith("array_api_strict"):
            import array_api_strict as xp

            return np.from_dlpack(x.to_device(xp.Device("CPU_DEVICE")))
        if self.name == "dask":
            return np.asarray(x.compute(scheduler="sync"))
        if self.name == "cupy":
            import cupy  # type: ignore[import-not-found]

            return cupy.asnumpy(x)
        return np.asarray(x)

    def to_numpy_many(self, xs: list[Any]) -> list[np.ndarray]:
        """Several results as NumPy arrays; a Dask backend computes them in one pass."""
        if self.name == "dask":
            from dask.base import compute

            return [np.asarray(x) for x in compute(*xs, scheduler="sync")]
        return [self.to_numpy(x) for x in xs]

    def rounded(self, value: Any, dtype: str) -> np.ndarray:
        """``value`` rounded to ``dtype`` and back to float64: the numbers this backend
        computes with, obtained without a round trip through the backend where NumPy can
        round the same way (IEEE round-to-nearest-even in every library)."""
        value = np.asarray(value, dtype=np.float64)
        if dtype in ("float64", "float32", "float16"):
            return value.astype(dtype).astype(np.float64)
        return self.to_numpy(self.asarray(value, dtype)).astype(np.float64)

    def check_result(self, x: Any, dtype: str) -> None:
        """Raise AssertionError unless ``x`` is this variant's array, on its device, of
        ``dtype``."""
        import array_api_compat

        expected_type = self.asarray(np.zeros(1))
        if type(x) is not type(expected_type) and not (
            self.name.startswith("jax") and array_api_compat.is_jax_array(x)
        ):
            raise AssertionError(
                f"{self.name}: result is a {type(x).__module__}.{type(x).__name__}, "
                f"expected a {type(expected_type).__name__}"
            )
        if str(array_api_compat.device(x)) != str(array_api_compat.device(expected_type)):
            raise AssertionError(
                f"{self.name}: result on {array_api_compat.device(x)}, expected "
                f"{array_api_compat.device(expected_type)}"
            )
        if dtype_name(x) != dtype:
            raise AssertionError(f"{self.name}: result dtype {x.dtype}, expected {dtype}")

    # -- calling --------------------------------------------------------------------
    def call_many(self, fn: Callable[..., Any] | None,
                  calls: list[tuple[Any, ...]]) -> list[Any]:
        """``[fn(*args, **kwargs) for args, kwargs in calls]`` as this variant's users would
        call it (with ``fn=None``, each call is ``(fn, args, kwargs)``); under ``jax_jit``
        all calls are traced into one compiled function (one compilation instead of one per
        call)."""
        leaves = [(fn, list(c[0]), dict(c[1])) if fn is not None else
                  (c[0], list(c[1]), dict(c[2])) for c in calls]
        if self.name != "jax_jit":
            return [self.call(f, *args, **kwargs) for f, args, kwargs in leaves]
        import jax

        def is_array(v: Any) -> bool:
            return isinstance(v, jax.Array)

        arrays = [[a for a in args if is_array(a)] + [v for v in kw.values() if is_array(v)]
                  for _, args, kw in leaves]

        def traced(all_arrays: list[list[Any]]) -> list[Any]:
            results = []
            for (f, args, kw), given in zip(leaves, all_arrays, strict=True):
                it = iter(given)
                args = [next(it) if is_array(a) else a for a in args]
                kw = {k: next(it) if is_array(v) else v for k, v in kw.items()}
                results.append(f(*args, **kw))
            return results

        return list(jax.jit(traced)(arrays))

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` as this variant's users would."""
        if self.name == "jax_jit":
            import jax

            def is_array(v: Any) -> bool:
                return isinstance(v, jax.Array)

            array_kwargs = {k: v for k, v in kwargs.items() if is_array(v)}
            static_kwargs = {k: v for k, v in kwargs.items() if not is_array(v)}
            array_args = [a if is_array(a) else None for a in args]
            static_args = [None if is_array(a) else a for a in args]

            def traced(array_args: list[Any], array_kwargs: dict[str, Any]) -> Any:
                merged = [a if s is None else s for a, s in zip(array_args, static_args,
                                                                  strict=True)]
                return fn(*merged, **array_kwargs, **static_kwargs)

            return jax.jit(traced)(array_args, array_kwargs)
        if self.name == "dask":
            with forbid_dask_compute():
                return fn(*args, **kwargs)
        if self.name == "torch_formula":
            import arrayloss

            with arrayloss.native_kernels(False):
                return fn(*args, **kwargs)
        if self.name.startswith("array_api_strict"):
            self._configure_strict()
        return fn(*args, **kwargs)

    def _configure_strict(self) -> None:
        import array_api_strict

        strictest = self.name == "array_api_strict_strictest"
        array_api_strict.set_array_api_strict_flags(
            api_version=STRICT_API_VERSION,
            boolean_indexing=not strictest,
            data_dependent_shapes=not strictest,
        )


def _numpy_dtype(name: str) -> Any:
    # bfloat16 has no NumPy dtype: build it from float32 data in the target library.
    return np.float32 if name == "bfloat16" else name


@contextlib.contextmanager
def forbid_dask_compute() -> Iterator[None]:
    """Within this block, any ``compute()`` of a Dask graph raises AssertionError."""
    import dask.config

    def scheduler(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the loss called compute() on a Dask array; it must stay lazy")

    with dask.config.set(scheduler=scheduler):
        yield


BACKENDS: tuple[Backend, ...] = (
    Backend("numpy", "numpy", half_dtypes=("float16",)),
    Backend("array_api_strict", "array_api_strict"),
    Backend("array_api_strict_strictest", "array_api_strict"),
    Backend("array_api_strict_device1", "array_api_strict"),
    Backend("torch", "torch", autodiff="torch", half_dtypes=("float16", "bfloat16")),
    # torch with the native kernels off: the array-API formula, checked beside the kernels.
    Backend("torch_formula", "torch", autodiff="torch", half_dtypes=("float16", "bfloat16")),
    Backend("torch_cuda", "torch", autodiff="torch", half_dtypes=("float16", "bfloat16")),
    Backend("jax", "jax", autodiff="jax", half_dtypes=("float16", "bfloat16")),
    Backend("jax_jit", "jax", autodiff="jax", half_dtypes=("float16", "bfloat16")),
    Backend("dask", "dask"),
    Backend("cupy", "cupy", half_dtypes=("float16",)),
)
"""Every variant; ``torch_meta`` (values do not exist there) is :data:`META`."""

META = Backend("torch_meta", "torch")


def backend(name: str) -> Backend:
    for b in (*BACKENDS, META):
        if b.name == name:
            return b
    raise ValueError(f"unknown backend {name!r}; known: {[b.name for b in BACKENDS]}")


def available_backends() -> tuple[Backend, ...]:
    """The variants whose library is installed (``torch_cuda`` only with a GPU)."""
    return tuple(b for b in BACKENDS if b.is_available())


def check_requested(names: Iterable[str]) -> None:
    """Raise ValueError unless every name (a library: ``jax``; or a variant: ``jax_jit``)
    is known and has a variant that can run here; the message names each requested backend
    that is unknown or unavailable and why, and lists the available ones."""
    libraries = list(dict.fromkeys(b.module for b in BACKENDS))
    variants = [b.name for b in BACKENDS]
    problems = []
    for name in dict.fromkeys(names):
        if name not in variants and name not in libraries:
            problems.append(f"--backend {name}: unknown backend, not known to the check; "
                            f"known: {', '.join(dict.fromkeys([*libraries, *variants]))}")
            continue
        mine = [b for b in BACKENDS if b.name == name] if name in variants else [
            b for b in BACKENDS if b.module == name]
        reasons = list(dict.fromkeys(b.unavailable() for b in mine))
        if None not in reasons:  # not one variant of it can run here
            problems.append(f"--backend {name}: the requested backend is "
                            f"{'; '.join(r for r in reasons if r)}")
    if problems:
        present = [b.name for b in available_backends()]
        raise ValueError("; ".join(problems) + f"; available: {', '.join(present) or 'none'}")
