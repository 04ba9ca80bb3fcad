# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Data backends: the passes over X for each kind of array.

A backend holds the products, weighted column statistics, row and column gathers
and reductions of one kind of X. ``get_backend(X)`` picks scipy.sparse first, then
Dask, then any Array API namespace (numpy included) through array-api-compat.

The objective, its Gram form and the solvers reach X only through a backend and
never ask what kind of array it is, only what the backend can do
(``weighted_gram``, ``take_columns``). Outside them the kind still matters in a
few places, which call :func:`is_sparse`, :func:`is_dask` or array-api-compat
themselves: input validation (``skgd._validation``: Dask input is checked without
computing it, Array API arrays off the CPU are refused without dispatch), the
estimators (Dask streams its chunks to the stochastic solvers, which take numpy and
scipy.sparse only; sparse data decay the stochastic intercept step) and the
classifier's label encoding (``dask_unique``, ``dask_namespace``). Ruff's rule
TID251 (``pyproject.toml``) bans imports of numpy, scipy.sparse and dask outside the
backends and the few modules its per-file exceptions list.
"""

from skgd._backend._dask import DaskBackend, dask_namespace, dask_unique, is_dask
from skgd._backend._dense import DenseBackend
from skgd._backend._protocol import Backend
from skgd._backend._sparse import SparseBackend, is_sparse
from skgd._backend._threads import fit_threads


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
    "fit_threads",
    "get_backend",
    "is_dask",
    "is_sparse",
]
