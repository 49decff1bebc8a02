"""The loss-choice tutorial, reproduced with arrayloss on NumPy, PyTorch and JAX.

Nine experiments (three problems, three losses each) train the same one-hidden-layer
network with the same arrayloss losses on three libraries. Run them with
``python -m arrayloss tutorial``; see ``docs/tutorial.md``.

- :mod:`.experiments`: the nine runs and the tutorial's reported figures;
- :mod:`.data`: the scikit-learn data sets;
- :mod:`.model`: the network, its hand-written backward pass, the update and the metrics,
  all written once against the array API standard;
- :mod:`.backends`: how each library gets the gradient (the only per-library code);
- :mod:`.train`: the training loop; :mod:`.report`: the table and the plots.
"""

from .backends import BACKENDS, get_backend, installed
from .experiments import EXPERIMENTS, Experiment, select
from .train import Result, fit

__all__ = ["BACKENDS", "EXPERIMENTS", "Experiment", "Result", "fit", "get_backend",
           "installed", "select"]
