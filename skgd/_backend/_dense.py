# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Backend for dense arrays: numpy and any Array API namespace via array-api-compat.

X is only ever read, never copied or converted: products go straight to BLAS (or the
namespace's matmul), and per-column statistics are accumulated over row blocks so the
temporary memory stays a small fraction of X.
"""

import sys
from functools import cache

import numpy as np
from array_api_compat import array_namespace, device, is_numpy_array
from scipy.linalg import get_lapack_funcs

from skgd._backend._in_memory import InMemoryBackend
from skgd._backend._split import halves

# Rows per block are chosen so that one block holds about this many elements (512 kB
# of float64): large enough for vectorised speed, small next to any X worth a thought.
_BLOCK_ELEMENTS = 2**16
# On accelerators each block is a kernel launch: blocks 64 times larger keep the
# launches few while the temporaries stay a small fraction of a large X.
_DEVICE_BLOCK_ELEMENTS = 2**22
# A product of X (matrix-vector, or by a few columns) is split into row blocks of at
# most this many multiply-adds, each one BLAS call: OpenBLAS runs such a call on the
# calling thread alone (0.3.30-0.3.31: up to about 400,000 elements of X for a
# matrix-vector product, threads from 500,000). skgd never changes the BLAS thread
# limit, which is one setting for the whole process (see _row_blocks).
_PRODUCT_ELEMENTS = 2**18
# Products larger than this (64 MB of float64 X for a matrix-vector product) are one
# call with the process's BLAS threads: each is milliseconds of memory-bound work
# on one core, which threads on idle cores divide (the more cores, the more they
# gain), and beside which the wait for a thread on a busy core is small.
_THREADED_PRODUCT_ELEMENTS = 2**23
# Linear systems up to this size are solved on the calling thread, in blocks of
# _SOLVE_BLOCK rows, which LAPACK factorizes on one thread (see solve_spd); a
# system of fewer than _LAPACK_THREADED_ROWS is one LAPACK factorization and solve.
_SERIAL_SOLVE_MAX = 256
_SOLVE_BLOCK = 64
# Below this many rows OpenBLAS's Cholesky factorization runs on the calling
# thread (from 128 rows it takes threads: 80 ms for 128 x 128 with the load
# average at 5 on 2 cores, against 0.1 ms below): one ``potrf`` and ``potrs``
# there, 46 us for 100 x 100 against 221 us for the blocks' numpy calls.
_LAPACK_THREADED_ROWS = 128
# From this many multiply-adds (about 1.5 ms on one core) a Gram matrix on
# numpy is summed in two halves of its row blocks, which a helper thread shares
# where a core is idle (see _numpy_gram). Below, the helper's start and sync
# cost more than its half: on idle cores (one process, alternating, medians of
# 7 rounds) 2,000 x 65 took 1.27x the time with it, 3,000 x 100 1.15x, while
# 5,000 x 100 took 0.85x, 5,000 x 200 0.71x and 20,000 x 200 0.59x.
_SPLIT_GRAM = 2**25


@cache
def _lapack(names, dtype):
    """Return ``get_lapack_funcs(names)`` for arrays of ``dtype``.

    The look-up costs more than the factorization of a small matrix, and a
    Newton solve makes one per step: it is made once per dtype.
    """
    return get_lapack_funcs(names, dtype=dtype)


@cache
def _eps(dtype):
    """Return the machine epsilon of ``dtype`` (looked up once per dtype)."""
    return float(np.finfo(dtype).eps)


def _is_numpy(a):
    """Return ``is_numpy_array(a)``, at once for a numpy array without JAX loaded.

    (JAX's zero-gradient arrays are numpy arrays that array-api-compat does not
    count as such; its test costs more than a Newton step's small solves.)
    """
    if type(a) is np.ndarray and "jax" not in sys.modules:
        return True
    return is_numpy_array(a)


def _row_blocks(X, width=1):
    """Return the row slices of X's products, or None for one whole call.

    A product split so runs on the calling thread: with the cores shared, a BLAS
    call on two threads waits for both (5,000 x 200 ``X @ w`` with the load
    average at 11 on 2 cores: 39 ms on two threads, 0.9 ms on one), and skgd makes
    many such calls per fit. The thread limit itself is left alone: it is
    process-wide, so lowering it around a call would slow and change the results
    of BLAS work in every other thread (OpenBLAS's sums depend on its thread
    count, in the last bits); with it fixed, every product gives the same bits
    whatever other threads do. Products above ``_THREADED_PRODUCT_ELEMENTS`` keep
    the process's threads, and only numpy arrays are split (other namespaces
    manage their own threads).
    """
    n_samples, n_features = X.shape
    size = n_samples * n_features * width
    # (The size first: array-api-compat's type test costs more than a small
    # product, which is one whole call whatever the namespace.)
    if not (_PRODUCT_ELEMENTS < size <= _THREADED_PRODUCT_ELEMENTS) or not (
        is_numpy_array(X)
    ):
        return None
    step = max(1, _PRODUCT_ELEMENTS // max(n_features * width, 1))
    return [slice(start, start + step) for start in range(0, n_samples, step)]


def serial_width(X, most):
    """Return the most columns, up to ``most``, of a product on the calling thread.

    A product of X by that many columns stays at most
    ``_THREADED_PRODUCT_ELEMENTS`` multiply-adds, so that :meth:`DenseBackend.rmatvec`
    splits it in row blocks on the calling thread (see :func:`_row_blocks`); at
    least 1 (a product by one column of a larger X keeps the process's threads).

    Examples
    --------
    >>> import numpy as np
    >>> serial_width(np.ones((2_000, 100)), 16), serial_width(np.ones((2_000, 300)), 16)
    (16, 13)
    """
    n_samples, n_features = X.shape
    return max(
        1, min(most, _THREADED_PRODUCT_ELEMENTS // max(n_samples * n_features, 1))
    )


def _column_blocks_rmatvec(X, r):
    """Return ``r @ X`` for a Fortran-ordered numpy X, by blocks of its columns.

    Each block is contiguous and small enough for OpenBLAS to keep on the
    calling thread (see :func:`_row_blocks`), and each entry is one dot product
    over all the rows: 0.80-0.88 ms on 5,000 x 500 against 0.91-1.11 ms by row
    blocks, whose rows are strided in F order.
    """
    n_samples, n_features = X.shape
    out = np.empty(n_features, dtype=np.result_type(X, r))
    step = max(1, _PRODUCT_ELEMENTS // max(n_samples, 1))
    for start in range(0, n_features, step):
        np.matmul(r, X[:, start : start + step], out=out[start : start + step])
    return out


def is_small_numpy_product(X, w):
    """Return whether ``X @ w`` and ``r @ X`` are single BLAS calls on numpy.

    That is, numpy's own products, what :meth:`DenseBackend.matvec` and
    ``rmatvec`` do for a numpy X and a vector ``w`` below ``_PRODUCT_ELEMENTS``
    entries: callers in a hot loop may make them directly.
    """
    return (
        type(X) is np.ndarray
        and w.ndim == 1
        and X.shape[0] * X.shape[1] <= _PRODUCT_ELEMENTS
    )


def solve_spd(A, b):
    """Return ``A^-1 b`` for a symmetric positive definite ``A``.

    Up to ``_SERIAL_SOLVE_MAX`` rows on numpy, by a Cholesky factorization in
    blocks of ``_SOLVE_BLOCK`` whose every BLAS and LAPACK call is small enough to
    run on the calling thread (LAPACK's own factorizations take threads from about
    128 rows on: a 201 x 201 solve took 58 ms with the load average at 21 on 2
    cores, against 1 ms on one thread); below ``_LAPACK_THREADED_ROWS`` (128)
    rows that is LAPACK's ``potrf`` and ``potrs`` alone (30 x 30: 5 us, against
    50 us for the blocks' numpy calls). Other arrays, larger systems and a
    factorization that fails go to the namespace's ``linalg.solve``.

    Parameters
    ----------
    A : array of shape (n, n)
        Symmetric positive definite.
    b : array of shape (n,) or (n, k)
        The right-hand side.

    Returns
    -------
    x : array of b's shape

    Examples
    --------
    >>> import numpy as np
    >>> solve_spd(np.array([[4.0, 2.0], [2.0, 3.0]]), np.array([2.0, 1.0]))
    array([0.5, 0. ])
    """
    if not is_numpy_array(A) or A.shape[0] > _SERIAL_SOLVE_MAX:
        return array_namespace(A, b).linalg.solve(A, b)
    if A.shape[0] < _LAPACK_THREADED_ROWS:
        return _lapack_solve_spd(A, b)
    x = np.array(b, dtype=np.result_type(A, b))
    starts = range(0, A.shape[0], _SOLVE_BLOCK)
    # A factorization that succeeds on a matrix singular to working precision can
    # still overflow: LAPACK's own solve then decides (error or not), as before.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            L, inverses = _blocked_cholesky(A)
        except np.linalg.LinAlgError:
            return np.linalg.solve(A, b)
        for k, inv in zip(starts, inverses, strict=True):  # L y = b
            e = k + _SOLVE_BLOCK
            x[k:e] = inv @ (x[k:e] - L[k:e, :k] @ x[:k])
        for k, inv in zip(starts[::-1], inverses[::-1], strict=True):  # L.T x = y
            e = k + _SOLVE_BLOCK
            x[k:e] = inv.T @ (x[k:e] - L[e:, k:e].T @ x[e:])
    if not np.all(np.isfinite(x)):
        return np.linalg.solve(A, b)
    return x


def _lapack_solve_spd(A, b):
    """Return :func:`solve_spd` of one block: LAPACK's ``potrf`` and ``potrs``."""
    dtype = np.result_type(A, b, np.float32)
    A, b = np.asarray(A, dtype=dtype), np.asarray(b, dtype=dtype)
    potrf, potrs = _lapack(("potrf", "potrs"), A.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        factor, info = potrf(A, lower=True, clean=False)
        if info == 0:
            x, info = potrs(factor, b, lower=True)
    if info != 0 or not np.all(np.isfinite(x)):
        return np.linalg.solve(A, b)
    return x


def psd_quadratic(A, b):
    """Return ``b.T A^+ b`` for a symmetric positive semi-definite ``A``.

    ``A^+`` is the pseudo-inverse: where ``A`` is singular to working precision
    (a column without curvature has a diagonal entry of rounding size, 1e-33),
    the rounding noise of ``b`` along its null space is cut, where a solve
    amplifies it (to 1e41). Up to ``_SOLVE_BLOCK`` rows on numpy, by a Cholesky
    factorization with complete pivoting (LAPACK's ``pstrf``), which stops at the
    numerical rank (pivots below ``n eps`` times the largest diagonal entry):
    ``b.T A^+ b = |L^-1 P.T b|**2`` over the leading ``rank`` pivots, for ``b``
    in the range of ``A``; where the factorization without pivoting has no
    pivot below that level (a full-rank ``A``, the usual case), that one's
    ``|L^-1 b|**2`` (:func:`_full_rank_quadratic`, half the cost). It runs on
    the calling thread; an eigendecomposition (the pseudo-inverse's) takes BLAS
    threads from 30 rows (31 x 31: 45-85 ms with the load average at 16 on 2
    cores, against 0.06 ms on one thread).
    Other arrays and larger matrices: the namespace's hermitian ``pinv``.

    Parameters
    ----------
    A : array of shape (n, n)
        Symmetric positive semi-definite.
    b : array of shape (n,)
        A vector in (or, to rounding, near) the range of ``A``.

    Returns
    -------
    value : float

    Examples
    --------
    >>> import numpy as np
    >>> psd_quadratic(np.array([[4.0, 0.0], [0.0, 0.0]]), np.array([2.0, 0.0]))
    1.0
    """
    if not _is_numpy(A):
        # (The standard's pinv has no ``hermitian``: array_api_strict refuses it.)
        return float(b @ (array_namespace(A, b).linalg.pinv(A) @ b))
    if A.shape[0] > _SOLVE_BLOCK:
        return float(b @ (np.linalg.pinv(A, hermitian=True) @ b))
    # (A Newton step's pair is float64 already: no conversions to make.)
    same = type(b) is np.ndarray and A.dtype == np.float64 == b.dtype
    if not same:
        A = np.asarray(A, dtype=np.result_type(A, b, np.float32))
        b = np.asarray(b, dtype=A.dtype)
    value = _full_rank_quadratic(A, b)
    if value is not None:
        return value
    pstrf, trtrs = _lapack(("pstrf", "trtrs"), A.dtype)
    factor, pivots, rank, info = pstrf(A, lower=True)
    if info < 0:  # (an argument LAPACK refuses: not expected)
        return float(b @ (np.linalg.pinv(A, hermitian=True) @ b))
    if rank == 0:
        return 0.0
    z = b[pivots[:rank] - 1]
    y, info = trtrs(factor[:rank, :rank], z, lower=True)
    return float(y @ y)


def _full_rank_quadratic(A, b):
    """Return ``b.T A^-1 b`` by LAPACK's ``potrf``, or None if ``A`` may be singular.

    The Cholesky factorization without pivoting costs half of ``pstrf`` (a
    30 x 30 Newton model: 2 against 4 us, and a step makes one). Its pivots
    ``L_kk**2`` are the diagonal entries of the Schur complements, which the
    pivoted factorization compares with its tolerance (``n eps`` times the
    largest diagonal entry of ``A``): where every one is above it, ``A`` has
    no pivot that ``pstrf`` would cut on that test, and ``A^+ = A^-1``. A
    column without curvature, or one that others reproduce, leaves a pivot of
    rounding size: None, and the caller's pivoted factorization decides.
    """
    potrf, trtrs = _lapack(("potrf", "trtrs"), A.dtype)
    factor, info = potrf(A, lower=True, clean=False)
    if info != 0:
        return None
    # (numpy's ufunc reductions: the arrays' methods cost more at this size.)
    low = float(np.minimum.reduce(factor.diagonal()))
    top = float(np.maximum.reduce(A.diagonal()))
    if not low * low > A.shape[0] * _eps(A.dtype) * top:
        return None
    y, info = trtrs(factor, b, lower=True)
    return float(y @ y) if info == 0 else None


def psd_solve(A, b, rtol=None):
    """Return a solution of ``A x = b`` for a symmetric positive semi-definite ``A``.

    Over the numerical rank of ``A`` (0 on the rest, which a ``b`` in its range
    does not need): pivots below ``rtol`` times the largest diagonal entry end
    it (None: ``n`` times A's ``eps``; a matrix made from float32 data needs
    float32's). By a Cholesky factorization with complete pivoting (LAPACK's
    ``pstrf``, as :func:`psd_quadratic`) on numpy up to ``_SOLVE_BLOCK`` rows:
    on the calling thread, where the pseudo-inverse's SVD of a 65 x 65 matrix
    took 0.1 s with the cores shared. Other arrays and larger matrices: the
    namespace's ``pinv``.

    Examples
    --------
    >>> import numpy as np
    >>> psd_solve(np.array([[4.0, 0.0], [0.0, 0.0]]), np.array([2.0, 0.0]))
    array([0.5, 0. ])
    """
    if not is_numpy_array(A) or A.shape[0] > _SOLVE_BLOCK + 1:
        return array_namespace(A, b).linalg.pinv(A, rtol=rtol) @ b
    pstrf, trtrs = _lapack(("pstrf", "trtrs"), A.dtype)
    top = float(np.max(np.diagonal(A))) if A.shape[0] else 0.0
    tol = -1.0 if rtol is None else rtol * top
    factor, pivots, rank, info = pstrf(A, lower=True, tol=tol)
    if info < 0:  # (an argument LAPACK refuses: not expected)
        return np.linalg.pinv(A, hermitian=True, rtol=rtol) @ b
    x = np.zeros_like(b)
    if rank == 0:
        return x
    order = pivots[:rank] - 1
    L = factor[:rank, :rank]
    z, _ = trtrs(L, b[order], lower=True)
    x[order], _ = trtrs(L, z, lower=True, trans=1)
    return x


def _blocked_cholesky(A):
    """Return the Cholesky factor of ``A`` and the inverses of its diagonal blocks.

    Right-looking, in blocks of ``_SOLVE_BLOCK``; the panels and the trailing
    updates are row chunks of ``gemm`` of at most ``_PRODUCT_ELEMENTS``
    multiply-adds, the size below which OpenBLAS keeps any product on the calling
    thread (strided operands included; see :func:`solve_spd`).
    """
    n = A.shape[0]
    W = np.array(A, dtype=np.result_type(A, np.float32))
    inverses = []
    for k in range(0, n, _SOLVE_BLOCK):
        e = min(k + _SOLVE_BLOCK, n)
        W[k:e, k:e] = np.linalg.cholesky(W[k:e, k:e])
        inverses.append(np.linalg.inv(W[k:e, k:e]))
        if e == n:
            break
        panel = np.empty((n - e, e - k), dtype=W.dtype)
        step = max(1, _PRODUCT_ELEMENTS // ((e - k) * (e - k)))
        for start in range(0, n - e, step):
            rows = slice(e + start, e + start + step)
            panel[start : start + step] = W[rows, k:e] @ inverses[-1].T
        W[e:, k:e] = panel
        twin = np.ascontiguousarray(panel.T)  # another buffer: gemm, not syrk
        step = max(1, _PRODUCT_ELEMENTS // ((n - e) * (e - k)))
        for start in range(0, n - e, step):
            W[e + start : e + start + step, e:] -= panel[start : start + step] @ twin
    return np.tril(W), inverses


def _numpy_gram(X, u, mean, uniform, target, step, g=None):
    """Compute :meth:`DenseBackend._gram` in numpy, with one reused block buffer.

    Each block's product is one ``syrk`` with the process's BLAS threads. Built
    instead from ``gemm`` blocks small enough for OpenBLAS to keep on the calling
    thread (51 rows at 100 columns), it cost 2x on a quiet machine (benchmark case
    13: 1.55x newton-cholesky's time against 0.71x), for a gain under load only.
    With ``g`` (no ``target``, weights not ``uniform``) it returns ``(G, X.T @ g,
    C.T @ u)`` instead (see :meth:`DenseBackend.gram_terms`): two matrix-vector
    products per block, on the rows of X and of the block that its ``syrk``
    has just read.

    From ``_SPLIT_GRAM`` multiply-adds on the blocks are summed in two fixed
    halves, the second on a helper thread where a core is idle (see
    :func:`~skgd._backend._split.halves`): the same bits on one thread or two.
    """
    n_samples, n_features = X.shape
    width = n_features + (target is not None)
    starts = range(0, n_samples, step)
    if n_samples * width * width < _SPLIT_GRAM or len(starts) < 2:
        buf = np.empty((min(step, n_samples), width), dtype=X.dtype)
        return _gram_blocks(X, u, mean, uniform, target, starts, step, buf, g)
    half = (len(starts) + 1) // 2
    # The buffers no half is filling: on one thread the second half reuses the
    # first's, which the cache holds (a second buffer cost 0.3 ms of 2.5).
    free = [np.empty((step, width), dtype=X.dtype)]
    first = free[0]

    def run(blocks):
        def part():
            buf = free.pop() if free else _aligned_like(first)
            out = _gram_blocks(X, u, mean, uniform, target, blocks, step, buf, g)
            free.append(buf)
            return out

        return part

    a, b = halves(run(starts[:half]), run(starts[half:]))
    if g is None:
        return a + b
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _aligned_like(a):
    """Return an empty array like ``a`` whose address is ``a``'s modulo 64 bytes.

    A helper thread's half of :func:`_numpy_gram` fills a buffer of its own:
    aligned alike, the BLAS kernels take the same path on both (a vector
    product's kernel may peel its loop to an alignment, which changes the
    arithmetic of the peeled entries).
    """
    raw = np.empty(a.nbytes + 64, dtype=np.uint8)
    offset = (a.ctypes.data - raw.ctypes.data) % 64
    return raw[offset : offset + a.nbytes].view(a.dtype).reshape(a.shape)


def _gram_blocks(X, u, mean, uniform, target, starts, step, buf, g):
    """Return :func:`_numpy_gram`'s sums over the row blocks at ``starts``."""
    n_samples, n_features = X.shape
    width = buf.shape[1]
    out = np.zeros((width, width), dtype=X.dtype)
    if g is not None:
        product = np.zeros(n_features, dtype=np.result_type(X, g))
        sums = np.zeros(n_features, dtype=X.dtype)
    for start in starts:
        stop = min(start + step, n_samples)
        block = buf[: stop - start]
        if mean is None:  # (uncentered: one pass over the rows, see gram_terms)
            root = np.sqrt(u[start:stop])
            np.multiply(X[start:stop, :], root[:, None], out=block)
        else:
            np.subtract(X[start:stop, :], mean, out=block[:, :n_features])
            if target is not None:
                block[:, n_features] = target[start:stop]
            if not uniform:
                root = np.sqrt(u[start:stop])
                block *= root[:, None]
        out += block.T @ block
        if g is not None:
            product += g[start:stop] @ X[start:stop, :]
            sums += root @ block  # (sqrt(u) C) weighted by sqrt(u): C.T u
    return out if g is None else (out, product, sums)


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
        """Return ``X @ w``, by row blocks on the calling thread (see _row_blocks)."""
        blocks = _row_blocks(X, 1 if w.ndim == 1 else w.shape[1])
        if blocks is None:
            return X @ w
        out = np.empty((X.shape[0],) + w.shape[1:], dtype=np.result_type(X, w))
        for rows in blocks:
            np.matmul(X[rows], w, out=out[rows])
        return out

    def rmatvec(self, X, r):
        """Return ``X.T @ r`` (a transposed view: BLAS reads X in place).

        A few columns of ``r`` go as ``(r.T @ X).T``: OpenBLAS's product of the
        transposed X by a skinny ``r`` took 0.57 ms on 20,000 x 50 x 2 on one
        thread, against 0.33 ms this way (two vector products: 0.26 ms).
        """
        blocks = _row_blocks(X, 1 if r.ndim == 1 else r.shape[1])
        if blocks is None:
            return r @ X if r.ndim == 1 else (r.T @ X).T
        if r.ndim == 1 and X.flags.f_contiguous:
            return _column_blocks_rmatvec(X, r)
        out = 0
        for rows in blocks:
            out = out + (r[rows] @ X[rows] if r.ndim == 1 else r[rows].T @ X[rows])
        return out if r.ndim == 1 else out.T

    def weighted_mean(self, X, u):
        """Return the column means of X under weights ``u`` summing to one.

        By row blocks on the calling thread, as :meth:`rmatvec`.
        """
        return self.rmatvec(X, u)

    def weighted_centered_sq(self, X, u, mean):
        """Return ``sum_i u_i (X_ij - mean_j)**2`` per column, block by block.

        Blocks of columns where X is a Fortran-ordered numpy array (each one
        contiguous: rows of it were 5x slower on 5,000 x 500), centered in one
        buffer that the cache keeps (a new one per block: 2.2 against 1.8 ms on
        5,000 x 500, the same numbers), of rows otherwise.
        """
        xp = self.xp
        n_samples, n_features = X.shape
        if is_numpy_array(X) and X.flags.f_contiguous:
            dtype = np.result_type(X, u, mean)
            out = np.empty(n_features, dtype=dtype)
            step = max(1, self._block // max(n_samples, 1))
            buf = np.empty((n_samples, min(step, n_features)), dtype=dtype, order="F")
            for start in range(0, n_features, step):
                block = X[:, start : start + step]
                centered = buf[:, : block.shape[1]]
                np.subtract(block, mean[start : start + step], out=centered)
                np.multiply(centered, centered, out=centered)
                out[start : start + step] = u @ centered
            return out
        step = max(1, self._block // max(n_features, 1))
        out = xp.zeros(n_features, dtype=X.dtype, device=self.device)
        in_place = is_numpy_array(X)
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            centered = X[start:stop, :] - mean
            if in_place:
                # Squared where it is, not into a second temporary: 2.8 ms
                # against 3.7 ms on 5,000 x 500 (one thread), the same bits.
                centered *= centered
            else:
                centered = centered * centered
            out = out + u[start:stop] @ centered
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
        # G as an array of its own: numpy's take of rows of the strided view
        # first copied all of it (144 us against 2 us for 8 rows of 500 x 500),
        # at each working set of a path.
        G = self.xp.asarray(full[:p, :p], copy=True)
        return G, full[:p, p], full[p, p]

    def gram_terms(self, X, g, h, mean):
        """Return the terms of a Newton model of a numpy X from one pass over it.

        ``(X.T @ g, sum(g), sum(h), C.T @ h, C.T @ diag(h) @ C, [])`` with ``C =
        X - mean``, as Dask's ``newton_terms`` returns them: each row block of
        X, read once, gives its part of the weighted Gram matrix (as
        :meth:`weighted_gram`) and of both products, where the gradient and the
        means under ``h`` cost a pass over X each. The caller recenters the Gram
        matrix at the means under ``h`` (a rank-one correction). ``mean`` None
        is ``C = X`` without the subtraction: each block is then made in one
        elementwise pass (``sqrt(h) X``), not two (0.25 against 0.45 ms of a
        2.2 ms Gram matrix of 5,000 x 100).
        """
        G, product, sums = self._gram(X, h, mean, False, None, g=g)
        return product, float(np.sum(g)), float(np.sum(h)), sums, G, []

    def _gram(self, X, u, mean, uniform, target, g=None):
        """Centered, weighted Gram matrix of X, with ``target`` as a last column.

        With ``g`` (numpy only) see :meth:`gram_terms`.
        """
        xp = self.xp
        n_samples, n_features = X.shape
        width = n_features + (target is not None)
        step = max(1, self._block // max(width, 1))
        if is_numpy_array(X):
            # Blocks of a fixed size in bytes (512 kB) for the syrk of a wide
            # Gram matrix: float32 blocks get twice the rows, which its syrk
            # needs to run at full speed (200,000 x 100, one thread: 51 ms with
            # 648 rows, 45 ms with 1296; float64: 89 ms).
            step = max(1, step * 8 // X.dtype.itemsize)
            # At least as many rows as columns: a block then holds no more than
            # the Gram matrix itself, and each syrk's multiply-adds per entry of
            # the result do not fall with the width (1,600 x 500, one thread:
            # 13.7 ms in blocks of 130 rows, 8.5 ms of 501).
            step = max(step, width)
            out = _numpy_gram(X, u, mean, uniform, target, step, g)
            if g is not None:
                return out
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
            # per batch; fancy indexing gathers only the batch's rows. On a
            # C-ordered X take gathers them in half the time (250 x 100: 6 us).
            return X.take(idx, axis=0) if X.flags.c_contiguous else X[idx]
        return self.xp.take(X, idx, axis=0)

    def take_columns(self, X, idx):
        """Return a copy of the columns ``idx`` of X (a working set's columns)."""
        # take beats fancy indexing by 2-4x on a C-ordered X (one gather per row),
        # but on a Fortran-ordered one it is 60x slower than copying the columns.
        if getattr(getattr(X, "flags", None), "f_contiguous", False):
            return X[:, idx]
        return self.xp.take(X, idx, axis=1)

    def take_columns_into(self, X, idx, out, start, offset=None):
        """Write the columns ``idx`` of X, less ``offset``, into rows of ``out``.

        ``out[start + i] = X[:, idx[i]] - offset[i]`` (``offset`` None: nothing
        taken off). From a Fortran-ordered numpy X each column is one contiguous
        read and one write: 0.44 ms for 112 columns of 5,000 rows, where a copy
        of the columns and then of their centered transpose took 0.70 ms (the
        same numbers). Elsewhere the columns are gathered first, as
        :meth:`take_columns`.
        """
        xp = self.xp
        stop = start + idx.shape[0]
        if is_numpy_array(X) and is_numpy_array(out) and X.flags.f_contiguous:
            columns = X.T
            for i, j in enumerate(idx.tolist(), start):
                if offset is None:
                    out[i, :] = columns[j]
                else:
                    np.subtract(columns[j], offset[i - start], out=out[i])
            return
        block = self.take_columns(X, idx)
        if offset is not None and is_numpy_array(out):
            np.subtract(block.T, offset[:, None], out=out[start:stop])
            return
        if offset is not None:
            block = block - offset
        out[start:stop, :] = xp.matrix_transpose(block)

    def hstack(self, blocks):
        """Return the column blocks side by side (a copy)."""
        return self.xp.concat(blocks, axis=1)

    def to_coef(self, x):
        """Return a coefficient-sized array in this namespace (already is)."""
        return x
