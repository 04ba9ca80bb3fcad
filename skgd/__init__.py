# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""skgd: gradient-descent linear models as first-class scikit-learn estimators."""

from skgd._estimator import GDRegressor

try:
    from skgd._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0+unknown"

__all__ = ["GDRegressor", "__version__"]
