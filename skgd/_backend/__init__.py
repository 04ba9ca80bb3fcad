# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Data backends: the only place that knows what kind of array X is.

``get_backend(X)`` picks scipy.sparse first, then Dask, then any Array API namespace
(numpy included) through array-api-compat.
"""

from skgd._backend._dask import DaskBackend, dask_namespace, dask_unique, is_dask
from skgd._backend._dense import DenseBackend
from skgd._backend._protocol import Backend
from skgd._backend._sparse import SparseBackend, is_sparse


def get_backend(X):
    """Return the backend that handles X.

    Parameters
    ----------
    X : {ndarray, sparse matrix, Array API array}
        The design matrix, already validated.

    Returns
    -------
    backend : Backend
        An object implementing the :class:`Backend` protocol for X.
    """
    if is_sparse(X):
        return SparseBackend(X)
    if is_dask(X):
        return DaskBackend(X)
    return DenseBackend(X)


__all__ = [
    "Backend",
    "DaskBackend",
    "DenseBackend",
    "SparseBackend",
    "dask_namespace",
    "dask_unique",
    "get_backend",
    "is_dask",
    "is_sparse",
]
