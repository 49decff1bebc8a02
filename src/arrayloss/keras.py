"""Keras 3 losses from arrayloss: one ``keras.losses.Loss`` subclass per loss.

Each class is generated from arrayloss's registry and named as Keras names its class where
Keras has the loss (``MeanSquaredError``, ``Huber``, ``BinaryCrossentropy``,
``SparseCategoricalCrossentropy``, ``KLDivergence``, ``Dice``, ``CTC``, ...) and in the same
style otherwise (``Quantile``, ``TukeyBiweight``, ``PoissonNLL``, ``Jaccard``, ...). A class
takes the loss's options (keyword-only, arrayloss's names and defaults) and Keras's
``reduction``, ``name`` and ``dtype``. Its ``call`` returns arrayloss's per-sample values
(``reduction="none"``), so Keras applies ``sample_weight``, ``class_weight``, masks and the
reduction exactly as it does for its own losses. Labels that Keras hands over as floats are
cast to integers here, for the sparse losses only. Every class is registered for
``model.save`` / ``keras.saving.load_model`` under the package name ``arrayloss``: import
``arrayloss.keras`` before loading a model saved with one of them.

This module imports Keras; ``import arrayloss`` never does. Choose the backend (``jax`` or
``torch``) with ``KERAS_BACKEND`` before Keras's first import.

>>> import numpy as np, keras, arrayloss.keras
>>> loss = arrayloss.keras.Huber(delta=0.5)
>>> y_true, y_pred = np.array([[0.0], [1.0]]), np.array([[0.3], [2.0]])
>>> round(float(loss(y_true, y_pred, sample_weight=np.array([1.0, 0.0]))), 6)
0.0225
>>> theirs = keras.losses.Huber(delta=0.5)(y_true, y_pred, sample_weight=np.array([1.0, 0.0]))
>>> bool(np.isclose(float(theirs), 0.0225))
True
>>> arrayloss.keras.Huber.from_config(loss.get_config()).options["delta"]
0.5
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

import arrayloss

if TYPE_CHECKING:
    from arrayloss.core.define import LossFunction

try:
    import keras
    from keras import ops
except ImportError as error:  # no Keras, or Keras without a working backend
    raise ImportError(
        "arrayloss.keras needs Keras 3 with a working backend: set KERAS_BACKEND to 'jax' or "
        f"'torch' before keras is first imported; importing keras failed with: {error}"
    ) from error

if not keras.version().startswith("3."):
    raise ImportError(f"arrayloss.keras needs Keras 3; keras {keras.version()} is installed")

try:  # how Keras's own SparseCategoricalCrossentropy(ignore_class=...) marks ignored values
    from keras.src.backend import set_keras_mask as _set_keras_mask
except ImportError:  # pragma: no cover  (older Keras 3: the attribute it reads)
    def _set_keras_mask(x: Any, mask: Any) -> None:
        x._keras_mask = mask

# Written out for type checkers; the generated classes (below) in the registry's order.
__all__ = [
    "CLASSES", "ArraylossLoss", "get", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Poisson", "PoissonNLL",
    "GaussianNLL", "CosineSimilarity", "TweedieDeviance", "PoissonDeviance", "GammaDeviance",
    "Huber", "SmoothL1", "LogCosh", "Quantile", "TukeyBiweight", "GeneralRobust",
    "GeneralRobustNLL", "Charbonnier", "Cauchy", "GemanMcclure", "Welsch", "SoftL1", "Arctan",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "NegativeLogLikelihood", "CategoricalGeneralizedCrossEntropy", "KLDivergence",
    "GeneralizedKLDivergence", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
    "PolyCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge", "Perceptron",
    "BinarySparsemax", "SoftMargin", "HingeEmbedding", "CosineEmbedding", "MarginRanking",
    "MultilabelSoftMargin", "MultiMargin", "MultilabelMargin", "MulticlassPerceptron",
    "MulticlassHinge", "MulticlassSparsemax", "Dice", "Tversky", "Jaccard", "FocalTversky",
    "GeneralizedDice", "LovaszHinge", "LovaszSoftmax", "TripletMargin", "Contrastive",
    "NTXent", "Circle", "CTC"
]

# Keras's own mask on a loss's values, where the loss sets one: keras.losses.circle masks
# the values that are not positive (a query without a positive or a negative), so that
# "sum_over_batch_size" averages over the others; arrayloss's circle gives 0 there.
_VALUE_MASKS: dict[str, Callable[[Any], Any]] = {"circle": lambda values: ops.greater(values, 0)}

# Class names where joining the capitalized words of the canonical name is not Keras's
# spelling (``KlDivergence``) or not its style for acronyms (``Ctc``).
_CLASS_NAMES = {
    "kl_divergence": "KLDivergence",
    "generalized_kl_divergence": "GeneralizedKLDivergence",
    "ctc": "CTC",
    "poisson_nll": "PoissonNLL",
    "gaussian_nll": "GaussianNLL",
    "general_robust_nll": "GeneralRobustNLL",
    "ntxent": "NTXent",
    "categorical_generalized_crossentropy": "CategoricalGeneralizedCrossEntropy",
    "lovasz_hinge": "LovaszHinge",
    "lovasz_softmax": "LovaszSoftmax",
}
# Keras's spelling of an option -> arrayloss's.
_KERAS_SPELLINGS = {"ignore_class": "ignore_index"}
_KERAS_ARGUMENTS = ("reduction", "name", "dtype")


def _as_labels(y: Any) -> Any:
    """Class labels from Keras, which converts ``y_true`` to the loss's float dtype."""
    return ops.cast(y, "int32")


