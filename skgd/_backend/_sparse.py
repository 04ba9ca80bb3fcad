# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Backend for scipy.sparse CSR and CSC matrices.

Nothing here densifies X or converts it between formats: products use scipy's sparse
kernels (X.T of a CSR matrix is a CSC view, not a copy), and column statistics walk
the stored entries in blocks of the compressed axis.
"""

import numpy as np
import scipy.sparse as sp
from array_api_compat import numpy as np_compat

from skgd._backend._in_memory import InMemoryBackend

# Stored entries handled per block when accumulating column statistics: small, so
# the temporaries (about six arrays of this length) stay far below X.data.
_BLOCK_NNZ = 2**14


def is_sparse(X):
    """Return True for any scipy.sparse matrix or array."""
    return sp.issparse(X)


class SparseBackend(InMemoryBackend):
    """scipy.sparse CSR/CSC matrices; vectors are numpy arrays."""

    xp = coef_xp = np_compat
    device = "cpu"

    def __init__(self, X):
        if X.format not in ("csr", "csc"):
            raise ValueError(
                f"Sparse input must be CSR or CSC, got {X.format!r}; convert it "
                "with X.tocsr() (skgd never converts sparse formats silently)."
            )

    def samples(self, v, dtype):
        """Return ``v`` as a numpy array."""
        return np.asarray(v, dtype=dtype)

    def full(self, n_samples, value, dtype):
        """Return a vector of ``n_samples`` copies of ``value``."""
        return np.full(n_samples, value, dtype=dtype)

    def matvec(self, X, w):
        """Return ``X @ w``."""
        return np.asarray(X @ w)

    def rmatvec(self, X, r):
        """Return ``X.T @ r`` (a CSC view of a CSR matrix: no copy)."""
        return np.asarray(X.T @ r)

    def weighted_mean(self, X, u):
        """Return the column means of X under weights ``u`` summing to one."""
        return np.asarray(X.T @ u)

    def weighted_centered_sq(self, X, u, mean):
        """Return ``sum_i u_i (X_ij - mean_j)**2`` per column.

        Computed as the sum over stored entries of u_i (x_ij - m_j)**2 plus
        m_j**2 times the weight of the rows where column j is zero, which avoids
        the cancellation of E[x**2] - m**2 when the mean dominates the spread.
        """
        n_features = X.shape[1]
        sq = np.zeros(n_features, dtype=X.dtype)
        weight_nz = np.zeros(n_features, dtype=X.dtype)
        indptr, indices, data = X.indptr, X.indices, X.data
        n_major = indptr.shape[0] - 1
        start = 0
        while start < n_major:
            # Take major-axis slices until the block holds about _BLOCK_NNZ entries.
            stop = int(np.searchsorted(indptr, indptr[start] + _BLOCK_NNZ, "right"))
            stop = min(max(stop - 1, start + 1), n_major)
            lo, hi = indptr[start], indptr[stop]
            major = np.repeat(np.arange(start, stop), np.diff(indptr[start : stop + 1]))
            minor = indices[lo:hi]
            if X.format == "csr":
                rows, cols = major, minor
            else:
                rows, cols = minor, major
            uw = u[rows]
            dev = data[lo:hi] - mean[cols]
            sq += np.bincount(
                cols, weights=uw * dev * dev, minlength=n_features
            ).astype(X.dtype, copy=False)
            weight_nz += np.bincount(cols, weights=uw, minlength=n_features).astype(
                X.dtype, copy=False
            )
            start = stop
        return sq + mean * mean * np.clip(1 - weight_nz, 0, None)

    def sparse_gram(self, X, u, mean):
        """Return ``C.T @ diag(u) @ C`` with ``C = X - mean``, dense ``p x p``.

        One sparse-times-sparse product ``X.T diag(u) X`` (X is never densified)
        and a rank-two correction for the centering. It is not called
        ``weighted_gram``: that name tells the planner the squared loss's Gram
        form pays on this backend, which the proximal Newton solver's Hessian
        does not imply.
        """
        scaled = sp.diags(np.sqrt(u)) @ X
        gram = np.asarray((scaled.T @ scaled).toarray())
        a = np.asarray(X.T @ u)
        s = float(np.sum(u))
        return gram - np.outer(a, mean) - np.outer(mean, a) + s * np.outer(mean, mean)

    def product_cost(self, X, axis):
        """Return the multiply-adds of ``X.T @ X`` (``axis=0``) or ``X @ X.T`` (1).

        A sparse product sums, over the index it contracts (the rows for
        ``X.T @ X``), the squared number of stored entries there.
        """
        major = X.format == ("csr" if axis == 0 else "csc")
        if major:
            counts = np.diff(X.indptr)
        else:
            counts = np.bincount(X.indices, minlength=X.shape[axis])
        counts = counts.astype(np.float64)
        return float(counts @ counts)

    def sparse_kernel(self, X, u, mean, active):
        """Return ``C C.T`` with ``C = diag(sqrt(u)) (X - mean) diag(active)``.

        Dense ``n x n``: one sparse-times-sparse product ``X X.T`` of the active
        columns (X is never densified) and a rank-two correction for the
        centering, ``(X - 1 m.T)(X - 1 m.T).T = X X.T - v 1.T - 1 v.T + (m.m) 1 1.T``
        with ``v = X m``. In float64 whatever X's dtype (the masked copy is made
        anyway), as the other closed forms on sparse X solve.
        """
        mask = np.asarray(active, dtype=np.float64)
        masked = X @ sp.diags(mask)
        m = np.asarray(mean) * mask
        v = np.asarray(masked @ m)
        K = np.asarray((masked @ masked.T).toarray())
        K -= v[:, None] + v[None, :] - float(m @ m)
        sqrt_u = np.sqrt(u)
        K *= sqrt_u[:, None] * sqrt_u[None, :]
        return K

    def take_rows(self, X, idx):
        """Return ``X[idx]``, still sparse and in X's format."""
        return X[idx]

    def take_columns(self, X, idx):
        """Return the columns ``idx`` of X, sparse, in X's format."""
        return X[:, idx]

    def hstack(self, blocks):
        """Return the column blocks side by side, in the first block's format."""
        return sp.hstack(blocks, format=blocks[0].format)

    def to_coef(self, x):
        """Return a coefficient-sized numpy array."""
        return np.asarray(x)
