"""Which array library, device and dtype a call computes in (SPEC section 3).

Every loss resolves its inputs here once: the namespace comes from the array arguments,
NumPy arrays and Python values beside another library's arrays are converted into that
library on the prediction's device, and every floating input is cast explicitly to one
computation dtype, so no backend's implicit promotion rules ever decide a result.
"""

from __future__ import annotations

import contextlib
import numbers
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import array_api_compat
import numpy as np

__all__ = [
    "Resolved",
    "array_library",
    "device_of",
    "computation_dtype",
    "default_float",
    "default_index",
    "library_name",
    "namespace_name",
    "namespace_of",
    "eager_numpy",
    "numpy_quiet",
    "option_array",
    "resolve",
]


class Resolved(NamedTuple):
    """The namespace, device and computation dtype of one call, with its converted inputs."""

    xp: Any
    device: Any
    dtype: Any
    arrays: tuple[Any, ...]


def library_name(x: Any) -> str:
    """A short, human name of the library that owns ``x`` (for error messages)."""
    checks = (
        (array_api_compat.is_torch_array, "torch"),
        (array_api_compat.is_jax_array, "jax"),
        (array_api_compat.is_dask_array, "dask"),
        (array_api_compat.is_cupy_array, "cupy"),
        (array_api_compat.is_numpy_array, "numpy"),
    )
    for check, name in checks:
        if check(x):
            return name
    module = type(x).__module__.split(".")[0]
    return module or type(x).__name__


# The namespaces array_api_compat returns, by module name. A dictionary lookup, where
# array_api_compat's is_*_namespace are lru-cached functions that torch.compile warns about.
_NAMESPACE_NAMES = {
    "array_api_compat.numpy": "numpy",
    "numpy": "numpy",
    "array_api_compat.torch": "torch",
    "jax.numpy": "jax",
    "array_api_compat.dask.array": "dask",
    "array_api_compat.cupy": "cupy",
    "cupy": "cupy",
    "array_api_strict": "array_api_strict",
}


def namespace_name(xp: Any) -> str:
    """The library of the array namespace ``xp`` (``"numpy"``, ``"torch"``, ``"jax"``,
    ``"dask"``, ``"cupy"``, ``"array_api_strict"``), or its module name for any other."""
    name = getattr(xp, "__name__", "")
    return _NAMESPACE_NAMES.get(name, name)


def _is_adoptable(x: Any) -> bool:
    """Python numbers, sequences and NumPy data take the library of the other arguments."""
    return (
        isinstance(x, (numbers.Number, np.generic))
        or (isinstance(x, Sequence) and not isinstance(x, (str, bytes)))
        or array_api_compat.is_numpy_array(x)
    )


# What a type of argument is, decided once per type (the checks go through abstract base
# classes and array-api-compat's probes, which cost microseconds per call): ADOPT for data
# that takes the other arguments' library, a library name for arrays, None for neither.
ADOPT = "adopt"
_KIND_OF_TYPE: dict[type, str | None] = {}
_NAMESPACE_OF_TYPE: dict[type, Any] = {}
_COMPUTATION_DTYPE: dict[tuple[int, Any], Any] = {}


def _kind(value: Any) -> str | None:
    kind_of = type(value)
    try:
        return _KIND_OF_TYPE[kind_of]
    except KeyError:
        pass
    if _torch_namespace_of(value) is not None:
        kind = "torch"
    elif _is_adoptable(value):
        kind = ADOPT
    elif array_api_compat.is_array_api_obj(value):
        kind = library_name(value)
    else:
        kind = None
    _KIND_OF_TYPE[kind_of] = kind
    return kind


def array_library(x: Any) -> str | None:
    """The library of the array ``x`` (``library_name``), decided once per type; ``None``
    for Python numbers and sequences."""
    kind = _kind(x)
    return None if kind == ADOPT else kind


def device_of(x: Any) -> Any:
    """``array_api_compat.device(x)``; for a PyTorch tensor its ``.device`` directly, which
    keeps array-api-compat's lru-cached probes off torch.compile's traced path."""
    return x.device if array_library(x) == "torch" else array_api_compat.device(x)


def namespace_of(anchor: Any) -> Any:
    """``array_api_compat.array_namespace(anchor)`` of one array, decided once per type.

    A dictionary lookup on the hot path; array-api-compat's own probes are lru-cached
    functions, which torch.compile warns about whenever it traces one.
    """
    kind_of = type(anchor)
    xp = _NAMESPACE_OF_TYPE.get(kind_of)
    if xp is None:
        xp = _torch_namespace_of(anchor)
        if xp is None:
            xp = array_api_compat.array_namespace(anchor)
        _NAMESPACE_OF_TYPE[kind_of] = xp
    return xp



