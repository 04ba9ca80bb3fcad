# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""BLAS threads of a full-batch fit: one thread for a fit of small calls, alone.

A full-batch fit on a dense numpy X of at most ``_SERIAL_FIT_MAX_FEATURES``
columns and ``_THREADED_PRODUCT_ELEMENTS`` entries makes only small BLAS calls:
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
"""

import contextlib
import threading

from array_api_compat import is_numpy_array

from skgd._backend._dense import _THREADED_PRODUCT_ELEMENTS
from skgd._backend._split import serial_limit

# The widest X whose fit runs on one BLAS thread: its Gram matrices' blocks of
# 512 kB are below 2**24 multiply-adds (under a millisecond on one core), and
# Newton's solves of up to 256 unknowns already run on the calling thread.
_SERIAL_FIT_MAX_FEATURES = 256
# One thread-pool controller per process: creating one inspects the loaded
# libraries (milliseconds); entering its limit is a few calls into each.
_CONTROLLER = []


def serial_fit(X):
    """Return whether a full-batch fit on X makes only small BLAS calls.

    Parameters
    ----------
    X : array
        The validated design matrix.

    Returns
    -------
    bool
        True for a numpy X of at most ``_SERIAL_FIT_MAX_FEATURES`` columns and
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
    return (
        n_features <= _SERIAL_FIT_MAX_FEATURES
        and n_samples * n_features <= _THREADED_PRODUCT_ELEMENTS
    )


def _alone():
    """Return whether the caller is the main thread and the process's only one."""
    return (
        threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


def fit_threads(X):
    """Return the context of a full-batch fit on X: its BLAS thread limit.

    One BLAS thread when :func:`serial_fit` holds and the caller is the main
    thread of a process with no other Python thread; otherwise nothing changes.
    The previous limit is restored when the context ends, by an exception too.

    Parameters
    ----------
    X : array
        The data the fit is about to solve on.

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
    if not serial_fit(X) or not _alone():
        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return serial_limit(_CONTROLLER[0].limit(limits=1, user_api="blas"))
