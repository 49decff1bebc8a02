"""The conformance matrix: every loss, on every installed backend, against float64 NumPy.

``python -m arrayloss check`` and the pytest suite in ``conformance/`` both run it.
"""

from .backends import BACKENDS, Backend, available_backends, backend
from .cases import CASES, Case, all_cases, case

__all__ = ["BACKENDS", "CASES", "Backend", "Case", "all_cases", "available_backends",
           "backend", "case"]