def _torch_namespace_of(value: Any) -> Any:
    """array-api-compat's PyTorch namespace if ``value`` is a tensor, else ``None``: an
    ``isinstance`` that torch.compile traces without a warning, where array-api-compat's
    probes are lru-cached functions. PyTorch is only looked up, never imported."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):  # ok: only looked up, not imported
        return None
    import array_api_compat.torch as torch_namespace  # ok: value is already a torch tensor

    return torch_namespace


def resolve(
    named: Sequence[tuple[str, Any]], *, reference: str, keep_dtype: Sequence[str] = ()
) -> Resolved:
    """Resolve the namespace of ``named`` (pairs of argument name and value).

    ``reference`` names the prediction argument whose library, device and dtype win.
    ``None`` values pass through. Arguments named in ``keep_dtype`` (labels, masks) keep
    their dtype; every other array argument is cast to the computation dtype.
    """
    same = _one_array_type(named, reference)
    if same is not None:  # the common call: nothing to adopt, nothing to compare
        xp, reference_array, library = same
        device = (reference_array.device if library == "torch"
                  else array_api_compat.device(reference_array))
        return _computation_arrays(xp, device, named, dict(named), reference, keep_dtype)
    owners: dict[str, tuple[Any, Any]] = {}  # library name -> (namespace, first array)
    order = sorted(named, key=lambda item: item[0] != reference)  # the reference first
    adopted = False
    for arg_name, value in order:
        if value is None:
            continue
        kind = _kind(value)
        if kind == ADOPT:
            adopted = True
            continue
        if kind is None:
            raise TypeError(
                f"{arg_name} must be an array, a NumPy array or a Python number; "
                f"got an object of type {type(value).__name__}"
            )
        owners.setdefault(kind, (arg_name, value))
    if len(owners) > 1:
        described = " and ".join(
            f"{arg_name} is a {lib} array" for lib, (arg_name, _) in owners.items()
        )
        raise TypeError(
            f"arrayloss needs every array argument from one library; {described}. "
            "Only NumPy arrays and Python numbers are converted to the other library."
        )
    if owners:
        ((kind, (_, anchor)),) = owners.items()
        xp = namespace_of(anchor)
        # A torch tensor's device is its attribute; array-api-compat's general lookup
        # probes every library first.
        device = anchor.device if kind == "torch" else array_api_compat.device(anchor)
    else:
        xp = namespace_of(np.empty(0))
        device = None

    converted = dict(named)
    if adopted:
        into_numpy = namespace_name(xp) == "numpy"
        for arg_name, value in named:
            if value is not None and _kind(value) == ADOPT:
                if not into_numpy and array_api_compat.is_numpy_array(value):
                    # Other libraries cannot adopt every NumPy memory layout (torch refuses
                    # negative strides, as in ``x[::-1]``): a C-contiguous copy where needed.
                    value = np.ascontiguousarray(value)
                converted[arg_name] = xp.asarray(value, device=device)
    return _computation_arrays(xp, device, named, converted, reference, keep_dtype)


def _one_array_type(named: Sequence[tuple[str, Any]], reference: str
                    ) -> tuple[Any, Any, str] | None:
    """``(namespace, reference array, library)`` where every argument given is an array of
    one type whose library and namespace are already known (the common call, decided by
    one ``type`` per argument); ``None`` otherwise, for the general rules of
    :func:`resolve`."""
    array_type = anchor = None
    for arg_name, value in named:
        if value is None:
            continue
        if array_type is None:
            array_type = type(value)
        elif type(value) is not array_type:
            return None
        if arg_name == reference:
            anchor = value
    kind = _KIND_OF_TYPE.get(array_type)  # type: ignore[arg-type]
    xp = _NAMESPACE_OF_TYPE.get(array_type)  # type: ignore[arg-type]
    if anchor is None or kind is None or kind == ADOPT or xp is None:
        return None
    return xp, anchor, kind


def _computation_arrays(xp: Any, device: Any, named: Sequence[tuple[str, Any]],
                        converted: dict[str, Any], reference: str,
                        keep_dtype: Sequence[str]) -> Resolved:
    """Every argument in the computation dtype, but those named in ``keep_dtype``."""
    dtype = _computation_dtype_cached(xp, converted[reference], device, reference)
    arrays = []
    for arg_name, value in named:
        value = converted[arg_name]
        if value is not None and arg_name not in keep_dtype and value.dtype != dtype:
            value = cast(xp, value, dtype, name=arg_name)
        arrays.append(value)
    return Resolved(xp, device, dtype, tuple(arrays))


def _computation_dtype_cached(xp: Any, x: Any, device: Any, name: str) -> Any:
    # The rule depends on the namespace and the dtype only (and, for integer inputs, the
    # device's default float); a float dtype's answer is remembered.
    key = (id(xp), x.dtype)
    try:
        return _COMPUTATION_DTYPE[key]
    except (KeyError, TypeError):
        pass
    dtype = computation_dtype(xp, x, device, name=name)
    if xp.isdtype(x.dtype, "real floating"):
        try:
            _COMPUTATION_DTYPE[key] = dtype
        except TypeError:  # an unhashable dtype: nothing remembered
            pass
    return dtype


def eager_numpy(x: Any) -> bool:
    """Whether ``x`` is a NumPy array (or scalar), whose values a primitive may read on the
    host at the cost of one pass, to skip a ``where`` that would change nothing. Traced,
    lazy and device arrays are never read: their primitives run as written."""
    return isinstance(x, (np.ndarray, np.generic))


def numpy_quiet(xp: Any) -> contextlib.AbstractContextManager[Any]:
    """NumPy's floating-point warnings off for one loss evaluation on NumPy.

    ``where`` evaluates both branches, so NumPy warns about the ``log 0`` or ``0·inf`` of a
    branch that is never selected; and where a result is NaN or inf, that value is the
    contract's (SPEC section 6: NaN in, NaN out; the log of 0 is floored), not an accident
    to warn about. Other libraries do not warn, so results and warnings agree everywhere.
    """
    if namespace_name(xp) == "numpy":
        return np.errstate(all="ignore")
    return contextlib.nullcontext()


def cast(xp: Any, x: Any, dtype: Any, *, name: str) -> Any:
    """Cast ``x`` to ``dtype`` explicitly; complex values are refused, never truncated."""
    if xp.isdtype(x.dtype, "complex floating"):
        raise TypeError(f"{name} must be real; got an array of dtype {x.dtype}")
    return x if x.dtype == dtype else xp.astype(x, dtype)


def computation_dtype(xp: Any, x: Any, device: Any, *, name: str = "y_pred") -> Any:
    """The dtype a loss computes in, given its prediction ``x``.

    Real floating dtypes are kept, except 16-bit ones (float16, bfloat16), which are
    computed in float32 as PyTorch autocast does for losses; integer and bool predictions
    use the namespace's default floating dtype; complex is a TypeError.
    """
    dtype = x.dtype
    if xp.isdtype(dtype, "complex floating"):
        raise TypeError(f"{name} must be real; got an array of dtype {dtype}")
    if xp.isdtype(dtype, "real floating"):
        return xp.float32 if xp.finfo(dtype).bits < 32 else dtype
    if xp.isdtype(dtype, ("integral", "bool")):
        return default_float(xp, device)
    raise TypeError(f"{name} must have a real numeric dtype; got {dtype}")


_DEFAULT_DTYPES: dict[tuple[int, Any], dict[str, Any]] = {}


def _default_dtypes(xp: Any, device: Any) -> dict[str, Any]:
    # Asked on every call of the sparse losses: remembered per namespace and device.
    key = (id(xp), device)
    try:
        return _DEFAULT_DTYPES[key]
    except (KeyError, TypeError):
        pass
    defaults = xp.__array_namespace_info__().default_dtypes(device=device)
    if namespace_name(xp) == "jax":
        return defaults  # JAX's defaults follow its jax_enable_x64 flag, which can change
    try:
        _DEFAULT_DTYPES[key] = defaults
    except TypeError:  # an unhashable device: asked again next time
        pass
    return defaults


def default_float(xp: Any, device: Any) -> Any:
    """The namespace's default real floating dtype (float32 on torch, float64 on NumPy)."""
    return _default_dtypes(xp, device)["real floating"]


