"""Names of the public losses: ``arrayloss.get`` and ``arrayloss.available`` (SPEC section 1).

A name is an arrayloss name (canonical or alias) or one of the Keras, PyTorch and optax
names of :mod:`.framework_names`, which resolve to a loss with the options they imply;
every lookup ignores case.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import framework_names

__all__ = ["LossEntry", "available", "entries", "get", "register"]


@dataclass(frozen=True)
class LossEntry:
    """One public loss: its canonical name, family, aliases and function."""

    name: str
    family: str
    aliases: tuple[str, ...]
    function: Callable[..., Any]


_ENTRIES: dict[str, LossEntry] = {}
_LOOKUP: dict[str, str] = {}  # lower-case canonical name or alias -> canonical name


def register(
    name: str, *, family: str, aliases: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make ``function`` reachable as ``arrayloss.get(name)`` and by each alias."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for key in (name, *aliases):
            if key.lower() in _LOOKUP:
                raise RuntimeError(f"the loss name {key!r} is registered twice")
            if key.lower() in framework_names.keys():
                raise RuntimeError(
                    f"the loss name {key!r} is also a framework name (framework_names.py)")
            _LOOKUP[key.lower()] = name
        _ENTRIES[name] = LossEntry(name, family, tuple(aliases), function)
        return function

    return decorate


def entries(family: str | None = None) -> tuple[LossEntry, ...]:
    """Every registered loss (of ``family`` if given), in registration order."""
    return tuple(e for e in _ENTRIES.values() if family is None or e.family == family)


def available(family: str | None = None) -> list[str]:
    """The canonical names of the public losses, optionally of one family.

    >>> import arrayloss
    >>> "mean_squared_error" in arrayloss.available("regression")
    True
    """
    families = {e.family for e in _ENTRIES.values()}
    if family is not None and family not in families:
        raise ValueError(f"family must be one of {sorted(families)}; got {family!r}")
    return [e.name for e in entries(family)]


def get(identifier: str | Callable[..., Any], /, **options: Any) -> Callable[..., Any]:
    """The loss named ``identifier`` (canonical name, alias, or a Keras, PyTorch or optax
    name; any case), or a callable.

    With ``options``, the loss is returned with those options bound; an option the loss
    does not take is a TypeError at once, not at the first call. A framework name binds
    the options it implies, which the caller's ``options`` override. A framework name
    whose meaning arrayloss does not reproduce exactly is a ValueError that says which
    arrayloss call gives it.

    >>> import arrayloss
    >>> arrayloss.get("MSE") is arrayloss.mean_squared_error
    True
    >>> huber_2 = arrayloss.get("huber", delta=2.0)
    >>> float(huber_2([0.0], [3.0]))
    4.0
    >>> bce_logits = arrayloss.get("BCEWithLogitsLoss")
    >>> bce_logits.keywords
    {'from_logits': True}
    """
    if callable(identifier):
        function = identifier
    elif isinstance(identifier, str):
        function, implied = _resolve(identifier)
        options = {**implied, **options}
    else:
        raise TypeError(
            f"identifier must be a loss name or a callable; got {type(identifier).__name__}"
        )
    if not options:
        return function
    spec = getattr(function, "spec", None)
    if spec is not None:  # an arrayloss loss: names and values are checked now
        options = spec.validate(options)
    else:
        _check_option_names(function, options)
    bound = functools.partial(function, **options)
    functools.update_wrapper(bound, function)
    return bound


def _resolve(identifier: str) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The loss a name denotes and the options the name implies."""
    key = identifier.lower()
    if key in _LOOKUP:
        return _ENTRIES[_LOOKUP[key]].function, {}
    framework = framework_names.mapped(key)
    if framework is not None:
        return _ENTRIES[framework.loss].function, dict(framework.options)
    refusal = framework_names.refused(key)
    if refusal is not None:
        raise ValueError(refusal.message())
    known = [*_LOOKUP, *framework_names.keys()]
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(_spelling(c)) for c in close)}?" if close else ""
    raise ValueError(
        f"unknown loss {identifier!r}{hint} (arrayloss.available() lists every loss)"
    )


def _spelling(key: str) -> str:
    """A lower-case name as its library spells it (``BCEWithLogitsLoss``)."""
    if key in _LOOKUP:
        return key
    found = framework_names.mapped(key) or framework_names.refused(key)
    return found.name if found is not None else key


def _check_option_names(function: Callable[..., Any], options: dict[str, Any]) -> None:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a callable without a signature: nothing to check
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    allowed = [p.name for p in parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        name = getattr(function, "__name__", repr(function))
        raise TypeError(
            f"{name}() got unknown option(s) {', '.join(unknown)}; "
            f"its options are: {', '.join(allowed)}"
        )