def _split(loss: ArraylossLoss, y_pred: Any, parts: tuple[str, ...]) -> list[Any]:
    size = y_pred.shape[-1] if len(y_pred.shape) else None
    if size is None or size % len(parts):
        raise ValueError(
            f"{type(loss).__name__}: y_pred holds {', '.join(parts)} side by side on its last "
            f"axis, so that axis's length must be a multiple of {len(parts)}; got "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    pieces: Any = ops.split(y_pred, len(parts), axis=-1)
    return list(pieces)


def _pair(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return [y_true, y_pred]


def _sparse(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return [_as_labels(y_true), y_pred]


def _gaussian(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return [y_true, *_split(loss, y_pred, ("the mean", "the variance"))]


def _ranking(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return [y_true, *_split(loss, y_pred, ("input1", "input2"))]


def _cosine_pairs(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    labels = y_true
    if len(labels.shape) == 2 and labels.shape[-1] == 1:  # Keras's (N, 1) targets
        labels = ops.reshape(labels, (-1,))
    return [labels, *_split(loss, y_pred, ("input1", "input2"))]


def _triplet(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return _split(loss, y_pred, ("anchor", "positive", "negative"))


def _ntxent(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    labels = _as_labels(y_true)
    if len(labels.shape) == 2 and labels.shape[-1] == 1:
        labels = ops.reshape(labels, (-1,))
    return [y_pred, labels]


def _circle(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    return _ntxent(loss, y_true, y_pred)[::-1]  # labels first, as keras.losses.circle


def _ctc(loss: ArraylossLoss, y_true: Any, y_pred: Any) -> list[Any]:
    labels = _as_labels(y_true)
    if len(labels.shape) != 2 or len(y_pred.shape) != 3:
        raise ValueError(
            f"{type(loss).__name__}: y_true must be (batch, max_label_length) labels padded "
            f"with blank and y_pred (batch, frames, classes) logits; got "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    blank = loss.options["blank"]
    label_lengths = ops.sum(ops.cast(ops.not_equal(labels, blank), "int32"), axis=-1)
    shape: Any = ops.shape(y_pred)
    logit_lengths = ops.full((shape[0],), shape[1], dtype="int32")
    return [labels, y_pred, label_lengths, logit_lengths]


# How a loss with inputs other than (y_true, y_pred) reads Keras's pair, and what the class
# docstring says about it.
_INPUTS: dict[str, tuple[Callable[..., list[Any]], str]] = {
    "gaussian_nll": (_gaussian, "y_pred holds the mean and the variance side by side on its "
                     "last axis (first half, second half)"),
    "cosine_embedding": (_cosine_pairs, "y_true holds the (N,) or (N, 1) {-1, 1} labels, "
                         "y_pred the two (N, D) embeddings side by side on its last axis"),
    "multilabel_margin": (_sparse, "y_true holds the target class lists padded with -1, "
                          "of y_pred's shape (Keras's floats are cast)"),
    "lovasz_softmax": (_sparse, "y_true holds integer class labels, y_pred's shape without "
                       "the class axis (Keras's floats are cast)"),
    "margin_ranking": (_ranking, "y_true holds the {-1, 1} labels, y_pred the two scores "
                       "side by side on its last axis (input1, then input2)"),
    "triplet_margin": (_triplet, "y_pred holds anchor, positive and negative embeddings side "
                       "by side on its last axis (thirds); y_true is not read"),
    "ntxent": (_ntxent, "y_true holds the (N,) class labels, y_pred the (N, D) embeddings"),
    "circle": (_circle, "y_true holds the (N,) class labels, y_pred the (N, D) embeddings"),
    "ctc": (_ctc, "y_true holds (N, S) labels padded at the end with blank (Keras's 0), "
            "y_pred (N, T, C) logits; every frame counts, as in keras.losses.CTC"),
}


def _plain(value: Any) -> Any:
    """An option value as JSON-ready Python (arrays and tensors become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.generic) or hasattr(value, "shape"):
        array: Any = ops.convert_to_numpy(value)
        return array.tolist()
    return value


class ArraylossLoss(keras.losses.Loss):
    """Base of the generated classes: a ``keras.losses.Loss`` whose ``call`` is an arrayloss
    loss with ``reduction="none"``. Subclasses set ``loss_name`` (arrayloss's canonical
    name), ``function``, ``defaults`` (every option with its default) and ``inputs``."""

    loss_name: str = ""
    function: Callable[..., Any]
    defaults: dict[str, Any] = {}
    inputs: Callable[..., list[Any]] = staticmethod(_pair)

    def __init__(self, *, reduction: Any = "sum_over_batch_size", name: str | None = None,
                 dtype: Any = None, **options: Any) -> None:
        if not self.loss_name:
            raise TypeError("ArraylossLoss is a base class; use one of arrayloss.keras.CLASSES")
        options = self._check_options(options)
        super().__init__(name=name or self.loss_name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype
        self.options = {**self.defaults, **options}

    @classmethod
    def _check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        for keras_name, ours in _KERAS_SPELLINGS.items():
            if keras_name in options and ours in cls.defaults:
                if ours in options:
                    raise TypeError(f"{cls.__name__}() got both {keras_name} and {ours}; pass "
                                    f"one ({keras_name} is Keras's name for {ours})")
                options[ours] = options.pop(keras_name)
        unknown = sorted(options.keys() - cls.defaults.keys())
        if unknown:
            hint = (" (sample_weight and mask are given at the call or to fit, not to the "
                    "constructor)" if {"sample_weight", "mask"} & set(unknown) else "")
            raise TypeError(
                f"{cls.__name__}() got unknown option(s) {', '.join(unknown)}{hint}; it takes "
                f"{', '.join([*cls.defaults, *_KERAS_ARGUMENTS])}"
            )
        return cast("LossFunction", cls.function).spec.validate(options)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        arrays = type(self).inputs(self, y_true, y_pred)
        values = self.function(*arrays, reduction="none", **self.options)
        ignore = self.options.get("ignore_index")
        if ignore is not None:  # Keras then averages over the kept values, as for its own
            keep = ops.not_equal(arrays[0], ignore)
            _set_keras_mask(values, ops.reshape(keep, ops.shape(values)))
        if self.loss_name in _VALUE_MASKS:
            _set_keras_mask(values, _VALUE_MASKS[self.loss_name](values))
        return values

    def get_config(self) -> dict[str, Any]:
        dtype = self._dtype_argument
        if dtype is not None and not isinstance(dtype, str):
            dtype = keras.dtype_policies.serialize(dtype)
        options = {k: _plain(v) for k, v in self.options.items()}
        return {"name": self.name, "reduction": self.reduction, "dtype": dtype, **options}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ArraylossLoss:
        config = dict(config)
        if isinstance(config.get("axis"), list):  # JSON has no tuples
            config["axis"] = tuple(config["axis"])
        return cls(**config)

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.options.items() if v is not self.defaults[k]
                   and not (isinstance(v, (int, float, str)) and v == self.defaults[k])}
        arguments = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"arrayloss.keras.{type(self).__name__}({arguments})"


def _class_name(loss_name: str) -> str:
    return _CLASS_NAMES.get(loss_name) or "".join(w.capitalize() for w in loss_name.split("_"))


def _make_class(loss_name: str) -> type[ArraylossLoss] | None:
    function = arrayloss.get(loss_name)
    spec = getattr(function, "spec", None)
    if spec is None:  # the penalties l1, l2, l1_l2 take weights, not (y_true, y_pred)
        return None
    if loss_name in _INPUTS:
        inputs, reads = _INPUTS[loss_name]
    elif spec.inputs[2:]:  # more arrays than Keras's pair, and no rule here to read them
        return None
    elif spec.kind == "labels":
        inputs, reads = _sparse, "y_true holds integer class labels (Keras's floats are cast)"
    else:
        inputs, reads = _pair, f"y_true and y_pred as for arrayloss.{loss_name}"
    defaults = dict(spec.options)
    if spec.kind != "custom":
        defaults["axis"] = None if spec.kind == "elementwise" else -1
    name = _class_name(loss_name)
    options = ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "none"
    doc = (f"Keras loss computing :func:`arrayloss.{loss_name}` per sample; Keras applies "
           f"sample_weight, masks and the reduction.\n\nInputs: {reads}.\n"
           f"Options (keyword-only): {options}; and Keras's reduction, name, dtype.\n")
    parameters = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
                  for k, v in [*defaults.items(), ("reduction", "sum_over_batch_size"),
                               ("name", None), ("dtype", None)]]
    cls = type(name, (ArraylossLoss,), {
        "__module__": __name__, "__qualname__": name, "__doc__": doc,
        "loss_name": loss_name, "function": staticmethod(function), "defaults": defaults,
        "inputs": staticmethod(inputs), "__signature__": inspect.Signature(parameters),
    })
    return keras.saving.register_keras_serializable(package="arrayloss", name=name)(cls)


def _make_classes() -> dict[str, type[ArraylossLoss]]:
    classes = {}
    for loss_name in arrayloss.available():
        cls = _make_class(loss_name)
        if cls is not None:
            classes[loss_name] = cls
    return classes


CLASSES: dict[str, type[ArraylossLoss]] = _make_classes()
"""Every generated class by arrayloss's canonical loss name."""
globals().update({cls.__name__: cls for cls in CLASSES.values()})

if TYPE_CHECKING:  # the classes just generated, as type checkers cannot see them made
    class MeanSquaredError(ArraylossLoss): ...
    class MeanAbsoluteError(ArraylossLoss): ...
    class MeanAbsolutePercentageError(ArraylossLoss): ...
    class MeanSquaredLogarithmicError(ArraylossLoss): ...
    class Poisson(ArraylossLoss): ...
    class PoissonNLL(ArraylossLoss): ...
    class GaussianNLL(ArraylossLoss): ...
    class CosineSimilarity(ArraylossLoss): ...
    class TweedieDeviance(ArraylossLoss): ...
    class PoissonDeviance(ArraylossLoss): ...
    class GammaDeviance(ArraylossLoss): ...
    class Huber(ArraylossLoss): ...
    class SmoothL1(ArraylossLoss): ...
    class LogCosh(ArraylossLoss): ...
    class Quantile(ArraylossLoss): ...
    class TukeyBiweight(ArraylossLoss): ...
    class GeneralRobust(ArraylossLoss): ...
    class GeneralRobustNLL(ArraylossLoss): ...
    class Charbonnier(ArraylossLoss): ...
    class Cauchy(ArraylossLoss): ...
    class GemanMcclure(ArraylossLoss): ...
    class Welsch(ArraylossLoss): ...
    class SoftL1(ArraylossLoss): ...
    class Arctan(ArraylossLoss): ...
    class BinaryCrossentropy(ArraylossLoss): ...
    class CategoricalCrossentropy(ArraylossLoss): ...
    class SparseCategoricalCrossentropy(ArraylossLoss): ...
    class NegativeLogLikelihood(ArraylossLoss): ...
    class CategoricalGeneralizedCrossEntropy(ArraylossLoss): ...
    class KLDivergence(ArraylossLoss): ...
    class GeneralizedKLDivergence(ArraylossLoss): ...
    class BinaryFocalCrossentropy(ArraylossLoss): ...
    class CategoricalFocalCrossentropy(ArraylossLoss): ...
    class PolyCrossentropy(ArraylossLoss): ...
    class Hinge(ArraylossLoss): ...
    class SquaredHinge(ArraylossLoss): ...
    class CategoricalHinge(ArraylossLoss): ...
    class Perceptron(ArraylossLoss): ...
    class BinarySparsemax(ArraylossLoss): ...
    class SoftMargin(ArraylossLoss): ...
    class HingeEmbedding(ArraylossLoss): ...
    class CosineEmbedding(ArraylossLoss): ...
    class MarginRanking(ArraylossLoss): ...
    class MultilabelSoftMargin(ArraylossLoss): ...
    class MultiMargin(ArraylossLoss): ...
    class MultilabelMargin(ArraylossLoss): ...
    class MulticlassPerceptron(ArraylossLoss): ...
    class MulticlassHinge(ArraylossLoss): ...
    class MulticlassSparsemax(ArraylossLoss): ...
    class Dice(ArraylossLoss): ...
    class Tversky(ArraylossLoss): ...
    class Jaccard(ArraylossLoss): ...
    class FocalTversky(ArraylossLoss): ...
    class GeneralizedDice(ArraylossLoss): ...
    class LovaszHinge(ArraylossLoss): ...
    class LovaszSoftmax(ArraylossLoss): ...
    class TripletMargin(ArraylossLoss): ...
    class Contrastive(ArraylossLoss): ...
    class NTXent(ArraylossLoss): ...
    class Circle(ArraylossLoss): ...
    class CTC(ArraylossLoss): ...


def get(identifier: Any, /, **options: Any) -> ArraylossLoss:
    """The Keras loss object for an arrayloss loss name (any name ``arrayloss.get`` takes,
    with the options that name implies) or function, with ``options`` (and ``reduction``,
    ``name``, ``dtype``)::

        model.compile(optimizer="adam", loss=arrayloss.keras.get("huber", delta=2.0))
    """
    function = arrayloss.get(identifier)
    implied = dict(getattr(function, "keywords", None) or {})  # a name with bound options
    name = getattr(getattr(function, "spec", None), "name", None)
    if name not in CLASSES:
        raise ValueError(
            f"arrayloss.keras has no class for {identifier!r}; it has classes for "
            f"{', '.join(sorted(CLASSES))}"
        )
    return CLASSES[name](**{**implied, **options})
