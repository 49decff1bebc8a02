r"""The Lovász losses (Berman, Rannen Triki & Blaschko, CVPR 2018): the Lovász extension of
the Jaccard loss, a convex surrogate of ``1 - IoU`` optimised directly.

For one image with ``P`` pixels, errors ``e`` (one per pixel) and a binary ground truth
``g``, sort the errors in decreasing order, ``e_(1) ≥ … ≥ e_(P)``, with ``g`` in the same
order. With ``G = Σ g``, ``J_i`` is the Jaccard loss when the first ``i`` sorted pixels are
the mispredicted ones (their positives missed, their negatives predicted positive):

.. math:: J_i = 1 - \frac{G - \sum_{k \le i} g_{(k)}}{G + \sum_{k \le i} (1 - g_{(k)})},
          \qquad \bar\Delta(e) = \sum_i e_{(i)}\,(J_i - J_{i-1}), \quad J_0 = 0

The increments are the weights of the Lovász extension (Berman's ``lovasz_grad``), which
depend only on the sorted labels and carry no gradient: autodiff through the sort's gather
gives the extension's (sub)gradient, the weights at the errors' own ranks. The denominator
is at least 1 (it counts a negative among the first ``i``, or else the ``G ≥ i``
positives), so an image without positives has finite weights ``(1, 0, …, 0)``: its loss is
its largest error. Tied errors give the same value in any order (the extension is defined
by the values alone: a tie's weights are summed against one error).

The sort is ``argsort`` plus ``take_along_axis``; Dask's namespace has no gather, so there
the sorted sums run chunk by chunk (``dask.array.blockwise``) over chunks holding whole
images, lazily, with NumPy's namespace in each chunk.
"""

from __future__ import annotations

import numbers
from typing import Annotated, Any

from ..core.autodiff import stop_gradient
from ..core.chain_rule import no_closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import device_of, namespace_name, namespace_of
from ..core.options import Flag, StrChoice
from ..core.reduction import as_array
from ..core.shapes import reconcile_labels, reconcile_pair
from ..core.stable import cumulative_sum, log_softmax, one_hot_like, positive_part
from ._classes import usable_labels
from .segmentation import PER_SAMPLE

__all__ = ["lovasz_hinge", "lovasz_softmax"]

_SEGMENTATION = "segmentation"
# Which classes the multi-class loss averages over (Berman's ``classes=``).
Classes = Annotated[str, StrChoice(("present", "all"))]


def _images(axis: Any, shape: tuple[int, ...]) -> int:
    """How many images the leading axis makes: ``N`` per sample, 1 for ``axis=None``."""
    if axis is None:
        return 1
    if isinstance(axis, str) and axis == PER_SAMPLE:
        if len(shape) == 0:
            raise ValueError("axis='per_sample' takes one image per entry of the first axis; "
                             "got 0-d inputs (pass axis=None for one image)")
        return shape[0]
    raise ValueError(
        f"axis must be {PER_SAMPLE!r} (one value per image, the first axis) or None (the "
        f"whole batch as one image); got {axis!r}")


def _product(shape: tuple[int, ...]) -> int:
    size = 1
    for s in shape:
        size *= s
    return size


def lovasz_weights(xp: Any, gt_sorted: Any) -> Any:
    """Berman's ``lovasz_grad`` along the last axis: ``J_i - J_{i-1}`` of the sorted labels."""
    total = xp.sum(gt_sorted, axis=-1, keepdims=True)
    # Berman's names: "intersection", the positives not among the first i (|B \ M|), and
    # "union", the positives and the negatives among the first i (|B ∪ M|).
    intersection = total - cumulative_sum(gt_sorted, axis=-1)
    # ≥ 1 everywhere: up to pixel i it counts either a negative or, when the first i are
    # all positive, the G ≥ i positives; never 0/0, even for an image without positives.
    union = total + cumulative_sum(1.0 - gt_sorted, axis=-1)
    jaccard = 1.0 - intersection / union
    if jaccard.shape[-1] < 2:
        return jaccard
    return xp.concat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], axis=-1)


