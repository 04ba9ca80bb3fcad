# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""skgd: gradient-descent linear models as first-class scikit-learn estimators.

Importing skgd installs no import hook and changes no interpreter state. The one
thing outside skgd it may change is skl2onnx's registry of converters, and only if
skl2onnx is already imported; otherwise ONNX export starts with
:func:`register_onnx_converter`.
"""

from skgd._classifier import GDClassifier
from skgd._classifier_cv import GDClassifierCV
from skgd._cv import GDRegressorCV
from skgd._display import LossCurveDisplay
from skgd._estimator import GDRegressor
from skgd._onnx import _register_if_skl2onnx_loaded, register_onnx_converter
from skgd._path import gd_path

try:
    from skgd._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0+unknown"

# Only skl2onnx's registry changes, and only if skl2onnx is already loaded.
_register_if_skl2onnx_loaded()

__all__ = [
    "GDClassifier",
    "GDClassifierCV",
    "GDRegressor",
    "GDRegressorCV",
    "LossCurveDisplay",
    "__version__",
    "gd_path",
    "register_onnx_converter",
]
