# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The one import site for scikit-learn names that are private or may move.

When scikit-learn renames one of these, this file is the only one to fix. It also
holds :class:`DocLinkMixin`, which fills in scikit-learn's private hooks for the
link from an estimator's notebook HTML repr to its documentation.
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
    make_constraint,
    validate_params,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "DOCS_URL",
    "DocLinkMixin",
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
    "make_constraint",
    "validate_data",
    "validate_params",
]

# The documentation's address: pyproject.toml's [project.urls] Documentation.
DOCS_URL = "https://skgd.readthedocs.io/en/stable/"


class DocLinkMixin:
    """Link an estimator's notebook HTML repr to its page of the API reference.

    scikit-learn's repr links estimators of the module ``_doc_link_module`` to
    ``_doc_link_template`` filled with the public module and the class name;
    its defaults point at scikit-learn's own site. Put this mixin before
    ``BaseEstimator`` among the bases.

    Examples
    --------
    >>> from skgd import GDRegressor
    >>> GDRegressor()._get_doc_link().endswith("generated/skgd.GDRegressor.html")
    True
    """

    _doc_link_module = "skgd"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"
