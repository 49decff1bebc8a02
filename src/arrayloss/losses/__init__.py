"""The losses, one module per family; each loss's formula, options, closed-form
derivatives and native kernel side by side.

Each loss is followed by its closed-form derivatives (``closed_form``: a generator of the
first and second derivative of the body with respect to the prediction, used by
:func:`arrayloss.gradient` and the boosting objectives; see ``core/chain_rule.py``) and,
where a framework has one that is provably the same, its native kernel (``core/native.py``).

Importing this package registers every loss, family by family (regression, deviances,
robust, cross-entropy, divergences, focal, margin, PyTorch's two-class, ranking and
multi-label margins, optax's multi-class losses of labels, segmentation and its variants,
metric learning, sequence, penalties); that is the order of ``arrayloss.available()`` and
``python -m arrayloss list``.
"""

# isort: off
# Each import registers the module's losses; the order of registration is the order above.
from . import regression  # noqa: F401
from . import deviance  # noqa: F401
from . import robust  # noqa: F401
from . import general_robust  # noqa: F401
from . import robust_named  # noqa: F401
from . import binary_crossentropy  # noqa: F401
from . import crossentropy  # noqa: F401
from . import generalized_crossentropy  # noqa: F401
from . import divergences  # noqa: F401
from . import focal  # noqa: F401
from . import margin  # noqa: F401
from . import embedding_margins  # noqa: F401
from . import ranking_margins  # noqa: F401
from . import multiclass_margins  # noqa: F401
from . import multiclass_scores  # noqa: F401
from . import segmentation  # noqa: F401
from . import segmentation_variants  # noqa: F401
from . import lovasz  # noqa: F401
from . import metric_learning  # noqa: F401
from . import circle  # noqa: F401
from . import sequence  # noqa: F401
from . import penalties  # noqa: F401
from . import encoding  # noqa: F401
# isort: on