def _sorted_sums(errors: Any, labels: Any, keep: Any) -> Any:
    """``Σ_i e_(i)·w_i`` over the last axis, for ``(B, C, P)`` errors, labels in ``{0, 1}``
    and a mask of the counted pixels; a pixel left out sorts after every counted one (a
    label of 0 there leaves the counted pixels' weights as without it) and adds 0."""
    xp = namespace_of(errors)
    key = xp.where(keep, errors, xp.full_like(errors, -xp.inf))
    # stable=True: tied errors in one order on every backend (the value needs none).
    order = xp.argsort(key, axis=-1, descending=True, stable=True)
    sorted_errors = xp.take_along_axis(errors, order, axis=-1)
    sorted_labels = xp.take_along_axis(labels, order, axis=-1)
    sorted_keep = xp.take_along_axis(keep, order, axis=-1)
    weights = stop_gradient(lovasz_weights(xp, sorted_labels))
    # A `where`, not a product: a left-out pixel's error (NaN, inf) stays out of the value.
    counted = xp.where(sorted_keep, sorted_errors, xp.zeros_like(sorted_errors))
    return xp.sum(counted * weights, axis=-1)


def _chunk_sums(errors: Any, labels: Any, keep: Any) -> Any:
    """:func:`_sorted_sums` on NumPy blocks (Dask's chunks)."""
    import numpy as np  # ok: Dask's chunks are NumPy arrays

    result = _sorted_sums(errors, labels, keep)
    return np.asarray(result)


def extension_sums(xp: Any, errors: Any, labels: Any, keep: Any) -> Any:
    """:func:`_sorted_sums`, lazily chunk by chunk on Dask (no gather in its namespace)."""
    if namespace_name(xp) != "dask":
        return _sorted_sums(errors, labels, keep)
    import dask.array as da  # ok: already imported, the inputs are Dask arrays

    # Each chunk holds whole images (every class and every pixel of its rows), so the sort
    # of a chunk is the sort of its images; the rows stay chunked as they were.
    whole = {1: -1, 2: -1}
    arrays = [x.rechunk(whole) for x in (errors, labels, keep)]
    return da.blockwise(_chunk_sums, "nc", arrays[0], "ncp", arrays[1], "ncp",
                        arrays[2], "ncp", concatenate=True, dtype=errors.dtype,
                        meta=_meta(errors))


def _meta(x: Any) -> Any:
    import numpy as np  # ok: Dask's chunks are NumPy arrays

    return np.empty((0, 0), dtype=x.dtype)


def _per_image(xp: Any, x: Any, images: int, pixels: int) -> Any:
    """``(N, ...)`` as ``(images, 1, pixels)``."""
    return xp.reshape(x, (images, 1, pixels))


def _check_ignore_index(ignore_index: Any) -> None:
    if ignore_index is not None and (isinstance(ignore_index, bool)
                                     or not isinstance(ignore_index, numbers.Integral)):
        raise TypeError(f"ignore_index must be None or an int; got {ignore_index!r}")


