# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""BLAS threads of a full-batch fit: one thread for a fit of small calls, alone.

A full-batch fit on a dense numpy X of at most ``_SERIAL_FIT_MAX_FEATURES``
columns (``_SERIAL_GRAM_PATH_MAX_FEATURES`` for a regularization path in the Gram
form) and ``_THREADED_PRODUCT_ELEMENTS`` entries makes only small BLAS calls:
its products of X and its linear solves already run on the calling thread (see
``_dense._row_blocks`` and ``solve_spd``), and the blocks of its Gram matrices
are ``syrk`` calls of under a millisecond each. A call on several threads waits
for all of them, so when other processes share the cores every such call can
cost a scheduler time slice: a binary log-loss fit of 5,000 x 200 took 0.96 s on
OpenBLAS's 2 threads and 0.17 s on one with the load average at 7 on 2 cores. On
idle cores the second thread saves at most half of the Gram blocks' work, which
a helper thread takes where a core is idle (:mod:`skgd._backend._split`).

Such a fit therefore runs with numpy's BLAS limited to one thread, through
threadpoolctl, for its duration, restored when it ends or fails. The limit is
one setting for the whole process, so it is only taken when nothing else can
see it: the fit runs on the main thread and the process has no other Python
thread (a BLAS call of another thread would run at the fit's limit, and change
its last bits). Otherwise, and for larger fits, the limit is left as it is.
The limit is entered through :func:`~skgd._backend._split.serial_limit`, which
tells the Gram matrices of the fit that they may use that helper.

