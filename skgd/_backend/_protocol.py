# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The contract every data backend fulfils: the few linear-algebra passes over X.

Solvers and the objective only ever touch X through these methods, so a new array kind
(dask, a GPU library) is one new backend, not a change to any solver.
"""

from typing import Any, Protocol


class Backend(Protocol):
    """Operations over a design matrix ``X`` of shape (n_samples, n_features).

    Sample-sized vectors (predictions, residuals, weights) are arrays of the namespace
    ``xp``; coefficient-sized vectors are arrays of ``coef_xp`` (the same namespace,
    except for Dask, where they are numpy on the client); both live on ``device``.
    ``X`` itself keeps its own kind (dense, sparse, chunked).
    """

    xp: Any
    coef_xp: Any
    device: Any

    def samples(self, v, dtype):
        """Return the sample-sized vector ``v`` in this backend's kind and ``dtype``."""

    def full(self, n_samples, value, dtype):
        """Return a sample-sized vector filled with ``value``."""

    def matvec(self, X, w):
        """Return ``X @ w``, a sample-sized vector."""

    def rmatvec(self, X, r):
        """Return ``X.T @ r``, a coefficient-sized vector."""

    def weighted_mean(self, X, u):
        """Return ``u @ X``: the column means under weights ``u`` that sum to one."""

    def weighted_centered_sq(self, X, u, mean):
        """Return ``sum_i u_i (X_ij - mean_j)**2`` per column, without copying X."""

    def take_rows(self, X, idx):
        """Return the rows ``idx`` (slice or index array) of X, in X's own kind."""

    def rmatvec_sum(self, X, r):
        """Return ``(X.T @ r, sum(r))``, computed together (one synchronisation)."""

    def persist(self, *vectors):
        """Return sample-sized ``vectors`` materialised, as a tuple.

        A lazy backend computes their expressions once, so that the passes that
        reuse them do not recompute them (in-memory vectors are returned as they are).
        """

    def reduce_rows(self, fn, X, *vectors):
        """Return ``fn``'s row-block results, reduced: one pass, one synchronisation.

        ``fn(backend, X_rows, *vector_rows)`` runs on row blocks of X and of the
        sample-sized ``vectors`` (``None`` entries are passed as ``None``), with
        ``backend`` the backend of ``X_rows``; it returns ``(sums, maxima)``, two
        tuples of arrays: each entry of ``sums`` is added over the blocks, each
        (0-d) entry of ``maxima`` is reduced by ``max``. An in-memory backend calls
        ``fn`` once on the whole arrays. The results are concrete arrays.
        """

    def to_float(self, x):
        """Return the 0-d array ``x`` as a Python float (the one synchronisation)."""

    def to_floats(self, *xs):
        """Return several 0-d arrays as Python floats, computed together."""

    def to_coef(self, x):
        """Return a small array (``(n_outputs,)``) of the coefficients' namespace."""
