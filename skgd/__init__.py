# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""skgd: gradient-descent linear models as first-class scikit-learn estimators."""

from skgd._cv import GDRegressorCV
from skgd._estimator import GDRegressor
from skgd._path import gd_path

try:
    from skgd._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0+unknown"

__all__ = ["GDRegressor", "GDRegressorCV", "__version__", "gd_path"]