The quasi-Newton solver's own work (scipy's L-BFGS-B, on vectors of the
coefficients' size) is small calls whatever X's size: :func:`serial_solver`
runs it on one BLAS thread on the same terms, and :func:`product_threads`
gives the products of a numpy X above ``_THREADED_PRODUCT_ELEMENTS`` the
process's threads back for their duration.
"""

import contextlib
import threading

from array_api_compat import is_numpy_array

from skgd._backend._dense import _PRODUCT_ELEMENTS, _THREADED_PRODUCT_ELEMENTS
from skgd._backend._sparse import is_sparse
from skgd._backend._split import _SERIAL, serial_limit

# The widest X whose fit runs on one BLAS thread: its Gram matrices' blocks of
# 512 kB are below 2**24 multiply-adds (under a millisecond on one core), and
# Newton's solves of up to 256 unknowns already run on the calling thread.
_SERIAL_FIT_MAX_FEATURES = 256
# The widest X whose regularization path in the Gram form runs on one BLAS thread.
# Past the Gram matrix such a path computes only on G's rows of its working sets
# (products and coordinate descent of set-sized blocks), and G's 512 kB row blocks
# are syrk calls of at most 2**24 multiply-adds up to 512 columns. On 2 cores under
# load (average 3-5) the Gram matrix of 1,600 x 500 took 80-100 ms on OpenBLAS's 2
# threads against 14 ms on one.
_SERIAL_GRAM_PATH_MAX_FEATURES = 512
# The BLAS libraries' controllers of one thread-pool controller per process:
# creating it inspects the loaded libraries (milliseconds).
_BLAS = []
# While serial_solver holds one BLAS thread: the thread counts it replaced.
_REPLACED = []


def serial_fit(X, gram_path=False):
    """Return whether a full-batch fit on X makes only small BLAS calls.

    Parameters
    ----------
    X : array
        The validated design matrix.
    gram_path : bool, default=False
        Whether the fit is a regularization path in the Gram form, whose calls
        stay small up to ``_SERIAL_GRAM_PATH_MAX_FEATURES`` columns.

    Returns
    -------
    bool
        True for a numpy X of at most ``_SERIAL_FIT_MAX_FEATURES`` columns (or
        ``_SERIAL_GRAM_PATH_MAX_FEATURES`` for a Gram path) and
        ``_THREADED_PRODUCT_ELEMENTS`` entries.

    Examples
    --------
    >>> import numpy as np
    >>> serial_fit(np.ones((5_000, 200))), serial_fit(np.ones((100, 1_000)))
    (True, False)
    """
    if not is_numpy_array(X) or X.ndim != 2:
        return False
    n_samples, n_features = X.shape
    widest = _SERIAL_GRAM_PATH_MAX_FEATURES if gram_path else _SERIAL_FIT_MAX_FEATURES
    return n_features <= widest and n_samples * n_features <= _THREADED_PRODUCT_ELEMENTS


def _alone():
    """Return whether the caller is the main thread and the process's only one."""
    return (
        threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


def fit_threads(X, gram_path=False):
    """Return the context of a full-batch fit on X: its BLAS thread limit.

    One BLAS thread when :func:`serial_fit` holds and the caller is the main
    thread of a process with no other Python thread; otherwise nothing changes.
    The previous limit is restored when the context ends, by an exception too.

    Parameters
    ----------
    X : array
        The data the fit is about to solve on.
    gram_path : bool, default=False
        Whether the fit is a regularization path in the Gram form (see
        :func:`serial_fit`).

    Returns
    -------
    context : context manager
        threadpoolctl's limit, or a context that does nothing.

    Examples
    --------
    >>> import numpy as np
    >>> with fit_threads(np.ones((5_000, 200))):
    ...     pass
    """
    if not serial_fit(X, gram_path) or not _alone():
        return contextlib.nullcontext()
    return serial_limit(_SetThreads(_blas(), 1))


def _blas():
    """Return the process's BLAS thread-pool controllers (found on first use)."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        controllers = ThreadpoolController().lib_controllers
        _BLAS.append([c for c in controllers if c.user_api == "blas"])
    return _BLAS[0]


class _SetThreads:
    """threadpoolctl's ``limit(..., user_api="blas")``, less its survey.

    The limiter reads every library's full information (version, threading
    layer, architecture: a dozen calls into them) before it sets the limit,
    about 20 us, most of the fixed cost of a fit on a small X; this reads and
    sets only the BLAS libraries' thread counts, and restores them on exit.
    ``counts`` is one count for every library, or a list of one per library.
    """

    def __init__(self, controllers, counts):
        self.controllers = controllers
        if isinstance(counts, int):
            counts = [counts] * len(controllers)
        self.counts = counts

    def __enter__(self):
        self.saved = [c.get_num_threads() for c in self.controllers]
        for c, n in zip(self.controllers, self.counts, strict=True):
            c.set_num_threads(n)
        return self

    def __exit__(self, *exc):
        for c, n in zip(self.controllers, self.saved, strict=True):
            c.set_num_threads(n)


@contextlib.contextmanager
def serial_solver(X):
    """Run the body, a solver's own small BLAS calls, on one BLAS thread.

    scipy's L-BFGS-B makes a dozen BLAS and LAPACK calls per iteration on vectors
    of the coefficients' size (its own library's pool): each on two threads
    waits for both, and with the cores shared each wait can cost a scheduler
    time slice. Measured with OpenBLAS's 2 threads on 2 cores under a load
    average of 6, 30 iterations on 501 variables (a quadratic): 160-560 ms
    against 16-25 ms on one thread; on 1,001 variables 1.7-1.9 s against 34-40
    ms. The limit is taken on the terms of :func:`fit_threads` (a numpy or
    scipy.sparse X, the main thread, no other Python thread), at any width; a
    limit already held (:func:`fit_threads`, or an outer call) is kept as it
    is.

    Parameters
    ----------
    X : {array, sparse matrix}
        The data the solver runs on.

    Examples
    --------
    >>> import numpy as np
    >>> with serial_solver(np.ones((5_000, 500))):
    ...     pass
    """
    if _REPLACED or not _in_memory(X) or not _alone():
        yield
        return
    blas = _blas()
    _REPLACED.append([c.get_num_threads() for c in blas])
    try:
        with _SetThreads(blas, 1):
            yield
    finally:
        _REPLACED.pop()


def serial_product(X, R):
    """Return ``X.T @ R`` as one BLAS call on one thread, or None where it may not be.

    For products that are matrices (the Gram matrix of a working set's columns):
    OpenBLAS runs a ``gemm`` above about 2**18 multiply-adds on all its threads,
    which with the cores shared waits for both (see ``_row_blocks``), so the
    backend splits it into row blocks of that size and 16 columns, calls of a
    few microseconds each at a fraction of the kernel's speed. One call on one
    thread is that kernel at full speed: the products of a 62- then 112-column
    set of a 5,000-row X (benchmark case 16) took 2.9 ms of CPU in all against
    3.9 ms in blocks (2.2 ms with a ``syrk`` for each new block). The limit is
    taken on the terms of :func:`serial_solver` (kept where a fit or solver
    already holds it), for a numpy X of at most ``_THREADED_PRODUCT_ELEMENTS``
    entries, the size of the products that run on the calling thread anyway;
    elsewhere None, and the caller goes on in blocks.

    Parameters
    ----------
    X : array of shape (n_samples, k)
        The left factor, transposed.
    R : array of shape (n_samples, m)
        The right factor.

    Returns
    -------
    product : array of shape (k, m) or None
        ``X.T @ R``, or None.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> P = serial_product(X, X)  # (None while another thread runs)
    >>> P is None or bool((P == X.T @ X).all())
    True
    """
    if not (is_numpy_array(X) and is_numpy_array(R)):
        return None
    if X.shape[0] * X.shape[1] > _THREADED_PRODUCT_ELEMENTS:
        return None
    if _REPLACED or _SERIAL[0]:
        return X.T @ R
    if not _alone():
        return None
    if X.shape[0] * X.shape[1] * R.shape[1] <= _PRODUCT_ELEMENTS:
        # OpenBLAS runs it on the calling thread whatever the limit (see
        # _dense._PRODUCT_ELEMENTS): the same bits, without the limit's four
        # threadpoolctl calls (11 us, where a working set's few new columns
        # on a 100 x 2,000 path take 2 us).
        return X.T @ R
    with serial_solver(X):
        return X.T @ R


def serial_products(X, width=1):
    """Return whether the products of a numpy X by ``width`` vectors use one thread.

    Up to ``_THREADED_PRODUCT_ELEMENTS`` multiply-adds the backend runs them on
    the calling thread (see ``_dense._row_blocks``); above, on the threads the
    process had, which is one where :func:`serial_solver` replaced a limit of
    one (a caller's own limit, as the benchmarks set).

    Parameters
    ----------
    X : {array, sparse matrix}
        The data.
    width : int, default=1
        The number of vectors X multiplies.

    Returns
    -------
    bool
        Whether X is a numpy array whose products by ``width`` vectors run on
        one thread.

    Examples
    --------
    >>> import numpy as np
    >>> serial_products(np.ones((100, 10)), 8)
    True
    """
    if not is_numpy_array(X) or X.ndim != 2:
        return False
    if X.shape[0] * X.shape[1] * width <= _THREADED_PRODUCT_ELEMENTS:
        return True
    return bool(_REPLACED) and all(count == 1 for count in _REPLACED[-1])


def product_threads(X, width=1):
    """Return the context of a product of X by ``width`` vectors in a solver.

    Inside :func:`serial_solver`, a product of a numpy X above
    ``_THREADED_PRODUCT_ELEMENTS`` (one BLAS call on the process's threads, see
    ``_dense._row_blocks``) gets back the limits that it replaced; elsewhere
    nothing changes.

    Parameters
    ----------
    X : {array, sparse matrix}
        The data.
    width : int, default=1
        The number of vectors X multiplies.

    Returns
    -------
    context : context manager
        The replaced thread counts, or a context that does nothing.
    """
    if not _REPLACED or not is_numpy_array(X):
        return contextlib.nullcontext()
    if X.shape[0] * X.shape[1] * width <= _THREADED_PRODUCT_ELEMENTS:
        return contextlib.nullcontext()
    return _SetThreads(_blas(), _REPLACED[-1])


def _in_memory(X):
    """Return whether X is a numpy array or a scipy.sparse matrix."""
    return is_numpy_array(X) or is_sparse(X)
