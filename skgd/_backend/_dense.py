# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Backend for dense arrays: numpy and any Array API namespace via array-api-compat.

X is only ever read, never copied or converted: products go straight to BLAS (or the
namespace's matmul), and per-column statistics are accumulated over row blocks so the
temporary memory stays a small fraction of X.
"""

import contextlib

import numpy as np
from array_api_compat import array_namespace, device, is_numpy_array

from skgd._backend._in_memory import InMemoryBackend

# Rows per block are chosen so that one block holds about this many elements (512 kB
# of float64): large enough for vectorised speed, small next to any X worth a thought.
_BLOCK_ELEMENTS = 2**16
# On accelerators each block is a kernel launch: blocks 64 times larger keep the
# launches few while the temporaries stay a small fraction of a large X.
_DEVICE_BLOCK_ELEMENTS = 2**22
# Below this many columns a Gram matrix block product runs on one BLAS thread (see
# serial_blas).
_SERIAL_GRAM_MAX_FEATURES = 256
# One thread-pool controller per process (creating one inspects the loaded
# libraries; entering its limit is cheap).
_CONTROLLER = []


def serial_blas(X=None, n_features=0):
    """Return a context in which numpy's BLAS runs on one thread.

    For small products (a p x p Gram matrix of a few hundred columns, a solve of
    that size), a second thread brings nothing: OpenBLAS splits a tall-skinny
    ``syrk`` over the p output columns, too few to share, and the product is
    memory-bound (200,000 x 100: 0.077 s on one thread, 0.085 s on two, machine
    otherwise idle). But a multithreaded BLAS call waits for all its threads, so
    when the cores are shared (other processes, parallel folds) each call can cost a
    scheduler time slice: with the load average at 8 on 2 cores, ``X.T @ X`` of
    50,000 x 100 took 0.30-2.0 s on two threads and 0.05 s on one; a 130 x 130 solve
    0.19 s on two threads and 0.1 ms on one.

    Parameters
    ----------
    X : array or None
        The data of the product: a non-numpy array (its own library's threads) or
        more than ``_SERIAL_GRAM_MAX_FEATURES`` columns get no limit.
    n_features : int
        The width of the product.
    """
    if X is not None and (
        not is_numpy_array(X) or n_features > _SERIAL_GRAM_MAX_FEATURES
    ):
        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _numpy_gram(X, u, mean, uniform, target, step):
    """Compute :meth:`DenseBackend._gram` in numpy, with one reused block buffer."""
    n_samples, n_features = X.shape
    width = n_features + (target is not None)
    dtype = X.dtype
    buf = np.empty((min(step, n_samples), width), dtype=dtype)
    out = np.zeros((width, width), dtype=dtype)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        block = buf[: stop - start]
        np.subtract(X[start:stop, :], mean, out=block[:, :n_features])
        if target is not None:
            block[:, n_features] = target[start:stop]
        if not uniform:
            block *= np.sqrt(u[start:stop])[:, None]
        out += block.T @ block
    return out


class DenseBackend(InMemoryBackend):
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
        """Return ``X.T @ r`` (a transposed view: BLAS reads X in place).

        A few columns of ``r`` go as ``(r.T @ X).T``: OpenBLAS's product of the
        transposed X by a skinny ``r`` took 0.57 ms on 20,000 x 50 x 2 on one
        thread, against 0.33 ms this way (two vector products: 0.26 ms).
        """
        return r @ X if r.ndim == 1 else (r.T @ X).T

    def weighted_mean(self, X, u):
        """Return the column means of X under weights ``u`` summing to one.

        On one BLAS thread for a few hundred columns, like the Gram matrix whose
        centering it feeds (see :func:`serial_blas`): 50,000 x 100 with the load
        average at 8 on 2 cores, 7.9 ms on one thread and 14.6 ms on two (float32:
        1.5 ms and 10 ms).
        """
        with serial_blas(X, X.shape[1]):
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
        return self._gram(X, u, mean, uniform, None)

    def weighted_gram_target(self, X, u, mean, target, uniform=False):
        """Return ``(G, q, yy)`` from one pass over X, G as :meth:`weighted_gram`.

        ``q = C.T @ diag(u) @ target`` and ``yy = target.T @ diag(u) @ target``,
        for a ``target`` already centered (``y`` minus its weighted mean): the
        target is one more column of each centered block, so the product that
        builds G also gives ``q`` and ``yy`` (no separate ``X.T @ y`` pass).
        """
        full = self._gram(X, u, mean, uniform, target)
        p = X.shape[1]
        return full[:p, :p], full[:p, p], full[p, p]

    def _gram(self, X, u, mean, uniform, target):
        """Centered, weighted Gram matrix of X, with ``target`` as a last column."""
        xp = self.xp
        n_samples, n_features = X.shape
        width = n_features + (target is not None)
        step = max(1, self._block // max(width, 1))
        with serial_blas(X, n_features):
            if is_numpy_array(X):
                # Blocks of a fixed size in bytes (512 kB): float32 blocks get twice
                # the rows, which its syrk needs to run at full speed (200,000 x 100,
                # one thread: 51 ms with 648 rows, 45 ms with 1296; float64: 89 ms).
                step = max(1, step * 8 // X.dtype.itemsize)
                out = _numpy_gram(X, u, mean, uniform, target, step)
            else:
                out = xp.zeros((width, width), dtype=X.dtype, device=self.device)
                for start in range(0, n_samples, step):
                    stop = min(start + step, n_samples)
                    centered = X[start:stop, :] - mean
                    if target is not None:
                        column = xp.astype(target[start:stop], X.dtype)[:, None]
                        centered = xp.concat([centered, column], axis=1)
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

    def take_columns(self, X, idx):
        """Return a copy of the columns ``idx`` of X (a working set's columns)."""
        # take beats fancy indexing by 2-4x on a C-ordered X (one gather per row),
        # but on a Fortran-ordered one it is 60x slower than copying the columns.
        if getattr(getattr(X, "flags", None), "f_contiguous", False):
            return X[:, idx]
        return self.xp.take(X, idx, axis=1)

    def hstack(self, blocks):
        """Return the column blocks side by side (a copy)."""
        return self.xp.concat(blocks, axis=1)

    def to_coef(self, x):
        """Return a coefficient-sized array in this namespace (already is)."""
        return x