@define_loss("lovasz_hinge", family=_SEGMENTATION, kind="custom")
def lovasz_hinge(xp: Any, y_true: Any, y_pred: Any, *, ignore_index: int | None = None,
                 axis: Any = PER_SAMPLE) -> Any:
    r"""Binary Lovász hinge loss of logits and ``{0, 1}`` masks: the Lovász extension of the
    Jaccard loss on the hinge errors.

    .. math:: e = \max(0,\ 1 - z\,(2y - 1)), \qquad
              \ell = \sum_i e_{(i)}\,\bigl(J_i - J_{i-1}\bigr)

    with the errors sorted in decreasing order and ``J_i`` the Jaccard loss when the
    pixels of the ``i`` largest errors are the mispredicted ones (see the module).
    ``z = y_pred`` are logits, ``y = y_true`` the mask. By default one value per image,
    the first axis (all other axes are its pixels), and the mean over images is Berman's
    ``lovasz_hinge(logits, labels, per_image=True)``; ``axis=None`` takes the whole batch
    as one image, Berman's ``per_image=False`` and segmentation_models_pytorch
    ``LovaszLoss("binary")`` (its default ``per_image=False``). ``ignore_index`` leaves out
    the pixels whose mask equals it, as both do. An image whose pixels are all left out
    has loss 0.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 0.0, 1.0, 0.0]])
    >>> z = xp.asarray([[2.0, -1.0, 0.0, 1.0]])
    >>> float(arrayloss.lovasz_hinge(y, z))  # errors (-1, 0, 1, 2): 2·1/3 + 1·(2/3 - 1/3)
    1.0
    """
    _check_ignore_index(ignore_index)
    y_true, y_pred = reconcile_pair(xp, y_true, y_pred)
    shape = tuple(y_pred.shape)
    images = _images(axis, shape)
    pixels = _product(shape) if axis is None else _product(shape[1:])
    errors = 1.0 - y_pred * (2.0 * y_true - 1.0)
    if ignore_index is None:
        keep = xp.ones(errors.shape, dtype=xp.bool, device=device_of(errors))
    else:
        keep = y_true != ignore_index
    labels = xp.where(keep, y_true, xp.zeros_like(y_true))
    sums = extension_sums(xp, _per_image(xp, positive_part(errors), images, pixels),
                          _per_image(xp, labels, images, pixels),
                          _per_image(xp, keep, images, pixels))
    values = sums[:, 0]
    return as_array(xp, values[0]) if axis is None else values


no_closed_form(
    "lovasz_hinge",
    "its value sorts every pixel of an image (the whole batch with axis=None) and weighs "
    "them by their ranks, so it is differentiated by autodiff only",
)


