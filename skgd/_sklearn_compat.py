# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The one import site for scikit-learn names that are private or may move.

When scikit-learn renames one of these, this file is the only one to fix.
"""

from sklearn.base import _fit_context
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "SparseCoefMixin",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "check_same_namespace",
    "check_is_fitted",
    "validate_data",
    "validate_params",
]
