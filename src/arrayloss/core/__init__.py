"""The shared core: what every loss goes through, written once.

``namespace``
    The array namespace, device and computation dtype of a call (SPEC section 3).
``shapes``
    Shape reconciliation of targets, predictions, weights and masks (section 4).
``options``
    Option rules declared in each loss's signature and the checks of section 9.
``reduction``
    Per-sample values to ``"none"``, ``"sum"``, ``"mean"``, ``"weighted_mean"`` (section 5).
``registry``
    Canonical names and aliases: ``arrayloss.get`` and ``arrayloss.available``.
``define``
    ``define_loss``: a formula becomes a public loss under the whole contract.
``call_cache``
    The common call's preparation, remembered per loss under its arrays' types, dtypes,
    shapes and devices and its options.
``stable``
    The numerically stable primitives (log-sigmoid, logsumexp, ``0·log 0``, kinks).
``norms``
    Norms and unit vectors, exact for any finite entries (scaled by the largest entry).
``chain_rule``
    The closed-form gradients and Hessians: a loss's local derivatives through the
    shared chain rule of weights, masks, axes and reductions.
``autodiff``, ``native``
    What the standard lacks for autodiff (``stop_gradient``) and the framework kernels
    used where they are provably the formula.

Nothing here imports a framework at module level; a framework's own functions are reached
only through an array that already belongs to it.
"""
