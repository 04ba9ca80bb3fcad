# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Backend for dense arrays: numpy and any Array API namespace via array-api-compat.

X is only ever read, never copied or converted: products go straight to BLAS (or the
namespace's matmul), and per-column statistics are accumulated over row blocks so the
temporary memory stays a small fraction of X.
"""

from array_api_compat import array_namespace, device, is_numpy_array

# Rows per block are chosen so that one block holds about this many elements (512 kB
# of float64): large enough for vectorised speed, small next to any X worth a thought.
_BLOCK_ELEMENTS = 2**16
# On accelerators each block is a kernel launch: blocks 64 times larger keep the
# launches few while the temporaries stay a small fraction of a large X.
_DEVICE_BLOCK_ELEMENTS = 2**22


class DenseBackend:
    """Dense arrays of any Array API namespace (numpy included)."""

    def __init__(self, X):
        self.xp = self.coef_xp = array_namespace(X)
        self.device = device(X)
        self._block = _BLOCK_ELEMENTS if is_numpy_array(X) else _DEVICE_BLOCK_ELEMENTS

    def samples(self, v, dtype):
        """Return ``v`` as an array of this namespace and device."""
        return self.xp.asarray(v, dtype=dtype, device=self.device)

    def full(self, n_samples, value, dtype):
        """Return a vector of ``n_samples`` copies of ``value``."""
        return self.xp.full(n_samples, value, dtype=dtype, device=self.device)

    def matvec(self, X, w):
        """Return ``X @ w``."""
        return X @ w

    def rmatvec(self, X, r):
        """Return ``X.T @ r`` (a transposed view: BLAS reads X in place)."""
        return r @ X

    def weighted_mean(self, X, u):
        """Return the column means of X under weights ``u`` summing to one."""
        return u @ X

    def weighted_centered_sq(self, X, u, mean):
        """Return ``sum_i u_i (X_ij - mean_j)**2`` per column, block by block."""
        xp = self.xp
        n_samples, n_features = X.shape
        step = max(1, self._block // max(n_features, 1))
        out = xp.zeros(n_features, dtype=X.dtype, device=self.device)
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            centered = X[start:stop, :] - mean
            out = out + u[start:stop] @ (centered * centered)
        return out

    def weighted_gram(self, X, u, mean, uniform=False):
        """Return ``C.T @ diag(u) @ C`` with ``C = X - mean``, block by block.

        Each row block is centered in a temporary (X itself is never copied nor
        changed), so the result is free of the cancellation of ``X.T @ X - n m m.T``
        when column offsets dwarf their spread. ``C.T @ C`` of one array lets the
        BLAS use ``syrk``, half the work of a general product; with ``uniform``
        weights the scaling by ``u`` is applied once to the sum.
        """
        xp = self.xp
        n_samples, n_features = X.shape
        step = max(1, self._block // max(n_features, 1))
        out = xp.zeros((n_features, n_features), dtype=X.dtype, device=self.device)
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            centered = X[start:stop, :] - mean
            if not uniform:
                centered = centered * xp.sqrt(u[start:stop])[:, None]
            out = out + centered.T @ centered
        if uniform:
            out = out * u[0]
        return out

    def take_rows(self, X, idx):
        """Return ``X[idx]``: a view for a slice, a copy for an index array."""
        if isinstance(idx, slice):
            return X[idx, ...]
        if is_numpy_array(X):
            # numpy's take first copies a non-C-contiguous X (F order) whole, once
            # per batch; fancy indexing gathers only the batch's rows.
            return X[idx]
        return self.xp.take(X, idx, axis=0)

    def rmatvec_sum(self, X, r):
        """Return ``(X.T @ r, sum(r))``."""
        return self.rmatvec(X, r), float(self.xp.sum(r))

    def persist(self, *vectors):
        """Return ``vectors``: they are already in memory."""
        return vectors

    def reduce_rows(self, fn, X, *vectors):
        """Return ``fn(self, X, *vectors)``: the whole of X is one row block."""
        return fn(self, X, *vectors)

    def to_float(self, x):
        """Return a Python float."""
        return float(x)

    def to_floats(self, *xs):
        """Return Python floats."""
        return [float(x) for x in xs]