def default_index(xp: Any, device: Any) -> Any:
    """The namespace's default indexing dtype (int64 on torch, which gathers only with it)."""
    return _default_dtypes(xp, device)["indexing"]


def option_array(xp: Any, value: Any, like: Any, *, name: str) -> Any:
    """A Python number, sequence, NumPy array or array of ``like``'s library given as an
    option (``pos_weight``, ``class_weight``), as an array of ``like``'s dtype and device."""
    device = device_of(like)
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or an array of numbers; got {value!r}")
    if isinstance(value, (numbers.Real, list, tuple)):
        # Straight into the namespace (no NumPy detour, which torch.compile cannot trace).
        if not all(_is_real(v) for v in _flat(value)):
            raise TypeError(f"{name} must hold real numbers; got {value!r}")
        return xp.asarray(value, dtype=like.dtype, device=device)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise TypeError(f"{name} must hold real numbers; got {value!r}")
        return xp.asarray(array.astype(np.float64), dtype=like.dtype, device=device)
    if not array_api_compat.is_array_api_obj(value):
        raise TypeError(
            f"{name} must be a number or an array of numbers; got an object of type "
            f"{type(value).__name__}"
        )
    if library_name(value) != library_name(like):
        raise TypeError(
            f"{name} is a {library_name(value)} array while the predictions are a "
            f"{library_name(like)} array; pass a NumPy array, a list or a "
            f"{library_name(like)} array"
        )
    other: Any = value  # any library's array (the check above narrows too far)
    if xp.isdtype(other.dtype, "complex floating"):
        raise TypeError(f"{name} must be real; got dtype {other.dtype}")
    return xp.astype(other, like.dtype)


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
