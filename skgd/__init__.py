# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""skgd: gradient-descent linear models as first-class scikit-learn estimators.

Importing skgd changes nothing outside it: no import hooks, no registration with
other libraries (ONNX export starts with :func:`register_onnx_converter`).
"""

from skgd._classifier import GDClassifier
from skgd._cv import GDRegressorCV
from skgd._display import LossCurveDisplay
from skgd._estimator import GDRegressor
from skgd._onnx import register_onnx_converter
from skgd._path import gd_path

try:
    from skgd._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0+unknown"

__all__ = [
    "GDClassifier",
    "GDRegressor",
    "GDRegressorCV",
    "LossCurveDisplay",
    "__version__",
    "gd_path",
    "register_onnx_converter",
]