@define_loss("lovasz_softmax", family=_SEGMENTATION, kind="custom", keep_dtype=("y_true",))
def lovasz_softmax(xp: Any, y_true: Any, y_pred: Any, *, from_logits: Flag = False,
                   classes: Classes = "present", class_axis: int = -1,
                   ignore_index: int | None = None, axis: Any = PER_SAMPLE) -> Any:
    r"""Multi-class Lovász-Softmax loss of integer labels and class probabilities: the
    Lovász extension of each class's Jaccard loss on the errors ``|[y = c] - p_c|``,
    averaged over the classes.

    .. math:: e_c = \bigl|[y = c] - p_c\bigr|, \qquad
              \ell = \frac{1}{|K|} \sum_{c \in K} \sum_i e_{c,(i)}\,
              \bigl(J_{c,i} - J_{c,i-1}\bigr)

    per image, with class ``c``'s errors sorted in decreasing order and ``J_{c,i}`` as in
    :func:`lovasz_hinge` for the mask ``[y = c]``. ``K`` is the classes present in the
    image's labels (``classes="present"``, the default; 0 for an image without any) or all
    of them (``classes="all"``). ``y_pred`` are probabilities, or logits with
    ``from_logits=True`` (softmax over ``class_axis``, default -1, the last: the labels
    have ``y_pred``'s shape without it, or with it of length 1, as in
    :func:`sparse_categorical_crossentropy`). A label outside ``[0, C)`` and not
    ``ignore_index`` gives NaN for its image; ``ignore_index`` leaves those pixels out.

    One value per image (the first axis) by default; ``axis=None`` takes the whole batch as
    one image. Berman's ``lovasz_softmax(probas, labels)`` (``(B, C, H, W)``, default
    ``per_image=False``) is ``lovasz_softmax(labels, probas, class_axis=1, axis=None)``,
    ``per_image=True`` the mean of the per-image values; segmentation_models_pytorch
    ``LovaszLoss("multiclass")`` (logits, ``per_image=False``) adds ``from_logits=True``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> labels = xp.asarray([[0, 1]])
    >>> p = xp.asarray([[[1.0, 0.0], [0.5, 0.5]]])  # errors (0, 0.5) in both classes
    >>> float(arrayloss.lovasz_softmax(labels, p))  # (0.5·(1/2) + 0.5·1)/2
    0.375
    """
    if not xp.isdtype(y_true.dtype, "integral"):
        raise TypeError(f"y_true must hold integer class labels; got dtype {y_true.dtype}")
    if isinstance(class_axis, bool) or not isinstance(class_axis, numbers.Integral):
        raise TypeError(f"class_axis must be an int; got {class_axis!r}")
    _check_ignore_index(ignore_index)
    ndim = y_pred.ndim
    if not -ndim <= class_axis < ndim or (axis is not None and ndim < 2):
        raise ValueError(
            f"class_axis={class_axis} must be an axis of y_pred (shape "
            f"{tuple(y_pred.shape)}), and per-image values need a first axis besides it")
    class_axis %= ndim
    if axis is not None and class_axis == 0:
        raise ValueError("class_axis=0 is the image axis of axis='per_sample'; pass another "
                         "class_axis, or axis=None for the whole batch as one image")
    labels = reconcile_labels(xp, y_true, y_pred, class_axis)
    num_classes = y_pred.shape[class_axis]
    prob = xp.exp(log_softmax(y_pred, axis=class_axis)) if from_logits else y_pred
    safe, valid, keep = usable_labels(xp, labels, num_classes, class_axis, ignore_index)
    if keep is None:
        keep = xp.ones(valid.shape, dtype=xp.bool, device=device_of(prob))
    # Classes last, then (images, C, pixels): each class's pixels on the sorted axis.
    order = [a for a in range(ndim) if a != class_axis] + [class_axis]
    shape = tuple(y_pred.shape[a] for a in order[:-1])
    images = _images(axis, shape)
    pixels = _product(shape) if axis is None else _product(shape[1:])

    def rows(x: Any) -> Any:  # (..., C) -> (images, C, pixels)
        x = xp.reshape(x, (images, pixels, x.shape[-1]))
        return xp.permute_dims(x, (0, 2, 1))

    counted = xp.expand_dims(keep, axis=-1)
    fg = one_hot_like(safe, prob, axis=class_axis)
    fg = xp.permute_dims(fg, tuple(order))
    fg = xp.where(counted, fg, xp.zeros_like(fg))  # a left-out pixel is in no class
    errors = xp.abs(fg - xp.permute_dims(prob, tuple(order)))
    keep_rows = rows(xp.broadcast_to(counted, fg.shape))
    fg_rows = rows(fg)
    sums = extension_sums(xp, rows(errors), fg_rows, keep_rows)  # (images, C)
    if classes == "all":
        values = xp.mean(sums, axis=-1)
    else:
        present = xp.sum(fg_rows, axis=-1) > 0
        count = xp.sum(xp.astype(present, sums.dtype), axis=-1)
        # No class present (every pixel left out): 0, as Berman's empty mean; the max keeps
        # 0/0 out of both the value and its gradient.
        total = xp.sum(xp.where(present, sums, xp.zeros_like(sums)), axis=-1)
        values = total / xp.maximum(count, xp.ones_like(count))
    # `valid` and `keep` have y_pred's shape without the class axis: the other axes in
    # their order. An ignored label is not invalid, whatever its value.
    bad = xp.logical_and(xp.logical_not(valid), keep)
    invalid = xp.any(xp.reshape(bad, (images, pixels)), axis=-1)
    if axis is None:
        return PerSample(as_array(xp, values[0]), invalid=invalid[0])
    return PerSample(values, invalid=invalid)


no_closed_form(
    "lovasz_softmax",
    "its value sorts every pixel of an image (the whole batch with axis=None) per class "
    "and weighs them by their ranks, so it is differentiated by autodiff only",
)
